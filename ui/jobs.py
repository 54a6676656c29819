"""Background jobs: a step iterator pulled in a daemon thread, with Start / Stop / Resume / Reset.

A :class:`Job` runs any iterator whose items are step metrics (see ``otcore.viz.rows``). The page
stays responsive, a Stop takes effect at the next step, Resume continues the *same* iterator
(nothing trained is lost), Reset throws it away. Pages do not use this module directly: they go
through ``ui.runner``, which builds the iterator from a trainer and draws the one control block.

Three server-wide rules live here:

* **A cap.** Jobs train through ``ui.pool.POOL``: beyond its cap a started job is ``queued`` and
  starts by itself when a slot frees (:attr:`Job.queue_position` says where it waits).
* **Lifetime.** ``alive`` (given at start) says whether the job's browser session still exists
  (True / False / None for "cannot tell"). A running job checks it every ``check_every`` s and,
  once it has been False for ``grace`` s, stops after saving; a queued job whose session is gone
  never starts. :attr:`Job.note` then says why it stopped.
* **Saving.** ``save(context, status)`` (given at start) runs in the worker between two steps every
  ``save_every`` s, and once more when the worker ends (stopped, finished, diverged), so a
  checkpoint sees consistent weights. A failing save is reported in :attr:`Job.save_error`.

``job.call(fn)`` runs ``fn`` in the worker between two steps while the job runs (so snapshots
never see half-updated weights) and directly otherwise. ``job.wait(timeout)`` blocks until the job
has settled (not queued, not running).
"""
from __future__ import annotations

import os
import threading
import time
import traceback
from concurrent.futures import Future
from typing import Any, Callable, Iterator

from . import pool as pools
from . import threads as app_threads

IDLE, QUEUED, RUNNING, STOPPING, STOPPED, FINISHED, FAILED, DIVERGED = (
    "idle", "queued", "running", "stopping", "stopped", "finished", "failed", "diverged")
ACTIVE = (QUEUED, RUNNING, STOPPING)
SESSION_GONE = "Stopped because its browser session ended (tab closed or expired)."
CHECK_EVERY_S = 2.0      # seconds between two looks at the session
#: a session away this long is gone (a reconnecting tab comes back sooner); $OTFLOW_SESSION_GRACE
GRACE_S = float(os.environ.get("OTFLOW_SESSION_GRACE", "15"))

Factory = Callable[[], Iterator[Any]]
Alive = Callable[[], "bool | None"]
Save = Callable[[dict, str], None]


class Diverged(RuntimeError):
    """Raise from a step iterator to end the job with status 'diverged' and this message."""


