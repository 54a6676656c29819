"""What each lesson says and draws: a few sentences and the formulas beside its figures, the picture
shown at once (before any training), the live status, and the results of its one button."""
from __future__ import annotations

import streamlit as st
from otcore import w2_squared
from otcore.compare import Comparison, Problem
from otcore.projection import make_view
from otcore.viz.clouds import clouds_figure
from otcore.viz.compare import compare_figure
from otcore.viz.ratio_check import ratio_check_figure

from . import lessons_runs, live, page
from .lessons_link import key
from .lessons_spec import Decoded
from .literal import literal

PREVIEW = "lessons.preview"      # (problem, results drawn before training) of the lesson on screen
INTRO = {
    "gaussians": (
        "Between two Gaussians optimal transport is known exactly: the map is affine, T(x) = m₁ + A(x − m₀), and "
        "each particle moves on a straight line at constant speed (McCann's interpolation). The learned flow on the "
        "left should trace the same paths as the closed form on the right. Its **cost** is the mean kinetic energy "
        "of the particles' paths; for the optimal flow it equals W₂²(P, Q), so *cost / W₂² = 1* means the flow "
        "found the cheapest way, and above 1 it is paying for detours. The bound holds for a flow that "
        "carries P exactly onto Q: one still short of Q (a larger *fit* number) can read below 1.",
        r"W_2^2 = \lVert m_0-m_1\rVert^2 + \operatorname{tr}\!\big(\Sigma_0+\Sigma_1-2(\Sigma_0^{1/2}\Sigma_1"
        r"\Sigma_0^{1/2})^{1/2}\big),\qquad A=\Sigma_0^{-1/2}(\Sigma_0^{1/2}\Sigma_1\Sigma_0^{1/2})^{1/2}\Sigma_0^{-1/2}",
        r"\text{cost} = \frac1k\sum_{i=1}^k\int_0^1\lVert v(x_i(t),t)\rVert^2\,dt \;\ge\; W_2^2"),
    "straight": (
        "Flow matching regresses a velocity on straight segments between paired points. With the **independent** "
        "coupling every x is paired with a random y: the segments cross (left picture), the network learns their "
        "average at each crossing, and the particles' paths bend. Pairing by **optimal transport** gives segments "
        "that do not cross (right picture), so there is nothing to average and the paths stay straight. The "
        "**straightness** number is the mean path length over the distance travelled: 1 is a straight line.",
        r"\pi_{\text{indep}} = P\otimes Q \quad\text{vs.}\quad \pi_{\text{OT}}=\arg\min_{\pi\in\Pi(P,Q)}"
        r"\mathbb{E}_{\pi}\lVert x-y\rVert^2",
        r"\text{straightness}=\frac1n\sum_i\frac{\int_0^1\lVert\dot x_i(t)\rVert\,dt}{\lVert x_i(1)-x_i(0)\rVert}"),
    "ratio": (
        "We want log q(x) − log p(x). **One classifier** between P and Q learns it from the logistic loss, but "
        "when KL(Q‖P) is tens of nats the two samples are almost perfectly separated: any large enough logit "
        "wins, and the learned ratio comes out flattened. The **telescoping** estimator follows the flow from P "
        "to Q through a chain of distributions p_s; neighbours differ by a fraction of the KL, each step is an "
        "easy classification, and the small steps add up (Rhodes et al., 2020). Here P and Q are Gaussians, so "
        "the true ratio is known and both estimates are plotted against it.",
        r"\log\frac{q(x)}{p(x)} = \int_0^1 r(x,s)\,ds = \sum_{m=1}^{M}\int_{s_{m-1}}^{s_m} r(x,s)\,ds",
        r"\mathrm{KL}(Q\,\|\,P)=\mathbb{E}_{x\sim Q}\Big[\log\frac{q(x)}{p(x)}\Big]"),
    "refine": (
        "The pipeline has two stages. The **warm start** pairs points by exact OT inside minibatches; in many "
        "dimensions a minibatch is a poor sample, its pairing is biased, and the learned paths come out curved "
        "and dearer than W₂². The **second stage** (reflow) keeps the warm start's map T and re-fits the velocity "
        "on the straight segments x → T(x), so the same endpoints are reached on straighter, cheaper paths. The "
        "pipeline starts from the very warm start beside it, so its extra seconds are its second stage. "
        "The picture is a 2-D projection of the d-dimensional paths (PCA); the "
        "numbers are measured in all d dimensions.",
        r"\min_v\ \mathbb{E}_{x\sim P,\,t\sim U[0,1]}\big\lVert v\big((1-t)x+tT(x),t\big)-(T(x)-x)\big\rVert^2",
        r"\frac{\text{cost}}{W_2^2}\ \ (1 = \text{optimal}),\qquad \text{straightness}\ \ (1=\text{straight})"),
}


