"""Background training jobs for one browser session (generic: flows, autoencoders, ratio nets …).

A :class:`Job` pulls a *step iterator* in a daemon thread: any iterator whose items are metrics
(an ``otcore.StepMetrics`` or a plain ``dict`` of floats). The page stays responsive, a Stop takes
effect at the next step, Resume continues the *same* iterator (nothing trained is lost), Reset
throws it away. Jobs live in ``st.session_state`` under a key the caller chooses, so several jobs
coexist in one session and two browser tabs (two sessions) never share one.

Usage from a page::

    from ui import jobs

    job = jobs.get_job("train")                 # created on first use, per session
    def steps():                                # the factory, called once, in the worker thread
        trainer = otcore.Trainer(P, Q, cfg)
        job.context["trainer"] = trainer        # keep what you will want to read later
        yield from trainer.run()                # any iterator of metrics
        if trainer.stop_reason:                 # a divergence becomes the job's error;
            raise jobs.Diverged(trainer.stop_reason)   # the trainer (and its weights) stays in context
    if st.button("Start", key="start"):
        job.start(steps, context={"pair_id": 7})   # resets a previous run first; context optional
    job.stop(); job.resume(); job.reset()
    flow = job.call(lambda: job.context["trainer"].flow)   # read safely *between* two steps
    job.status      # 'idle' | 'running' | 'stopping' | 'stopped' | 'finished' | 'failed' | 'diverged'
    job.error       # message of the exception / divergence, else None
    job.history     # copy of the metrics so far;  jobs.as_row(m) flattens one for tables and charts

``job.call(fn)`` runs ``fn`` in the worker between two steps while the job runs (so snapshots
never see half-updated weights) and directly otherwise. ``job.wait(timeout)`` blocks until the
worker thread has ended (tests). ``ui.live.live_panel`` draws a job's history live.
"""
from __future__ import annotations

import math
import threading
import time
import traceback
from concurrent.futures import Future
from dataclasses import asdict, is_dataclass
from typing import Any, Callable, Iterator

IDLE, RUNNING, STOPPING, STOPPED, FINISHED, FAILED, DIVERGED = (
    "idle", "running", "stopping", "stopped", "finished", "failed", "diverged")
ACTIVE = (RUNNING, STOPPING)

Factory = Callable[[], Iterator[Any]]


class Diverged(RuntimeError):
    """Raise from a step iterator to end the job with status 'diverged' and this message."""


