"""The maps of the Density ratio page's first tab: log p_t − log p_0 and the time score on a 2-D
slice (animated, with the particles), the baselines beside the bridge estimate, and downloads."""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

import otcore
from otcore.dre import gaussian_log_ratio, kernel_log_ratio
from otcore.dre.maps import baseline_maps, errors_against, maps_npz, plane_grid, ratio_maps
from otcore.projection import ProjectionError, View, make_view, slice_through
from otcore.viz.density import comparison_figure, ratio_animation

from . import page, state
from .page import default

MAPS = "density.maps"            # (key, computed maps and figures) of the last drawing
EVAL_POINTS = 1000               # samples of P and of Q on which errors are measured


def subsample(x: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]
    return x[idx]


def choose_slice(pair: state.Pair) -> tuple[View, tuple]:
    """For d > 2: the plane of the maps (principal axes or two coordinates), through the data's mean."""
    if pair.dim <= 2:
        return pair.view, ()
    c = st.columns([2, 1, 1])
    kinds = {"principal plane (PCA)": "pca", "two coordinates": "coordinates"}
    label = c[0].radio("Slice of R^d shown", list(kinds), horizontal=True, key=default("dre_slice", "principal plane (PCA)"),
                       help="The maps are a 2-D slice through the mean of P and Q; the other coordinates are "
                            "held at the mean. The particles are projected onto the slice's axes.")
    kind = kinds[label]
    i = c[1].number_input("First coordinate", 1, pair.dim, key=default("dre_slice_i", 1), disabled=kind != "coordinates")
    j = c[2].number_input("Second coordinate", 1, pair.dim, key=default("dre_slice_j", 2), disabled=kind != "coordinates")
    try:
        view = make_view([pair.P, pair.Q], kind, int(i) - 1, int(j) - 1)
    except ProjectionError as err:
        st.error(str(err))
        view = pair.view
    return slice_through(view, torch.cat([pair.P, pair.Q]).mean(0)), (kind, int(i), int(j))


def draw_maps(pair: state.Pair, flow: otcore.OTFlow, ratio, one_step, job_key) -> None:
    view, view_key = choose_slice(pair)
    c = st.columns(3)
    frames = c[0].slider("Frames", 5, 41, step=2, key=default("dre_frames", 21))
    resolution = c[1].slider("Grid resolution", 20, 120, step=10, key=default("dre_resolution", 60))
    particles = c[2].slider("Particles", 0, 1000, step=50, key=default("dre_particles", 300))
    key = (job_key, pair.id, frames, resolution, particles, view_key)
    cached = st.session_state.get(MAPS)
    if cached is None or cached[0] != key:
        with st.spinner("Evaluating the ratio on the grid …"):
            times = np.linspace(0.0, 1.0, frames)
            grid = plane_grid(view, [pair.P, pair.Q], resolution)
            maps = ratio_maps(ratio, grid, times)
            pts = None
            if particles > 0:
                path = flow.trajectory(subsample(pair.P, particles), torch.as_tensor(times, dtype=torch.float32))
                pts = view.points(path)
            base = baseline_maps(grid, one_step=one_step, gaussians=pair.gaussians,
                                 samples=(pair.P, pair.Q) if pair.dim <= 3 else None)
            focus = grid.near(np.concatenate([view.points(pair.P), view.points(pair.Q)]))
            cached = (key, dict(grid=grid, maps=maps, pts=pts, base=base, focus=focus,
                                errors=sample_errors(pair, ratio, one_step)))
            st.session_state[MAPS] = cached
    data = cached[1]
    grid, maps, pts, focus = data["grid"], data["maps"], data["pts"], data["focus"]
    labels = view.labels
    if pair.dim > 2:
        st.caption(view.note() + " The heatmaps show the plane of this view through the mean of P and Q "
                                 "(a 2-D slice of R^d); the particles are projected onto it.")
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.plotly_chart(ratio_animation(grid.xs, grid.ys, maps.log_ratio, maps.times, particles=pts, labels=labels,
                                        title="log p_t(x) − log p_0(x) with the particles at time t", focus=focus),
                        width="stretch", key="dre_anim_ratio")
    with right:
        page.explain("**How the density moves.** Red where the density at time t is higher than P's, blue "
                     "where it is lower. Press play: the red region follows the particles from P to Q. At "
                     "t = 1 the map is the estimate of log q − log p.",
                     r"\log p_t(x)-\log p_0(x)=\int_0^t r(x,s)\,ds")
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.plotly_chart(ratio_animation(grid.xs, grid.ys, maps.time_score, maps.times, particles=pts, labels=labels,
                                        title="time score r(x, t)", colorbar="nats / unit t", focus=focus),
                        width="stretch", key="dre_anim_score")
    with right:
        page.explain("**The time score.** The rate at which log-density changes at x: positive ahead of the "
                     "moving mass (it is arriving), negative behind it (it is leaving). This is what the "
                     "network learns; the maps above are its integrals.",
                     r"r(x,t)\approx\partial_t\log p_t(x)")
    comparison(pair, view, grid, maps, data["base"], data["errors"], labels, focus)
    c = st.columns(2)
    c[0].download_button("⬇ Download the density ratio (.pt)", ratio.to_bytes, file_name="ratio.pt",
                         key="dre_download_ratio", help="otcore.DensityRatio.load('ratio.pt') reads it back")
    c[1].download_button("⬇ Download the maps (.npz)", lambda: maps_npz(grid, maps, data["base"]),
                         file_name="density_maps.npz",
                         key="dre_download_maps", help="grid, times, log p_t − log p_0, r(x, t) and the baselines")


