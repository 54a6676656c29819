"""Watch the particles flow: animated paths, velocity arrows, closed-form OT paths, exports."""
from __future__ import annotations

import re
import time

import streamlit as st
import torch

from otcore.transport_table import table_csv, transport_table
from otcore.viz.export import animation_gif, animation_html
from otcore.viz.trajectories import trajectory_animation, trajectory_data
from ui import flowjob, page, state
from ui.literal import literal
from ui.page import default

page.setup("Trajectories")
CACHE = "trajectories.cache"      # (settings key, TrajectoryData, figure) of the last drawing
EXPORT = "trajectories.export"    # (settings key, kind, bytes) of the last prepared export
DRAWN = "trajectories.drawn_at"   # time.time() when the animation was last computed
FIRST_STEPS = 100         # a just-started run is shown once it has taken this many steps (or after 15 s)
FOLLOW_S = 10.0           # while following a run, redraw this often

st.title("Trajectories")
pair = state.get_pair()
entry = state.flow_entry()
job = flowjob.job()

if entry is None and pair is not None and job.running:
    with st.spinner("Training has just started: waiting for its first steps …"):
        deadline = time.time() + 15
        while job.running and (job.steps < FIRST_STEPS or job.steps == 0) and time.time() < deadline:
            time.sleep(0.1)
    st.rerun()
if entry is None or pair is None:
    st.info("There is no flow yet. Train one, or press the demo button on the home page.")
    if job.error:
        st.error(f"The last training run failed: {job.error}")
    c1, c2 = st.columns(2)
    if c1.button("Go to Train", key="btn_traj_to_train"):
        st.switch_page("views/2_Train.py")
    if c2.button("Home", key="btn_traj_home"):
        st.switch_page("app.py")
    st.stop()
flow = entry.flow
if flow.dim != pair.dim:
    st.error(f"The flow is {flow.dim}-dimensional but the chosen pair is {pair.dim}-dimensional. Choose matching "
             "distributions, or train a flow for this pair.")
    st.stop()
if flow.meta.get("pair_id") not in (None, pair.id):
    st.warning(f"This flow was trained on an earlier pair; it is shown moving the particles of {literal(pair.title)}.")


@st.fragment(run_every=1.0 if job.running else None)
def training_status() -> None:
    """A cheap line that follows the background run without redrawing the animation."""
    if job.running:
        c1, c2, c3 = st.columns([4, 1, 1])
        c1.info(f"Training is running (step {job.steps}). The animation shows the flow as it was at step "
                f"{st.session_state.get('trajectories.drawn_step', '?')}.")
        follow = c2.toggle("Follow", key=default("traj_follow", True),
                           help=f"redraw with the latest flow every {FOLLOW_S:.0f} s while training runs")
        if c3.button("Refresh", key="btn_traj_refresh") or \
                (follow and time.time() - st.session_state.get(DRAWN, 0) > FOLLOW_S):
            st.rerun()
    elif entry.source == "training":     # the run ended since the page was drawn: show the final flow
        st.rerun()


status_box = st.container()     # filled after the animation is computed (so "drawn at" is known)

controls, figure_col = st.columns([1, 3], gap="large")
with controls:
    direction = st.radio("Direction", ["P → Q", "Q → P"], key=default("traj_direction", "P → Q"),
                         help="forward: particles of P at t = 0 flow to t = 1; backward: particles of Q flow back")
    n = st.slider("Particles", 10, 2000, step=10, key=default("traj_particles", 500))
    frames = st.slider("Frames", 10, 120, step=5, key=default("traj_frames", 60))
    show_paths = st.toggle("Path traces", key=default("traj_paths", True))
    show_arrows = st.toggle("Velocity arrows", key=default("traj_arrows", True))
    show_ref = st.toggle("Closed-form OT paths", key=default("traj_reference", True), disabled=pair.gaussians is None,
                         help="available when P and Q are both Gaussians")
    speed = st.select_slider("Speed", ["slow", "normal", "fast"], key=default("traj_speed", "normal"))