class Job:
    """One background run. Thread-safe; see the module docstring for the life cycle."""

    def __init__(self, name: str = "job"):
        self.name = name
        self._lock = threading.RLock()
        self._requests: list[tuple[Callable[[], Any], Future]] = []
        self._reset_fields()

    def _reset_fields(self) -> None:
        self.context: dict[str, Any] = {}
        self._history: list[Any] = []
        self._rows: list[dict[str, Any]] = []
        self._iterator: Iterator[Any] | None = None
        self._factory: Factory | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.status = IDLE
        self.error: str | None = None
        self.traceback: str | None = None
        self.generation = getattr(self, "generation", 0) + 1
        self.started_at: float | None = None     # time.time() of the first start
        self.last_step_at: float | None = None   # time.time() of the latest step
        self.run_seconds = 0.0                   # wall time spent inside the worker loop

    # --- reading -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.status in ACTIVE

    @property
    def history(self) -> list[Any]:
        with self._lock:
            return list(self._history)

    def rows(self) -> list[dict[str, Any]]:
        """The history flattened by :func:`as_row` (computed incrementally; a new list each call)."""
        with self._lock:
            items = self._history[len(self._rows):]
            start, gen = len(self._rows), self.generation
        fresh = [as_row(m, start + i) for i, m in enumerate(items)]
        with self._lock:
            if len(self._rows) == start and gen == self.generation:
                self._rows.extend(fresh)
            return list(self._rows)

    @property
    def steps(self) -> int:
        return len(self._history)

    @property
    def latest(self) -> Any | None:
        with self._lock:
            return self._history[-1] if self._history else None

    @property
    def can_resume(self) -> bool:
        return self.status == STOPPED and self._iterator is not None

    # --- control -----------------------------------------------------------------------------
    def start(self, factory: Factory, context: dict[str, Any] | None = None) -> None:
        """Start a fresh run (a previous run of this job is reset first); ``context`` seeds
        ``job.context`` before the worker starts."""
        self.reset()
        with self._lock:
            self.context.update(context or {})
            self._factory = factory
            self.started_at = time.time()
            self._launch()

    def resume(self) -> None:
        """Continue a stopped run with the same iterator."""
        with self._lock:
            if self.status != STOPPED or self._iterator is None:
                raise RuntimeError(f"cannot resume a job that is {self.status}")
            self._launch()

    def stop(self, wait: float | None = None) -> None:
        """Ask the worker to stop after the current step (optionally wait up to ``wait`` seconds)."""
        with self._lock:
            if self.status == RUNNING:
                self.status = STOPPING
                self._stop.set()
            thread = self._thread
        if wait and thread is not None:
            thread.join(wait)

    def reset(self, wait: float = 10.0) -> None:
        """Stop and forget the run (history, context, error). A worker that does not stop within
        ``wait`` seconds is abandoned: whatever it still produces is ignored."""
        self.stop(wait=wait)
        with self._lock:
            iterator = self._iterator
            alive = self._thread is not None and self._thread.is_alive()
            self._fail_requests("the job was reset")
            self._reset_fields()
        close = getattr(iterator, "close", None)
        if close is not None and not alive:
            try:
                close()
            except Exception:  # noqa: BLE001 - closing a finished generator must never break a reset
                pass

    def call(self, fn: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Run ``fn`` between two steps (in the worker) while running, else right here."""
        with self._lock:
            if not self.running or self._thread is None or not self._thread.is_alive():
                return fn()
            fut: Future = Future()
            self._requests.append((fn, fut))
        return fut.result(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker thread ends; True when it has ended."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    # --- worker ------------------------------------------------------------------------------
    def _launch(self) -> None:
        self._stop = threading.Event()
        self.status = RUNNING
        self.error = self.traceback = None
        gen = self.generation
        self._thread = threading.Thread(target=self._work, args=(gen, self._stop), daemon=True,
                                        name=f"job-{self.name}")
        self._thread.start()

    def _serve(self) -> None:
        while self._requests:
            fn, fut = self._requests.pop(0)
            try:
                fut.set_result(fn())
            except BaseException as err:  # noqa: BLE001 - handed to the caller
                fut.set_exception(err)

    def _fail_requests(self, why: str) -> None:
        while self._requests:
            _, fut = self._requests.pop(0)
            fut.set_exception(RuntimeError(why))

    def _work(self, gen: int, stop: threading.Event) -> None:
        began = time.perf_counter()
        status, error, tb = STOPPED, None, None
        try:
            if self._iterator is None:
                self._iterator = iter(self._factory())
            iterator = self._iterator
            while not stop.is_set():
                with self._lock:
                    if gen != self.generation:
                        return
                    self._serve()
                try:
                    item = next(iterator)
                except StopIteration:
                    status = FINISHED
                    break
                with self._lock:
                    if gen != self.generation:
                        return
                    self._history.append(item)
                    self.last_step_at = time.time()
        except Diverged as err:
            status, error = DIVERGED, str(err)
        except Exception as err:  # noqa: BLE001 - recorded and shown, never raised into the page
            status, error, tb = FAILED, f"{type(err).__name__}: {err}", traceback.format_exc()
        finally:
            with self._lock:
                if gen == self.generation:
                    self.run_seconds += time.perf_counter() - began
                    self._serve()
                    self.status, self.error, self.traceback = status, error, tb
                    if status != STOPPED:
                        self._iterator = None if status == FINISHED else self._iterator


# --- rows for tables and charts ------------------------------------------------------------------
#: columns that describe where a step is, not what it measured
BOOKKEEPING = frozenset({"stage", "step", "stage_steps", "global_step", "elapsed", "steps_per_s", "gamma", "total"})


def as_row(m: Any, index: int | None = None) -> dict[str, Any]:
    """Flatten one metrics item into {name: float | str}.

    A plain dict is copied (numbers and strings). An item with a nested ``losses`` dict (an
    ``otcore.StepMetrics``) gives: its bookkeeping fields (stage, step, stage_steps, global_step,
    elapsed, steps_per_s, gamma) under their names, every loss term under its own name, its other
    readouts as ``latest_<name>`` (e.g. latest_kl_pq, the last validated KL estimate) and its
    ``validation`` as ``val_<name>``. ``step``/``global_step`` default to ``index + 1``."""
    if is_dataclass(m):
        raw = asdict(m)
    elif isinstance(m, dict):
        raw = dict(m)
    else:
        raw = {"value": m}
    has_losses = isinstance(raw.get("losses"), dict)
    row: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            prefix = "val_" if key == "validation" else "" if key == "losses" else f"{key}_"
            for k, v in value.items():
                if _number(v):
                    row[prefix + k] = float(v)
        elif _number(value):
            name = key if not has_losses or key in BOOKKEEPING else f"latest_{key}"
            row[name] = float(value) if isinstance(value, float) else value
        elif isinstance(value, str):
            row[key] = value
    if "step" not in row and index is not None:
        row["step"] = index + 1
    if "global_step" not in row and index is not None:
        row["global_step"] = index + 1
    return row


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def rows(history: list[Any]) -> list[dict[str, Any]]:
    return [as_row(m, i) for i, m in enumerate(history)]


def finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


# --- per-session storage -------------------------------------------------------------------------
def get_job(key: str) -> Job:
    """The job stored under ``key`` in this session's state (created on first use)."""
    import streamlit as st

    full = f"job:{key}"
    job = st.session_state.get(full)
    if not isinstance(job, Job):
        job = Job(key)
        st.session_state[full] = job
    return job


def peek_job(key: str) -> Job | None:
    """The job under ``key`` if this session has one (never creates it)."""
    import streamlit as st

    job = st.session_state.get(f"job:{key}")
    return job if isinstance(job, Job) else None
