"""The one adapter from a step-wise run to a background job, and the one control block.

A *step-wise run* is any object whose ``run()`` yields one metrics item per step (``otcore.Trainer``,
``AutoencoderTrainer``, ``DensityRatioTrainer``, the staged MI and energy runs); optional
``stop_reason`` (set when it diverged) and ``close()``. Pages write the steps of their job as a
generator of ``context`` that chains :func:`drive` calls, and draw :func:`controls`::

    from ui import runner

    def steps(ctx):                                   # runs in the job's worker thread
        trainer = yield from runner.drive(otcore.Trainer(P, Q, cfg), ctx, "trainer")
        ctx["flow"] = trainer.flow

    job = runner.job("train")
    runner.controls(job, "train", lambda: runner.start(job, steps, context={"pair_id": 3}))

:func:`start` ties the job to this browser session (it stops when the session goes away; see
``ui.jobs``), sets the worker's torch threads and passes an optional ``save`` hook (checkpoints).
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Generator, Iterable, Iterator

import streamlit as st

from . import jobs, sessions, threads
from .jobs import IDLE, Job

Steps = Callable[[dict], Iterator[Any]]


def job(key: str) -> Job:
    """This session's job under ``key`` (created on first use)."""
    return jobs.get_job(key)


def drive(run: Any, context: dict, key: str) -> Generator[Any, None, Any]:
    """Yield every step of ``run`` (kept in ``context[key]``); close it when the job is reset; a
    divergence (``run.stop_reason``) becomes the job's error. Returns ``run`` (``yield from``)."""
    context[key] = run
    try:
        yield from run.run()
    except GeneratorExit:
        close = getattr(run, "close", None)
        if close is not None:
            close()
        raise
    reason = getattr(run, "stop_reason", None)
    if reason:
        raise jobs.Diverged(reason)
    return run


def start(job: Job, steps: Steps, context: dict | None = None, *,
          save: jobs.Save | None = None, save_every: float = 30.0) -> None:
    """(Re)start ``job`` on ``steps(job.context)`` for this browser session."""
    job.start(lambda: _in_each_thread(steps(job.context), job), context=context, alive=sessions.watcher(),
              save=save, save_every=save_every)


def _in_each_thread(steps: Iterator[Any], job: Job) -> Iterator[Any]:
    """``steps``, with torch's thread count set in whichever worker thread pulls them (OpenMP keeps
    it per thread, and a resumed job runs in a new thread)."""
    worker = None
    try:
        while True:
            if threading.current_thread() is not worker:
                worker = threading.current_thread()
                threads.configure(jobs=job.pool.counts()[0])
            try:
                item = next(steps)
            except StopIteration:
                return
            yield item
    except GeneratorExit:
        close = getattr(steps, "close", None)
        if close is not None:
            close()
        raise


def controls(job: Job, prefix: str, on_start: Callable[[], Any], *, ready: bool = True,
             forget: Iterable[str] = (), start_label: str = "Start") -> None:
    """Start (Restart) / Stop / Resume / Reset, keys ``{prefix}_btn_start`` … ``{prefix}_btn_reset``.
    ``on_start`` starts the job (it may show an error instead); ``ready`` False disables Start (bad
    settings); ``forget`` names session keys (caches of the run) that Reset drops."""
    b = st.columns(4)
    label = start_label if job.steps == 0 and job.status == IDLE else "Restart"
    if b[0].button(label, key=f"{prefix}_btn_start", type="primary", disabled=not ready or job.running):
        on_start()
        if job.running:              # else on_start showed why it could not start: keep the message
            st.rerun()
    if b[1].button("Stop", key=f"{prefix}_btn_stop", disabled=not job.running):
        job.stop(wait=5.0)
        st.rerun()
    if b[2].button("Resume", key=f"{prefix}_btn_resume", disabled=not job.can_resume):
        job.resume()
        st.rerun()
    if b[3].button("Reset", key=f"{prefix}_btn_reset", disabled=job.status == IDLE):
        job.reset()
        for key in forget:
            st.session_state.pop(key, None)
        st.rerun()