frame_ms = {"slow": 120, "normal": 60, "fast": 25}[speed]
reverse = direction == "Q → P"
source = pair.Q if reverse else pair.P
x = source[torch.randperm(len(source), generator=torch.Generator().manual_seed(0))[:n]]
use_ref = show_ref and pair.gaussians is not None
key = (entry.source, entry.stamp, id(flow), pair.id, reverse, n, frames, show_paths, show_arrows, use_ref, frame_ms)
cached = st.session_state.get(CACHE)
if cached is None or cached[0] != key:
    with st.spinner("Integrating the particles …"):
        data = trajectory_data(flow, x, frames=frames, reverse=reverse, view=pair.view,
                               background={f"P: {pair.label_p}": pair.P, f"Q: {pair.label_q}": pair.Q},
                               arrows=show_arrows, gaussians=pair.gaussians if use_ref else None)
        fig = trajectory_animation(data, show_paths=show_paths, show_arrows=show_arrows, show_reference=use_ref,
                                   frame_ms=frame_ms)
    st.session_state[CACHE] = cached = (key, data, fig)
    st.session_state[DRAWN] = time.time()
    st.session_state["trajectories.drawn_step"] = flow.meta.get("trained_steps", "?")
_, data, fig = cached

with status_box:
    training_status()

with figure_col:
    st.plotly_chart(fig, key="traj_chart", width="stretch")
    if pair.view is not None and pair.view.note():
        st.caption(pair.view.note() + " Arrows are the projected velocities.")
    steps = flow.meta.get("trained_steps")
    st.caption(f"Flow: {entry.source}" + (f", {steps} training steps" if steps is not None else "") +
               ". Press ▶ Play, or drag the slider to a time t.")

text, formulas = st.columns([3, 2], gap="large")
with text:
    st.markdown(
        "Each dot is a particle moving with the learned velocity field; the grey lines are the paths it "
        "takes. The orange arrows show where the particles are pushed at the time shown (for the backward "
        "direction, −v, the way they move as t runs from 1 to 0). Optimal transport moves every particle "
        "in a straight line at constant speed, and paths never cross: the straighter the grey lines, the "
        "closer the flow is to optimal.")
    if pair.gaussians is not None:
        st.markdown("For two Gaussians the optimal paths are known exactly (McCann's interpolation): the green "
                    "rings follow them, starting from the same particles, so you can see how close the "
                    "learned flow is.")
with formulas:
    st.latex(r"\frac{dx}{dt} = v(x,t)")
    st.latex(r"x(1) = T(x(0)),\quad x(0) = T^{-1}(x(1))")
    st.latex(r"\text{kinetic energy} = \int_0^1 \mathbb{E}\,\lVert v(x(t),t)\rVert^2\,dt")
    if pair.gaussians is not None:
        st.latex(r"x_t = (1-t)\,x + t\,T(x),\quad T(x) = m_1 + A(x - m_0)")

st.subheader("Export")
name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{pair.label_p}_to_{pair.label_q}{'_reverse' if reverse else ''}")
c1, c2, c3 = st.columns(3)
c3.download_button(f"⬇ Transport table (CSV, {len(source)} points)", key="btn_download_pairs", on_click="ignore",
                   data=lambda f=flow, s=source, r=reverse: table_csv(transport_table(f, s, reverse=r)),
                   file_name=f"{name}_pairs.csv", mime="text/csv",
                   help=f"every point of {'Q' if reverse else 'P'}, its image {'T⁻¹(y)' if reverse else 'T(x)'}, the "
                        "kinetic energy of its path and the path's length, as `otflow transport` writes them")
prepared = st.session_state.get(EXPORT)
if c1.button("Prepare GIF", key="btn_prepare_gif"):
    with st.spinner("Drawing the frames …"):
        st.session_state[EXPORT] = prepared = (key, "gif", animation_gif(data, frame_ms=frame_ms, show_paths=show_paths,
                                                                          show_arrows=show_arrows, show_reference=use_ref))
if c2.button("Prepare HTML", key="btn_prepare_html"):
    st.session_state[EXPORT] = prepared = (key, "html", animation_html(fig))
if prepared is not None and prepared[0] == key:
    _, kind, blob = prepared
    mime = "image/gif" if kind == "gif" else "text/html"
    st.download_button(f"⬇ Download {literal(name)}.{kind} ({len(blob) / 2**20:.1f} MiB)", blob, file_name=f"{name}.{kind}",
                       mime=mime, key="btn_download_export")
    if kind == "gif":
        st.image(blob, caption="GIF preview", width=320)
