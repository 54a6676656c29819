"""The "Energy density" tab of the Density ratio page: a Gaussian fitted to the data times the bridge
ratio is a density model of the data; held-out bits per dimension beside the Gaussian alone and the
one-step ratio, for 2-D data the two densities as maps, and for the digits new samples beside real
ones and the base's (otcore.dre.sampling)."""
from __future__ import annotations

from typing import Iterator

import streamlit as st
import torch

from otcore.dre import DensityRatioConfig, EnergyDensityRun, load_digits_dequantized
from otcore.dre.config import BRIDGE_FLOW
from otcore.dre.energy_model import DIGITS_META, EnergyModel
from otcore.dre.sample_quality import compare_samples
from otcore.dre.maps import plane_grid
from otcore.projection import identity_view
from otcore.viz.density import bits_figure, comparison_figure
from otcore.viz.images import grid_figure
from ui import live, page, runner, state
from ui.literal import literal
from ui.page import default

ENERGY_JOB = "energy"
PAIR_Q, DIGITS = "Q of the chosen pair", "8×8 digits (scikit-learn, 64-D)"
MODEL_NAMES = {"gaussian": "Gaussian base alone", "one_step": "Gaussian × one-step ratio",
               "infinitesimal": "Gaussian × bridge ratio"}


def energy_steps(data: torch.Tensor, flow_steps: int, steps: int, holdout: float, digits: bool = False):
    """The energy job's steps: the bridge flow, the ratio network, then the result in ``ctx['result']``
    (and for the digits, samples of the model against held-out digits in ``ctx['samples']``)."""
    def run(ctx: dict) -> Iterator:
        energy = EnergyDensityRun(data, holdout=holdout, config=DensityRatioConfig(steps=steps),
                                  flow_config=BRIDGE_FLOW.replace(warm_steps=flow_steps))
        yield from runner.drive(energy, ctx, "run")
        energy.close()
        ctx["result"] = energy.result()
        if digits:
            model = EnergyModel.of(ctx["result"], DIGITS_META)
            ctx["samples"] = (model, compare_samples(model, energy.data, energy.test))
    return run


def chosen_data(choice: str) -> tuple[torch.Tensor | None, str]:
    if choice == DIGITS:
        return load_digits_dequantized(seed=0), "digits"
    pair = state.get_pair()
    if pair is None:
        return None, ""
    return pair.Q, pair.label_q


def show_result(result, label: str, points: torch.Tensor | None) -> None:
    left, right = st.columns([3, 2], gap="large")
    with left:
        bits = {k: result.bits_per_dim[k] for k in MODEL_NAMES if k in result.bits_per_dim}
        st.plotly_chart(bits_figure(bits, MODEL_NAMES), width="stretch", key="energy_bits_chart")
    with right:
        st.dataframe([{"model": MODEL_NAMES[k], "NLL (nats)": round(result.nll[k], 3),
                       "bits / dim": round(result.bits_per_dim[k], 4)} for k in MODEL_NAMES if k in result.nll],
                     hide_index=True, key="energy_table")
        st.caption(f"{literal(label)}: {result.n_train} training points, {result.n_test} held out, {result.dim}-D, "
                   f"{result.seconds:.0f} s. Negative log-likelihood of the held-out points: lower is better.")
    if result.dim == 2 and points is not None:
        grid = plane_grid(identity_view(), [points], resolution=70)
        panels = {"Gaussian base p": result.base.log_prob(grid.points).numpy().reshape(grid.shape),
                  "energy model q": result.log_prob(grid.points).numpy().reshape(grid.shape)}
        pts = points.numpy()
        st.plotly_chart(comparison_figure(grid.xs, grid.ys, panels, points=pts, title="log density", log_density=True),
                        width="stretch", key="energy_maps")


def show_samples(model, comparison, cols: int = 10) -> None:
    """Real held-out digits, the Gaussian base's samples and the energy model's, with their energy distance."""
    q = comparison.quality
    rows = [comparison.real, comparison.base, comparison.generated]
    grid = torch.stack([model.images(r[:cols]) for r in rows])
    labels = [f"real (held out) · {q.real:.3f}", f"Gaussian base · {q.base:.3f}", f"energy model · {q.generated:.3f}"]
    st.plotly_chart(grid_figure(grid, row_labels=labels, scale=6, pad=2), width="stretch", key="energy_samples")
    page.explain(
        f"**New digits from the energy model.** Draws of the Gaussian base take Langevin steps (MALA) on "
        f"log q, the gradient taken through the ratio network, each step accepted or not so that q is kept "
        f"(acceptance {comparison.acceptance:.0%}); the importance weights exp ∫r of the draws have an "
        f"effective sample size of {comparison.ess:.0f} of {comparison.proposals:,}. The number beside each row "
        f"is its energy distance to {q.n} held-out digits (lower is closer); the real row is the floor. This "
        f"model closes {q.gap_closed:.0%} of the base's gap to it.",
        r"w_k\propto e^{\int_0^1 r(x_k,s)\,ds},\ x_k\sim p;\qquad "
        r"x'=x+\tfrac{h}{2}\Sigma\nabla\log q(x)+\sqrt{h}\,\Sigma^{1/2}\xi")


def render() -> None:
    """The tab: data and settings, the job's controls, the live chart, the models' held-out scores."""
    page.explain(
        "**An energy-based density of data.** Take P = a Gaussian fitted to the data (its density is known) "
        "and Q = the data. A flow bridges them, the time score learns log q − log p along it, and the Gaussian's "
        "log-density plus that integral is a density model of the data — scored on held-out points against "
        "the Gaussian alone and against one classifier between the Gaussian and the data.",
        r"\log q(x)=\log\mathcal{N}(x;\hat\mu,\hat\Sigma)+\int_0^1 r(x,s)\,ds,\qquad"
        r"\text{bits/dim}=\frac{-\frac{1}{n}\sum_i\log q(x_i)}{d\,\ln 2}")
    c = st.columns([2, 1, 1, 1])
    choice = c[0].radio("Data", [PAIR_Q, DIGITS], key=default("energy_data", PAIR_Q),
                        help="the digits' integer pixel levels get uniform noise in [0, 1) (dequantisation)")
    flow_steps = int(c[1].number_input("Bridge flow steps", 50, 10000, step=50, key=default("energy_flow_steps", 600)))
    steps = int(c[2].number_input("Ratio steps", 50, 5000, step=50, key=default("energy_steps", 400)))
    holdout = float(c[3].number_input("Held-out share", 0.05, 0.5, step=0.05, key=default("energy_holdout", 0.2)))
    data, label = chosen_data(choice)
    job = runner.job(ENERGY_JOB)

    def start() -> None:
        runner.start(job, energy_steps(data, flow_steps, steps, holdout, digits=choice == DIGITS),
                     context={"label": label, "points": data[:1000] if data.shape[1] == 2 else None})

    if data is None:
        st.info("Choose P and Q on the Distributions page first, or pick the built-in digits.")
    else:
        runner.controls(job, "energy", start)
    live.live_panel(job, lambda job, rows: live.stages_view(job, rows, title="Bridge flow, then ratio network",
                                                            chart_key="energy_loss_chart"))
    result = job.context.get("result")
    if result is not None:
        show_result(result, job.context.get("label", ""), job.context.get("points"))
    if job.context.get("samples") is not None:
        show_samples(*job.context["samples"])