class Job:
    """One background run. Thread-safe; see the module docstring for the life cycle."""

    def __init__(self, name: str = "job", pool: pools.Pool | None = None, *, check_every: float = CHECK_EVERY_S,
                 grace: float = GRACE_S):
        self.name = name
        self.pool = pool if pool is not None else pools.POOL
        self.check_every, self.grace = check_every, grace
        self._lock = threading.RLock()
        self._requests: list[tuple[Callable[[], Any], Future]] = []
        self._settled = threading.Event()
        self._settled.set()
        self._reset_fields()

    def _reset_fields(self) -> None:
        self.context: dict[str, Any] = {}
        self._history: list[Any] = []
        self._rows: list[dict[str, Any]] = []
        self._iterator: Iterator[Any] | None = None
        self._factory: Factory | None = None
        self._alive: Alive | None = None
        self._save: Save | None = None
        self.save_every = 30.0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.status = IDLE
        self.error: str | None = None
        self.traceback: str | None = None
        self.note: str | None = None            # why the job stopped by itself (its session ended …)
        self.save_error: str | None = None
        self.generation = getattr(self, "generation", 0) + 1
        self.started_at: float | None = None     # time.time() of the first start
        self.last_step_at: float | None = None   # time.time() of the latest step
        self.run_seconds = 0.0                   # wall time spent inside the worker loop

    # --- reading -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Queued, running or stopping: the job holds (or waits for) a training slot."""
        return self.status in ACTIVE

    @property
    def queue_position(self) -> int | None:
        return self.pool.position(self) if self.status == QUEUED else None

    @property
    def history(self) -> list[Any]:
        with self._lock:
            return list(self._history)

    def rows(self) -> list[dict[str, Any]]:
        """The history as chart rows (``otcore.viz.rows.as_row``; incremental; a new list each call)."""
        from otcore.viz.rows import as_row

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
        return self.status == STOPPED and (self._iterator is not None or self._factory is not None)

    # --- control -----------------------------------------------------------------------------
    def start(self, factory: Factory, context: dict[str, Any] | None = None, *, alive: Alive | None = None,
              save: Save | None = None, save_every: float = 30.0) -> None:
        """Start a fresh run (a previous run of this job is reset first); ``context`` seeds
        ``job.context`` before the worker starts. The run waits in the pool's queue when the
        server is at its cap."""
        self.reset()
        with self._lock:
            self.context.update(context or {})
            self._factory, self._alive, self._save, self.save_every = factory, alive, save, save_every
            self.started_at = time.time()
            self._queue_up()
        self.pool.submit(self)          # never under the job's lock: the pool takes other jobs' locks

    def resume(self) -> None:
        """Continue a stopped run with the same iterator."""
        with self._lock:
            if not self.can_resume:
                raise RuntimeError(f"cannot resume a job that is {self.status}")
            self._queue_up()
        self.pool.submit(self)

    def stop(self, wait: float | None = None) -> None:
        """Ask the worker to stop after the current step (optionally wait up to ``wait`` seconds);
        a queued job leaves the queue at once."""
        with self._lock:
            was_queued = self.status == QUEUED
            if was_queued:
                self.status = STOPPED
                self._settled.set()
            elif self.status == RUNNING:
                self.status = STOPPING
                self._stop.set()
            thread = self._thread
        if was_queued:
            self.pool.release(self)
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
            self._settled.set()
        self.pool.release(self)
        close = getattr(iterator, "close", None)
        if close is not None and not alive:
            try:
                close()
            except Exception:  # noqa: BLE001 - closing a finished generator must never break a reset
                pass

    def call(self, fn: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Run ``fn`` between two steps (in the worker) while running, else right here."""
        with self._lock:
            if self.status not in (RUNNING, STOPPING) or self._thread is None or not self._thread.is_alive():
                return fn()
            fut: Future = Future()
            self._requests.append((fn, fut))
        return fut.result(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job is neither queued nor running; True when it has settled."""
        if not self._settled.wait(timeout):
            return False
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    # --- the pool's side ----------------------------------------------------------------------
    def _queue_up(self) -> None:
        self.status = QUEUED
        self.error = self.traceback = self.note = None
        self._settled.clear()

    def _wanted(self) -> bool:
        """Asked by the pool before a queued job starts: False (and stopped) once its session is gone."""
        if self._session_alive() is False:
            with self._lock:
                if self.status == QUEUED:
                    self.status, self.note = STOPPED, SESSION_GONE
                    self._settled.set()
            return False
        return True

    def _begin(self) -> bool:
        """Called by the pool when a slot is this job's: start the worker thread."""
        with self._lock:
            if self.status != QUEUED:
                return False
            self._stop = threading.Event()
            self.status = RUNNING
            self._thread = threading.Thread(target=self._work, args=(self.generation, self._stop), daemon=True,
                                            name=f"job-{self.name}")
            self._thread.start()
            return True

    def _session_alive(self) -> bool | None:
        if self._alive is None:
            return None
        try:
            return self._alive()
        except Exception:  # noqa: BLE001 - an unanswerable question means "cannot tell"
            return None

    # --- worker ------------------------------------------------------------------------------
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

    def _saving(self, status: str) -> None:
        if self._save is None:
            return
        try:
            self._save(self.context, status)
            self.save_error = None
        except Exception as err:  # noqa: BLE001 - a failed checkpoint is shown, training goes on
            self.save_error = f"{type(err).__name__}: {err}"

    def _work(self, gen: int, stop: threading.Event) -> None:
        app_threads.lower_priority()     # page runs of every session come before training
        began = time.perf_counter()
        status, error, tb, note = STOPPED, None, None, None
        last_save = last_check = time.monotonic()
        gone_since: float | None = None
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
                time.sleep(0)                 # hand the GIL to a page being rendered, if one waits
                now = time.monotonic()
                if self._save is not None and now - last_save >= self.save_every:
                    self._saving(RUNNING)
                    last_save = time.monotonic()
                if now - last_check >= self.check_every:
                    last_check = now
                    if self._session_alive() is False:
                        gone_since = now if gone_since is None else gone_since
                        if now - gone_since >= self.grace:
                            note = SESSION_GONE
                            break
                    else:
                        gone_since = None
        except Diverged as err:
            status, error = DIVERGED, str(err)
        except Exception as err:  # noqa: BLE001 - recorded and shown, never raised into the page
            status, error, tb = FAILED, f"{type(err).__name__}: {err}", traceback.format_exc()
        finally:
            current = gen == self.generation
            if current and status != FAILED:
                self._saving(status)
            with self._lock:
                if current:
                    self.run_seconds += time.perf_counter() - began
                    self._serve()
                    self.status, self.error, self.traceback, self.note = status, error, tb, note
                    if status == FINISHED:
                        self._iterator = None
                    self._settled.set()
            if current:
                self.pool.release(self)


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
