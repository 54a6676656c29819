"""The flow-training job of the Train page (and the demo): an ``otcore.Trainer`` run through
``ui.runner`` under the key ``ui.state.FLOW_JOB``, checkpointed to its run folder.

Its context holds 'trainer', 'pair_id', 'config', 'device', 'folder' and 'tensorboard' (whether
its steps also go to TensorBoard event files in the folder, ``otcore.tblog``). Every run gets a folder
under :func:`runs_dir` (``otcore.runfolder``); the job writes a checkpoint there every
:data:`CHECKPOINT_EVERY_S` seconds and when it stops (by Stop, or because its browser session
ended), and the flow when it finishes. After a server restart :func:`unfinished` lists the folders
that never got their flow, and :func:`resume_folder` continues one.
"""
from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path
from typing import Iterator

import streamlit as st
import torch

import otcore
from otcore import runfolder
from otcore.tblog import open_logger

from . import cli_job, jobs, page, pool, runner, state, threads

#: small and quick: a newcomer sees the flow take shape within a minute on a 2-core CPU
DEMO_CONFIG = otcore.FlowConfig(hidden=128, warm_batch=256, warm_steps=1500, refine_steps=20,
                                refine_batch=512, classifier_warmup=100)
DEMO_POINTS = 2000
#: held-out exact OT reference: subsample size per side (exact POT solve, once per pair)
EXACT_POINTS = 1000
CHECKPOINT_EVERY_S = float(os.environ.get("OTFLOW_CHECKPOINT_EVERY", "30"))

_jobs: "weakref.WeakValueDictionary[Path, jobs.Job]" = weakref.WeakValueDictionary()   # folder -> its job
_jobs_lock = threading.Lock()


def runs_dir() -> Path:
    """``$OTFLOW_RUNS_DIR``, else ``runs/`` beside the app."""
    return Path(os.environ.get("OTFLOW_RUNS_DIR") or Path(__file__).resolve().parent.parent / "runs")


# job processes under runs/ take the server's training slots too
pool.POOL.external = lambda: len(cli_job.running_folders(runs_dir()))


def job() -> jobs.Job:
    return runner.job(state.FLOW_JOB)


def trainer_of(job: jobs.Job) -> otcore.Trainer | None:
    return job.context.get("trainer")


def start(pair: state.Pair, config: otcore.FlowConfig, device: str = "cpu", tensorboard: bool = False) -> jobs.Job:
    """(Re)start training a flow for ``pair`` in the background, in a new run folder (with
    TensorBoard event files there when ``tensorboard``)."""
    folder = runfolder.create(runs_dir(), f"{pair.label_p}_to_{pair.label_q}", pair.P, pair.Q, config,
                              {"label_p": pair.label_p, "label_q": pair.label_q, "desc_p": pair.desc_p,
                               "desc_q": pair.desc_q, "device": device})
    return _launch(lambda: otcore.Trainer(pair.P, pair.Q, config, device=device),
                   {"pair_id": pair.id, "config": config, "device": device, "folder": folder,
                    "tensorboard": tensorboard})


def resume_folder(folder: Path, device: str = "cpu", tensorboard: bool = False) -> jobs.Job:
    """Continue the unfinished run in ``folder`` (its own samples become the session's pair).
    Raises ``otcore.runfolder.RunFolderError`` (or ValueError) when it cannot be read."""
    found = runfolder.load(folder)
    info = found.info
    pair = state.set_pair(found.P, found.Q, label_p=str(info.get("label_p", "P")), label_q=str(info.get("label_q", "Q")),
                          desc_p=str(info.get("desc_p", "")), desc_q=str(info.get("desc_q", "")))
    st.session_state["distributions.applied"] = None
    config = otcore.FlowConfig.from_dict(found.checkpoint.get("config", {}))
    show_config(config, device)
    return _launch(lambda: otcore.Trainer.resume(found.P, found.Q, found.checkpoint, device=device),
                   {"pair_id": pair.id, "config": config, "device": device, "folder": Path(folder),
                    "resumed_from": int(found.checkpoint.get("global_step", 0)), "tensorboard": tensorboard})


