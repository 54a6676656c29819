"""Compare methods on the current pair: small multiples with one shared time slider, and the table."""
from __future__ import annotations

import streamlit as st

from otcore.compare import METHODS, CompareConfig, Comparison, make_problem, table_csv, table_rows
from otcore.projection import make_view
from otcore.viz.compare import compare_figure
from ui import live, page, runner, state
from ui.literal import literal
from ui.page import default

page.setup("Compare")
JOB = "compare"
EPS = [0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3, 1.0]
COLUMNS = {"label": "method", "cost": "cost", "cost_ratio": "cost / exact", "fit": "fit", "straightness": "straightness",
           "inversion_error": "inversion error", "seconds": "seconds"}   # the notes follow the table in full

st.title("Compare methods")
page.explain(
    "Up to seven ways to carry P onto Q, run one after another in the background on the current pair: the "
    "learned flows (each an ODE velocity field v(x, t)) and the static maps (exact OT, entropic OT, the Gaussian "
    "closed form). They are drawn side by side on the same particles and scored in one table, first of all by "
    "their transport cost against the exact discrete OT cost of the same points:",
    r"\frac{\text{cost}}{\text{exact}} = \frac{\frac1k\sum_i \int_0^1 \lVert v(x_i(t), t)\rVert^2\,dt}"
    r"{\min_{\pi}\sum_{ij}\pi_{ij}\lVert x_i - y_j\rVert^2}")

pair = state.get_pair()
if pair is None:
    st.info("There is no pair yet. Choose P and Q, or press the demo button on the home page.")
    st.page_link("views/1_Distributions.py", label="Go to Distributions", icon=":material/scatter_plot:")
    st.stop()

fit_gaussians = pair.gaussians is None and st.toggle(
    "Closed form between Gaussians fitted to P and Q", key=default("cmp_fit_gaussians", False),
    help="P and Q are not both Gaussian: the map between their fitted Gaussians is then a reference, not the OT map")
names = [n for n in METHODS if not METHODS[n].needs_gaussians or pair.gaussians is not None or fit_gaussians]
if "cmp_methods" in st.session_state:   # a pair without Gaussians drops the closed form from the choice
    st.session_state["cmp_methods"] = [n for n in st.session_state["cmp_methods"] if n in names]
st.caption(f"Pair: {literal(pair.title)}" + ("" if pair.gaussians is None else
           " — both sides are Gaussian, so the closed form is offered."))
chosen = st.multiselect("Methods", names, key=default("cmp_methods", names), format_func=lambda n: METHODS[n].label)
c = st.columns(3)   # the methods get a row of their own: every chosen label stays readable
seconds = c[0].number_input("Seconds per flow", 1.0, 600.0, step=1.0, key=default("cmp_seconds", 12.0),
                            help="time budget of each learned flow (the full pipeline's FlowConfig.budget_s)")
eps = c[1].select_slider("Entropic ε", EPS, key=default("cmp_eps", 0.05),
                         help="the Sinkhorn blur, relative to the mean squared distance between the points")
particles = c[2].number_input("Particles", 10, 1000, step=10, key=default("cmp_particles", 300))
flows = sum(METHODS[n].kind == "flow" for n in chosen)
st.caption(f"{flows} learned flow(s) × {seconds:.0f} s, plus a few seconds for the static maps and the measures.")

job = runner.job(JOB)


def start() -> None:
    config = CompareConfig(particles=int(particles), flow_seconds=float(seconds), eps=float(eps))
    P, Q, gaussians, methods = pair.P, pair.Q, pair.gaussians, [n for n in names if n in chosen]

    def steps(ctx: dict):
        problem = make_problem(P, Q, config, gaussians=gaussians, fit_gaussians=fit_gaussians)
        yield from runner.drive(Comparison(problem, methods), ctx, "comparison")

    runner.start(job, steps, context={"pair_id": pair.id})


runner.controls(job, "cmp", start, ready=bool(chosen))


def results_now() -> list:
    comparison = job.context.get("comparison")
    return [] if comparison is None else list(dict(comparison.results).values())   # a copy: the worker adds to it


