"""The home page: what the app does, the demo button, and the steps to take."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import page      # light: torch & co. are imported only when the demo starts (fast first paint)

page.setup("Home")
HERE = Path(__file__).resolve().parent.parent

st.title("OT Flow Studio")
left, right = st.columns([3, 2], gap="large")
with left:
    st.markdown(
        "**Dynamic optimal transport** moves one cloud of points, P, onto another, Q, along the "
        "cheapest possible motion. Here a neural network learns a velocity field v(x, t); every point of "
        "P follows the ODE dx/dt = v(x, t) from time 0 to time 1 and lands in Q, and running the same "
        "field backward carries Q back to P. Among all such flows the optimal one spends the least "
        "kinetic energy; its particles travel on straight lines at constant speed and never cross, and "
        "its energy equals the squared Wasserstein distance W₂²(P, Q). The flow is learned from samples "
        "alone: a fast flow-matching warm start, then (from 3 dimensions on) a refinement that keeps "
        "its map and straightens its paths, lowering the kinetic energy to the map's own cost."
    )
    st.latex(r"\frac{dx}{dt} = v(x, t),\qquad x(0)\sim P,\quad x(1)\sim Q")
    st.latex(r"W_2^2(P, Q) = \min_v \int_0^1 \mathbb{E}\,\lVert v(x(t), t)\rVert^2\,dt")
    st.markdown("New here? Press the button: it loads **moons → 8 Gaussians**, trains a small flow in "
                "the background and shows the particles moving while it learns.")
    if st.button("▶ Try the demo", key="btn_demo", type="primary"):
        from ui import flowjob

        flowjob.start_demo()
        st.switch_page("views/3_Trajectories.py")
    st.markdown("Or go step by step:")
    st.page_link("views/1_Distributions.py", label="1 · Choose P and Q (toys, Gaussians, your own files)", icon=":material/scatter_plot:")
    st.page_link("views/2_Train.py", label="2 · Train the flow and watch the losses", icon=":material/model_training:")
    st.page_link("views/3_Trajectories.py", label="3 · Watch the particles flow", icon=":material/animation:")
with right:
    picture = HERE / "assets" / "home.png"
    if picture.is_file():
        st.image(str(picture), caption="Particles of the moons flowing onto eight Gaussians along a learned "
                                       "flow (grey: paths, blue: P at t = 0, red: Q at t = 1).")

page.preload("ui.flowjob", "otcore.viz.trajectories")   # after the page is drawn: ready for the demo click