def sample_errors(pair: state.Pair, ratio, one_step) -> dict | None:
    """Errors against the closed form (Gaussian pairs) on samples of P and Q."""
    if pair.gaussians is None:
        return None
    x = torch.cat([subsample(pair.P, EVAL_POINTS, 1), subsample(pair.Q, EVAL_POINTS, 2)])
    truth = gaussian_log_ratio(*pair.gaussians, x)
    est = {"bridge (infinitesimal)": ratio.log_ratio(x)}
    if one_step is not None:
        est["one step"] = one_step.log_ratio(x)
    if pair.dim <= 3:
        est["kernel"] = kernel_log_ratio(pair.P, pair.Q, x)
    return errors_against(truth, est)


def comparison(pair: state.Pair, view: View, grid, maps, base: dict, errors: dict | None, labels, focus) -> None:
    panels = {"bridge (infinitesimal)": maps.log_ratio[-1], **base}
    subtitles = {}
    if errors is not None:
        subtitles = {name: f"MAE {e.mae:.2f} nats · corr {e.corr:.3f}" for name, e in errors.items()}
        subtitles["closed form"] = "exact"
    pts = view.points(torch.cat([subsample(pair.P, 300, 3), subsample(pair.Q, 300, 4)]))
    st.plotly_chart(comparison_figure(grid.xs, grid.ys, panels, subtitles=subtitles, points=pts, labels=labels,
                                      focus=focus),
                    width="stretch", key="dre_compare")
    notes = ["**Beside it, the baselines** on the same grid, one colour scale: the *one-step* classifier "
             "trained once between P and Q (same network, no time input), and"]
    if pair.gaussians is not None:
        notes.append("the exact **closed form** (P and Q are Gaussians),")
    if pair.dim <= 3:
        notes.append("**kernel density** estimates of p and q (Scott's rule),")
    notes.append("each with its mean absolute error against the closed form on samples of P and Q where one "
                 "exists. Far from the data every estimator extrapolates; judge them where the points are "
                 "(the colour scale is set there, values beyond it are clipped).")
    page.explain(" ".join(notes), r"\text{MAE}=\mathbb{E}_{x\sim\frac{P+Q}{2}}\big|\widehat{\log\tfrac{q}{p}}(x)-\log\tfrac{q}{p}(x)\big|")
    if errors is not None:
        st.dataframe([{"estimator": k, "MAE (nats)": round(e.mae, 3), "bias (nats)": round(e.bias, 3),
                       "correlation": round(e.corr, 4)} for k, e in errors.items()], hide_index=True,
                     key="dre_errors")
