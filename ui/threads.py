"""Torch thread settings for the app: training runs in background threads of the web server's
process, so torch must leave a core to the server (on a 2-core machine: one torch thread), and
jobs training at once share the other cores (``otcore.threads`` re-applies its own rule before
every step of an ``otcore.Trainer``; other trainers keep what :func:`configure` set at their start)."""
from __future__ import annotations

import os
import sys
import threading

ENV = "OTFLOW_TORCH_THREADS"
#: added to a training job's niceness, so the web server's own threads (page runs) come first
JOB_NICENESS = 10


def app_threads(cpus: int | None = None, jobs: int = 1) -> int:
    """Threads torch should use in one job of the app: ``$OTFLOW_TORCH_THREADS`` when set, else all
    cores but one shared by the ``jobs`` training at once (at least 1)."""
    env = os.environ.get(ENV, "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    cpus = cpus or os.cpu_count() or 1
    return max(1, (cpus - 1) // max(1, jobs))


def configure(jobs: int = 1) -> int:
    """Set torch's intra-op thread count (idempotent); returns it. Call it in every thread that runs
    torch work (a training job's worker included, with the number of jobs training now): OpenMP
    keeps the setting per thread."""
    import torch

    n = app_threads(jobs=jobs)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def configure_if_loaded() -> None:
    """:func:`configure` when torch is already imported (so a page without torch stays light)."""
    if "torch" in sys.modules:
        configure()


def lower_priority(by: int = JOB_NICENESS) -> bool:
    """Raise the calling thread's niceness by ``by`` (at most 19). On Linux niceness belongs to each
    thread and the threads it starts inherit it (the warm start's pairing thread), so a training
    job yields the CPU to the server's page runs. Returns whether it took (False elsewhere)."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + by))
        return True
    except (AttributeError, OSError):
        return False
