"""Live views of a background job (``ui.jobs``), refreshed a few times a second with ``st.fragment``.

::

    from ui import live, runner
    job = runner.job("ratio")
    live.live_panel(job, lambda job, rows: live.training_view(job, rows, planned={"fit": 500}))

``live_panel`` reruns only its fragment every ``every`` seconds while the job runs (the rest of the
page is untouched, so widgets elsewhere stay usable) and reruns the whole page once when the job
ends, so Start/Stop/Resume buttons update. ``training_view`` draws a status line, one progress
bar per stage and the loss chart (``otcore.viz.training.loss_figure``) of any metrics history.
"""
from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from otcore.viz.training import loss_figure, progress

from .jobs import DIVERGED, FAILED, FINISHED, IDLE, QUEUED, RUNNING, STOPPED, STOPPING, Job

REFRESH_S = 0.5        # seconds between live refreshes: twice a second (each refresh costs the GIL)
QUEUED_REFRESH_S = 2.0
STATUS_TEXT = {
    IDLE: "not started", QUEUED: "waiting for a free slot", RUNNING: "running", STOPPING: "stopping after this step", STOPPED: "stopped",
    FINISHED: "finished", FAILED: "failed", DIVERGED: "diverged",
}

Render = Callable[[Job, list[dict[str, Any]]], None]


def live_panel(job: Job, render: Render, *, every: float = REFRESH_S) -> None:
    """Call ``render(job, rows)`` now, and again every ``every`` s while ``job`` runs. Give the
    elements that ``render`` draws fixed keys (e.g. ``key=f"loss_{job.name}"``)."""
    was_running = job.running
    if job.status == QUEUED:
        every = max(every, QUEUED_REFRESH_S)      # a waiting job only needs to notice its start

    @st.fragment(run_every=every if was_running else None)
    def _panel() -> None:
        render(job, job.rows())
        if was_running and not job.running:
            st.rerun()

    _panel()


def status_line(job: Job) -> None:
    """One line with the job's state; a queued job's place and the server's cap; why it stopped by
    itself; its error (exception or divergence message) as an error box."""
    text = STATUS_TEXT.get(job.status, job.status)
    st.caption(f"Status: **{text}** · {job.steps} steps recorded")
    if job.status == QUEUED:
        running, waiting = job.pool.counts()
        st.info(f"The server is training {running} job(s), its limit ({job.pool.cap} at once). This job waits "
                f"in the queue (place {job.queue_position or '?'} of {waiting}) and starts by itself when a slot "
                "frees; Stop takes it out of the queue.", icon=":material/hourglass_top:")
    if job.note:
        st.warning(job.note)
    if job.save_error:
        st.warning(f"The latest checkpoint could not be written: {job.save_error}")
    if job.status == DIVERGED:
        st.error(f"Training stopped: {job.error}")
    elif job.status == FAILED:
        st.error(f"Training failed: {job.error}")


def progress_bars(done_total: dict[str, tuple[int, int]], planned: dict[str, int] | None = None) -> None:
    """One progress bar per stage (stages in ``planned`` that have not started show as empty)."""
    bars = {stage: (0, total) for stage, total in (planned or {}).items()}
    bars.update(done_total)
    for stage, (done, total) in bars.items():
        frac = 0.0 if total <= 0 else min(1.0, done / total)
        label = f"{stage or 'progress'}: {done} / {total} steps" if total > 0 else f"{stage}: skipped (0 steps)"
        st.progress(frac if total > 0 else 1.0, text=label)


def training_view(job: Job, rows: list[dict[str, Any]], *, planned: dict[str, int] | None = None,
                  done_total: dict[str, tuple[int, int]] | None = None, chart_key: str | None = None) -> None:
    """Status, progress bars and the live loss chart of ``rows``."""
    status_line(job)
    progress_bars(done_total if done_total is not None else progress(rows), planned)
    if rows:
        st.plotly_chart(loss_figure(rows), width="stretch", key=chart_key or f"loss_{job.name}")
    else:
        st.info("No steps yet: the loss chart appears with the first training step.")


def stages_view(job: Job, rows: list[dict[str, Any]], *, title: str, chart_key: str) -> None:
    """Status, a progress bar per stage and the loss chart of a staged run (bridge flow, ratio, …);
    one-fit stages (the one-step baseline) get a progress bar but no curve."""
    status_line(job)
    if rows:
        progress_bars(progress(rows))
        curves = [r for r in rows if r.get("stage_steps", 0) > 1]
        st.plotly_chart(loss_figure(curves, title=f"{title} — {len(curves)} steps"), width="stretch", key=chart_key)
