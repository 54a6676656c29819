"""A server-wide cap on background jobs that train at once, with a first-come queue.

Every session's jobs share one :data:`POOL` (the app runs in one process). A job that asks to run
while ``cap`` jobs already run waits in the queue, and starts by itself when a slot frees. The cap is
``$OTFLOW_MAX_JOBS`` when set, else all cores but one (at least 1): training threads then leave a core
to the web server, so pages keep rendering.

Trainings in processes of their own (the Train page's jobs, ``ui.cli_job``) take slots too: the
pool asks ``external()`` how many run, and a queued job starts once one of them has ended and a
page asks again (``queue_position`` polls).

The pool knows jobs only through two methods: ``_begin()`` (start training now; False when the
job no longer wants to) and ``_wanted()`` (False once its browser session is gone: skipped).
Locks: the pool never calls a job while holding its own lock, and a job never calls the pool while
holding the job's lock, so two jobs starting and stopping at once cannot deadlock.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable, Protocol

ENV = "OTFLOW_MAX_JOBS"


class Runnable(Protocol):
    def _begin(self) -> bool: ...
    def _wanted(self) -> bool: ...


def default_cap(cores: int | None = None) -> int:
    """``$OTFLOW_MAX_JOBS`` when it is a positive integer, else max(1, cores − 1)."""
    env = os.environ.get(ENV, "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise ValueError(f"${ENV} must be a positive whole number of jobs, not {env!r}")
        return int(env)
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
    return max(1, cores - 1)


class Pool:
    """At most ``cap`` jobs run; the others wait in arrival order. Thread-safe.

    ``cap=None`` reads :func:`default_cap` at every decision (so a changed environment applies)."""

    def __init__(self, cap: int | None = None, external: Callable[[], int] = lambda: 0):
        if cap is not None and cap < 1:
            raise ValueError(f"a pool needs room for at least one job, not {cap}")
        self._cap = cap
        self.external = external   # trainings that run outside the pool (job processes)
        self._lock = threading.Lock()
        self._running: list[Any] = []
        self._queue: list[Any] = []

    @property
    def cap(self) -> int:
        return self._cap if self._cap is not None else default_cap()

    def submit(self, job: Runnable) -> bool:
        """Run ``job`` now when a slot is free (True), else queue it (False)."""
        outside = self.external()
        with self._lock:
            if job in self._running:
                return True
            if len(self._running) + outside < self.cap and not self._queue:
                self._running.append(job)
                go = True
            else:
                if job not in self._queue:
                    self._queue.append(job)
                go = False
        if go and not job._begin():
            self.release(job)
        self._fill()
        return go

    def release(self, job: Runnable) -> None:
        """``job`` stopped running (or never will): free its slot or its place, start the next."""
        with self._lock:
            if job in self._running:
                self._running.remove(job)
            if job in self._queue:
                self._queue.remove(job)
        self._fill()

    def position(self, job: Runnable) -> int | None:
        """1 for the next job to start, 2 after it …; None when ``job`` is not waiting (asking
        first starts queued jobs that a slot freed outside the pool now leaves room for)."""
        self._fill()
        with self._lock:
            return self._queue.index(job) + 1 if job in self._queue else None

    def jobs(self) -> list[Any]:
        """The jobs running, then those waiting."""
        with self._lock:
            return self._running + self._queue

    def counts(self) -> tuple[int, int]:
        """(jobs running, jobs waiting)."""
        with self._lock:
            return len(self._running), len(self._queue)

    def _fill(self) -> None:
        """Start queued jobs while slots are free; jobs nobody wants any more are dropped."""
        while True:
            outside = self.external() if self._queue else 0
            with self._lock:
                if not self._queue or len(self._running) + outside >= self.cap:
                    return
                job = self._queue.pop(0)
                if not job._wanted():
                    continue
                self._running.append(job)
            if not job._begin():
                with self._lock:
                    if job in self._running:
                        self._running.remove(job)


#: the app's pool: one per server process
POOL = Pool()
