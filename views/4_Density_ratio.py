"""Density ratio along the flow (infinitesimal classification) and mutual information."""
from __future__ import annotations

from typing import Iterator

import streamlit as st
import torch

import otcore
from otcore.dre import DensityRatioConfig, DensityRatioError, DensityRatioTrainer, fit_one_step_ratio
from otcore.viz.density import ratio_training_figure
from ui import energy_tab, jobs, live, mi_tab, page, ratio_maps, runner, state
from ui.page import default

page.setup("Density ratio")
RATIO_JOB = "ratio"

st.title("Density ratio")
page.explain(
    "The flow carries P (t = 0) to Q (t = 1) through a chain of distributions p_t. Between two "
    "neighbouring times p_t barely changes, so a classifier can tell them apart reliably; a *time score* "
    "r(x, t) learns how log p_t(x) changes with t, trained on all the neighbouring pairs at once "
    "(each interval's integral by Simpson's 3/8 rule). Adding the small steps gives log q − log p, "
    "even where it is tens of nats and a single classifier between P and Q fails.",
    r"\sum_{m=1}^{M}\mathbb{E}_{x\sim p_{m-1}}\big[\log(1+e^{I_m(x)})\big]+\mathbb{E}_{y\sim p_m}"
    r"\big[\log(1+e^{-I_m(y)})\big],\qquad I_m(x)=\int_{s_{m-1}}^{s_m} r(x,s)\,ds",
    r"\log q(x)-\log p(x)=\int_0^1 r(x,s)\,ds")

along, mutual, energy = st.tabs(["Along the flow", "Mutual information", "Energy density"])


# --- the ratio network's job -----------------------------------------------------------------------
def ratio_steps(flow: otcore.OTFlow, P: torch.Tensor, Q: torch.Tensor, config: DensityRatioConfig):
    """The ratio job's steps: the time score step by step, then the one-step baseline (one row)."""
    def steps(ctx: dict) -> Iterator:
        yield from runner.drive(DensityRatioTrainer(flow, P, Q, config), ctx, "trainer")
        clf = fit_one_step_ratio(P, Q, config)
        ctx["one_step"] = clf
        yield {"stage": "one-step", "step": 1, "stage_steps": 1, "one_step_val_loss": clf.val_loss}
    return steps


def ratio_config() -> tuple[DensityRatioConfig | None, str | None]:
    c = st.columns(4)
    slices = c[0].number_input("Slices M", 1, 64, step=1, key=default("dre_slices", 10),
                               help="intervals of the bridge s_m = m/M; the last slice is Q itself")
    steps = c[1].number_input("Training steps", 10, 20000, step=50, key=default("dre_steps", 400))
    batch = c[2].number_input("Batch per slice", 16, 4096, step=16, key=default("dre_batch", 256))
    hidden = c[3].number_input("Width (0 = sized to d)", 0, 1024, step=16, key=default("dre_hidden", 0))
    try:
        return DensityRatioConfig(slices=int(slices), steps=int(steps), batch=int(batch), hidden=int(hidden)), None
    except DensityRatioError as err:
        return None, str(err)


def render_ratio(job: jobs.Job, rows: list[dict]) -> None:
    live.status_line(job)
    trainer = job.context.get("trainer")
    if trainer is not None:
        done, total = trainer.progress()
        live.progress_bars({"ratio": (done, total), "one-step": (int("one_step" in job.context), 1)})
    ratio_rows = [r for r in rows if r.get("stage") == "ratio"]
    if ratio_rows:
        st.plotly_chart(ratio_training_figure(ratio_rows), width="stretch", key="dre_loss_chart")
    else:
        st.info("No steps yet: the chart appears with the first training step.")


def ratio_now(job: jobs.Job):
    """The ratio as it stands (best held-out weights once done), snapshotted between two steps."""
    trainer = job.context.get("trainer")
    if trainer is None or trainer.step_count == 0:
        return None
    key = (job.generation, trainer.step_count // 50, job.status)
    cached = st.session_state.get("density.snapshot")
    if cached is not None and cached[0] == key:
        return cached[1]
    ratio = job.call(lambda: trainer.ratio)
    st.session_state["density.snapshot"] = (key, ratio)
    return ratio


with along:
    pair, entry = state.get_pair(), state.flow_entry()
    if pair is None or entry is None:
        st.info("There is no flow yet: the density ratio is computed along a trained flow. Train one first.")
        st.page_link("views/2_Train.py", label="Go to Train", icon=":material/model_training:")
    elif entry.flow.dim != pair.dim:
        st.error(f"The flow is {entry.flow.dim}-dimensional but the chosen pair is {pair.dim}-dimensional. "
                 "Train a flow for this pair first.")
        st.page_link("views/2_Train.py", label="Go to Train", icon=":material/model_training:")
    elif pair.dim < 2:
        st.info("The density-ratio maps need data of at least 2 dimensions.")
    else:
        flow = entry.flow
        if entry.source == "training":
            st.warning("The flow is still training: the ratio network will use the flow as it is now.")
        job = runner.job(RATIO_JOB)
        cfg, problem = ratio_config()
        if problem:
            st.error(problem)
        runner.controls(job, "dre", lambda: runner.start(job, ratio_steps(flow, pair.P, pair.Q, cfg),
                                                         context={"pair_id": pair.id, "flow_stamp": entry.stamp}),
                        ready=cfg is not None, forget=(ratio_maps.MAPS,))
        live.live_panel(job, render_ratio)
        page.explain("**Training.** Each interval's logistic loss starts at 2 log 2 (the slices cannot be told "
                     "apart) and falls as the network learns; held-out bridge samples validate it and the best "
                     "weights are kept. The KL estimates are averages of the learned log-ratio over held-out P and Q.",
                     r"\mathrm{KL}(Q\,\|\,P)=\mathbb{E}_{Q}\Big[\int_0^1 r(x,s)\,ds\Big]")
        ratio = ratio_now(job)
        if job.context.get("pair_id") not in (None, pair.id) or job.context.get("flow_stamp") not in (None, entry.stamp):
            st.warning("This ratio network was trained for an earlier pair or flow; press Restart to train it again.")
        elif ratio is not None:
            key = (job.generation, job.steps // 50, job.status)
            ratio_maps.draw_maps(pair, flow, ratio, job.context.get("one_step"), key)
        else:
            st.info("Press **Start** to train the ratio network on this flow's bridge; the maps appear as it learns.")


with mutual:
    mi_tab.render()

with energy:
    energy_tab.render()