def explain(d: Decoded) -> None:
    page.explain(*INTRO[d.lesson])


def _table(results, w2: float | None) -> None:
    rows = []
    for r in results:
        row = {"method": r.label, "cost": round(r.cost, 4), "cost / exact discrete": round(r.cost_ratio, 3)}
        if w2:
            row["cost / W₂²"] = round(r.cost / w2, 3)
        row |= {"straightness": round(r.straightness, 4), "fit (energy distance)": float(f"{r.fit:.3g}"),
                "seconds": round(r.seconds, 1)}
        rows.append(row)
    st.dataframe(rows, hide_index=True, width="stretch", key="lesson_table")


def _panels(d: Decoded, problem: Problem, results, chart: str, *, slider: bool = True) -> None:
    """Small multiples of ``results``; with ``slider`` a time slider, else the paths at t = ½."""
    times = problem.times.tolist()
    frame = len(times) // 2
    if slider:
        frame = st.select_slider("Time t", list(range(len(times))), key=page.default(key(d.lesson, "t"), len(times) - 1),
                                 format_func=lambda i: f"{times[i]:.2f}")
    view = None if problem.dim == 2 else make_view([problem.P, problem.Q])
    fig = compare_figure(results, min(int(frame), len(times) - 1), view=view,
                         background={"P (t = 0)": problem.P, "Q (t = 1)": problem.Q}, columns=3, panel_height=340)
    st.plotly_chart(fig, width="stretch", key=chart)
    if view is not None:
        st.caption(view.note())


def preview(d: Decoded, problem: Problem | None) -> None:
    """What the lesson shows before its button is pressed."""
    st.subheader("The pair")
    if d.lesson == "ratio":
        pair = lessons_runs.lesson_pair(d)
        fig = clouds_figure({"P": pair.P.numpy(), "Q": pair.Q.numpy()}, height=380)
        st.plotly_chart(fig, width="stretch", key="lesson_preview")
        st.caption(f"True KL(Q‖P) = {d.settings['kl']:g} nats.")
        return
    cached = st.session_state.get(PREVIEW)
    if cached is None or cached[0] is not problem:
        if d.lesson == "straight":
            shown = [lessons_runs.independent_pairs(problem), lessons_runs.run_result("exact", problem)]
        else:
            shown = [lessons_runs.run_result("closed-form", problem)]
        cached = (problem, shown)
        st.session_state[PREVIEW] = cached
    shown = cached[1]
    if d.lesson == "straight":
        st.caption("The two couplings of the same points. Segments join the paired points.")
    else:
        st.caption(f"The exact OT paths. W₂²(P, Q) = {w2_squared(*problem.gaussians):.4g}; the exact discrete cost "
                   f"of the {len(problem.X)} points drawn is {problem.exact_cost:.4g}.")
    _panels(d, problem, shown, "lesson_preview", slider=False)


def status(job, rows) -> None:
    live.status_line(job)
    run = job.context.get("run")
    if isinstance(run, Comparison):
        step = run.current
        now = "" if step is None or run.done else f" — now: {step.method} ({step.stage})"
        st.progress(run.progress, text=f"{len(run.results)} of {len(run.methods)} methods done{now}")
    elif run is not None:
        st.caption(f"Stage: {run.stage}")


def results(d: Decoded, run, problem: Problem | None) -> None:
    st.subheader("What the lesson found")
    if d.lesson == "ratio":
        r = run.result()
        fig = ratio_check_figure(r.truth, {"one classifier": r.one_step, "telescoping (along the flow)": r.bridge},
                                 r.from_q)
        st.plotly_chart(fig, width="stretch", key="lesson_result")
        c = st.columns(3)
        c[0].metric("True KL(Q‖P)", f"{r.kl_true:.2f} nats")
        c[1].metric("One classifier", f"{r.kl(r.one_step):.2f} nats", f"error {r.mae(r.one_step):.2f} nats / point",
                    delta_color="off")
        c[2].metric("Telescoping", f"{r.kl(r.bridge):.2f} nats", f"error {r.mae(r.bridge):.2f} nats / point",
                    delta_color="off")
        return
    shown = list(dict(run.results).values())
    _panels(d, run.problem, shown, "lesson_result")
    gaussians = run.problem.gaussians
    _table(shown, w2_squared(*gaussians) if gaussians is not None else None)
    if d.lesson == "gaussians" and {"pipeline", "closed-form"} <= set(run.results):
        gap = lessons_runs.path_gap(run.results["pipeline"], run.results["closed-form"])
        st.caption(f"Mean distance between a particle on its learned path and on its exact path: {gap:.3g} "
                   "(averaged over the particles and the time grid).")
    notes = [f"**{r.label}**: {literal(r.note)}" for r in shown if r.note]
    if notes:
        st.markdown("\n".join(f"- {n}" for n in notes))

