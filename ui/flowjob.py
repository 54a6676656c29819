"""The flow-training job of the Train page (and the demo): an ``otcore.Trainer`` driven by
``ui.jobs`` under the key ``ui.state.FLOW_JOB``. Its context holds 'trainer', 'pair_id',
'config' and 'device'."""
from __future__ import annotations

from typing import Iterator

import streamlit as st
import torch

import otcore

from . import jobs, page, state, threads

#: small and quick: a newcomer sees the flow take shape within a minute on a 2-core CPU
DEMO_CONFIG = otcore.FlowConfig(hidden=128, warm_batch=256, warm_steps=1500, refine_steps=20,
                                refine_batch=512, classifier_warmup=100)
DEMO_POINTS = 2000
#: held-out exact OT reference: subsample size per side (exact POT solve, once per pair)
EXACT_POINTS = 1000


def job() -> jobs.Job:
    return jobs.get_job(state.FLOW_JOB)


def trainer_of(job: jobs.Job) -> otcore.Trainer | None:
    return job.context.get("trainer")


def start(pair: state.Pair, config: otcore.FlowConfig, device: str = "cpu") -> jobs.Job:
    """(Re)start training a flow for ``pair`` in the background."""
    j = job()
    j.start(lambda: trainer_steps(j.context, pair.P, pair.Q, config, device),
            context={"pair_id": pair.id, "config": config, "device": device})
    return j


def trainer_steps(context: dict, P: torch.Tensor, Q: torch.Tensor, config: otcore.FlowConfig,
                  device: str) -> Iterator[otcore.StepMetrics]:
    """The flow job's step iterator (no Streamlit inside; bench/app.py drives it too): builds the
    trainer in the worker thread, keeps it in ``context['trainer']``, turns a divergence into
    :class:`ui.jobs.Diverged` and closes the trainer when the job is reset."""
    threads.configure()           # in this worker thread: OpenMP settings are per thread
    trainer = otcore.Trainer(P, Q, config, device=device)
    context["trainer"] = trainer
    try:
        yield from trainer.run()
    except GeneratorExit:
        trainer.close()
        raise
    if trainer.stop_reason:
        raise jobs.Diverged(trainer.stop_reason)


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
