"""Torch thread settings for the app: training runs in background threads of the web server's
process, so torch must leave a core to the server (on a 2-core machine: one torch thread)."""
from __future__ import annotations

import os
import sys

ENV = "OTFLOW_TORCH_THREADS"


def app_threads(cpus: int | None = None) -> int:
    """Threads torch should use in the app: ``$OTFLOW_TORCH_THREADS`` when set, else all cores but
    one (at least 1)."""
    env = os.environ.get(ENV, "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    cpus = cpus or os.cpu_count() or 1
    return max(1, cpus - 1)


def configure() -> int:
    """Set torch's intra-op thread count (idempotent); returns it. Call it in every thread that runs
    torch work (a training job's worker included): OpenMP keeps the setting per thread."""
    import torch

    n = app_threads()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def configure_if_loaded() -> None:
    """:func:`configure` when torch is already imported (so a page without torch stays light)."""
    if "torch" in sys.modules:
        configure()
