"""How many torch threads a trainer uses: one rule, applied by the engine itself.

Torch's intra-op thread count is a per-thread OpenMP setting, and the warm start's CPU pairing
thread (POT's exact solver) needs a core of its own while it solves. Left alone, torch takes every
core in every training thread, and two trainers on 2 cores were measured ~10× slower than one.

The rule: with ``c`` usable cores, ``k`` trainers training at once in this process and ``s`` CPU
pairing threads among them, each trainer's thread gets

    max(1, (c − s) // k)

torch threads (on 2 cores, one trainer with exact pairing: 1 thread; 16 cores: 15). An explicit
``FlowConfig.threads`` > 0 is honoured instead, and ``$OTFLOW_TORCH_THREADS`` (the app's setting)
caps the rule. The count is re-applied before every step, so it follows trainers starting and
finishing.
"""
from __future__ import annotations

import os
import threading

import torch

ENV = "OTFLOW_TORCH_THREADS"
_lock = threading.Lock()
_active: dict[int, bool] = {}   # id(trainer) -> whether it runs a CPU pairing thread now


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def rule(cores: int, trainers: int, pairing_threads: int) -> int:
    """Torch threads per training thread: max(1, (cores − pairing_threads) // trainers)."""
    return max(1, (cores - pairing_threads) // max(1, trainers))


def register(owner: object, cpu_pairing: bool) -> None:
    """Count ``owner`` as training now (with a CPU pairing thread or not); idempotent."""
    with _lock:
        _active[id(owner)] = cpu_pairing


def unregister(owner: object) -> None:
    with _lock:
        _active.pop(id(owner), None)


def apply(requested: int = 0) -> int:
    """Set this thread's torch thread count by the rule (or to ``requested`` > 0); returns it."""
    if requested > 0:
        n = requested
    else:
        with _lock:
            n = rule(usable_cores(), len(_active), sum(_active.values()))
        cap = os.environ.get(ENV, "").strip()
        if cap.isdigit() and int(cap) > 0:
            n = min(n, int(cap))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