def unfinished() -> list[runfolder.RunInfo]:
    """Run folders with a checkpoint but no flow, except those a live session holds (training, or
    stopped where its own Resume button continues it) and jobs whose process runs (``ui.cli_job``).
    A run whose session has ended is offered."""
    with _jobs_lock:
        held = [(f, j) for f, j in _jobs.items() if j.context.get("folder") == f]
    busy = {f for f, j in held if j.running or (j.can_resume and j._session_alive() is not False)}
    own = jobs.peek_job(state.FLOW_JOB)
    if own is not None and own.context.get("folder") is not None:
        busy.add(own.context["folder"])
    return runfolder.unfinished(runs_dir(), exclude=busy | cli_job.running_folders(runs_dir()))


def _launch(make, context: dict) -> jobs.Job:
    j = job()
    context["folder"] = Path(context["folder"]).resolve()

    def steps(ctx: dict) -> Iterator[otcore.StepMetrics]:
        with open_logger("tensorboard" if ctx.get("tensorboard") else "none", ctx["folder"]) as log:
            yield from logged(runner.drive(make(), ctx, "trainer"), log)

    runner.start(j, steps, context=context, save=save, save_every=CHECKPOINT_EVERY_S)
    with _jobs_lock:
        _jobs[context["folder"]] = j
    return j


def logged(steps: Iterator[otcore.StepMetrics], log) -> Iterator[otcore.StepMetrics]:
    """``steps``, each passed to ``log`` (an ``otcore.tblog`` logger) as it goes; closing this
    closes ``steps``."""
    try:
        for m in steps:
            log(m)
            yield m
    finally:
        close = getattr(steps, "close", None)
        if close is not None:
            close()


def save(context: dict, status: str) -> None:
    """The job's save hook (in the worker, between steps): a checkpoint, and the flow once the run
    has ended (finished, or diverged with its last good weights)."""
    trainer, folder = context.get("trainer"), context.get("folder")
    if trainer is None or folder is None:
        return
    runfolder.save_checkpoint(folder, trainer.checkpoint())
    if status in (jobs.FINISHED, jobs.DIVERGED):
        trainer.flow.save(Path(folder) / runfolder.FLOW)


def trainer_steps(context: dict, P: torch.Tensor, Q: torch.Tensor, config: otcore.FlowConfig,
                  device: str) -> Iterator[otcore.StepMetrics]:
    """A flow job's steps without a run folder (bench/app.py drives it directly)."""
    threads.configure()
    yield from runner.drive(otcore.Trainer(P, Q, config, device=device), context, "trainer")


def planned(config: otcore.FlowConfig, dim: int) -> dict[str, int]:
    """Steps each stage will take (no refinement below ``refine_min_dim``, as the trainer does)."""
    return {"warm-start": config.warm_steps, "refine": config.refine_steps if dim >= config.refine_min_dim else 0}


def start_demo() -> None:
    """Load moons → 8gaussians and train the quick demo config."""
    pair = state.default_pair(DEMO_POINTS)
    state.set_pair(pair)
    st.session_state["distributions.applied"] = None     # the Distributions page adopts this pair as it is
    show_config(DEMO_CONFIG, "cpu")
    start(pair, DEMO_CONFIG, "cpu")


def show_config(config: otcore.FlowConfig, device: str) -> None:
    """Make the Train page's widgets show ``config`` (so they describe the run that was started)."""
    for name, value in config.to_dict().items():
        page.set_widget(f"cfg_{name}", value)
    page.set_widget("cfg_device", device)


def exact_cost(pair: state.Pair) -> tuple[float, str, int]:
    """Exact discrete OT cost of (subsamples of) the pair's samples: (cost, method, points a side),
    computed once per pair and kept in the session."""
    key = f"exact_ot:{pair.id}"
    if key not in st.session_state:
        g = torch.Generator().manual_seed(0)
        n = min(EXACT_POINTS, len(pair.P), len(pair.Q))
        P = pair.P[torch.randperm(len(pair.P), generator=g)[:n]]
        Q = pair.Q[torch.randperm(len(pair.Q), generator=g)[:n]]
        cost, method = otcore.exact_ot_cost(P, Q)
        st.session_state[key] = (cost, method, n)
    return st.session_state[key]