def table(results: list, key: str = "cmp_download") -> None:
    page.explain(
        "**The table.** *cost* is the mean squared distance each method moves the points (for a flow, its "
        "kinetic energy), *cost / exact* divides it by the exact discrete OT cost of the same points; *fit* is "
        "the energy distance between the particles at t = 1 and held-out points of Q (0: Q reached); "
        "*straightness* is path length over the end-to-end distance (1: straight); *inversion error* is how far "
        "running a flow backward lands from where it started. A cost well below exact OT's means the method "
        "falls short of Q: the entropic map's barycentres pull the points towards each other, and its fit shows it.",
        r"\text{fit} = 2\,\mathbb{E}\lVert X_1 - Y\rVert - \mathbb{E}\lVert X_1 - X_1'\rVert"
        r" - \mathbb{E}\lVert Y - Y'\rVert,\qquad \text{straightness} = \frac1k\sum_i "
        r"\frac{\int_0^1 \lVert \dot x_i(t)\rVert\,dt}{\lVert x_i(1) - x_i(0)\rVert}")
    rows = table_rows(results)
    shown = [{COLUMNS[k]: row[k] for k in COLUMNS} for row in rows]
    for r, row in zip(results, shown):   # one type per column: the inversion error as text
        row["inversion error"] = f"{r.inversion_error:.2e}" if r.is_flow else "n/a"
    st.dataframe(shown, hide_index=True, width="stretch")
    st.download_button("Download the table (CSV)", table_csv(rows), file_name="compare.csv", mime="text/csv",
                       key=key)


def status(job, rows) -> None:
    live.status_line(job)
    comparison = job.context.get("comparison")
    if comparison is None:
        return
    step = comparison.current
    now = "" if step is None or comparison.done else f" — now: {METHODS[step.method].label} ({step.stage})"
    st.progress(comparison.progress, text=f"{len(comparison.results)} of {len(comparison.methods)} methods done{now}")
    if job.running and comparison.results:
        table(results_now(), key="cmp_download_live")   # its own key: the run may end while this page draws


live.live_panel(job, status)
comparison = job.context.get("comparison")
if comparison is not None and not job.running and "entropic" in comparison.results \
        and comparison.problem.config.eps != float(eps):   # the ε slider redoes only the entropic map
    with st.spinner(f"Sinkhorn at ε = {eps:g} …"):
        comparison.redo("entropic", eps=float(eps))
results = results_now()
if not results:
    st.info("Press Start: the panels appear as the methods finish.")
    st.stop()
if job.context.get("pair_id") != pair.id:
    st.warning("These results are for an earlier pair; press Restart to compare on the current one.")
times = results[0].times.tolist()
frame = st.select_slider("Time t (all panels)", list(range(len(times))), key=default("cmp_t", len(times) // 2),
                         format_func=lambda i: f"{times[i]:.2f}")
frame = min(int(frame), len(times) - 1)
problem = comparison.problem          # what the results were computed on (the pair may have changed since)
view = pair.view if pair.dim == problem.dim and pair.view is not None else make_view([problem.P, problem.Q])
fig = compare_figure(results, frame, view=view, background={"P (t = 0)": problem.P, "Q (t = 1)": problem.Q})
st.plotly_chart(fig, key="cmp_chart", width="stretch")
if view.note():
    st.caption(view.note())
page.explain(
    "**The panels.** Every panel moves **the same particles** of P (dark dots), and the slider sets the time t "
    "in all of them; grey lines are their whole paths, P and Q are drawn faintly behind. The learned flows "
    "follow their ODE; the static maps move each particle on the straight line to its image T(x) (McCann's "
    "interpolation). Exact OT's orange segments join matched pairs; entropic OT sends each point to the "
    "barycentre of its blurred partners.",
    r"\dot x_t = v(x_t, t)\quad\text{(flows)},\qquad x_t = (1-t)\,x + t\,T(x)\quad\text{(maps)},\qquad "
    r"T_\varepsilon(x_i) = \frac{\sum_j \pi^\varepsilon_{ij}\, y_j}{\sum_j \pi^\varepsilon_{ij}}")
if not job.running:
    table(results)
notes = [f"**{r.label}**: {literal(r.note)}" for r in results if r.note]
if notes:
    st.markdown("\n".join(f"- {n}" for n in notes))
