"""Choose P (t = 0) and Q (t = 1): built-in toys, Gaussians, or uploaded sample files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st
import torch

import otcore
from otcore.projection import ProjectionError, make_view
from otcore.viz.clouds import COLORS, clouds_figure
from ui import page, state
from ui.literal import literal
from ui.page import default
from ui.parse import ParseError, parse_matrix, parse_vector

page.setup("Distributions")
ASSETS = Path(__file__).resolve().parent.parent / "assets"
KINDS = ["Toy", "Gaussian", "Upload"]
GAUSS_MODES = {"isotropic": "σ² · identity", "matrix": "full matrix", "random": "random (seeded)"}
DEFAULTS = {"p": ("moons", 0), "q": ("8gaussians", 1)}
EXAMPLES = [("example_moons.csv", "text/csv", "CSV with a header row (x, y)"),
            ("example_blobs.npy", "application/octet-stream", "NumPy .npy array of shape (n, 2)"),
            ("example_ring3d.npz", "application/octet-stream", "NumPy .npz archive with one 3-D array 'samples'")]


class SideError(ValueError):
    """This side has no valid samples yet; the message says why (``problem``: shown as an error)."""

    def __init__(self, message: str, problem: bool = True):
        super().__init__(message)
        self.problem = problem


def toy_side(s: str) -> tuple[torch.Tensor, str, str, tuple, None]:
    toy = st.selectbox("Toy", otcore.toy_names(), key=default(f"dist_{s}_toy", DEFAULTS[s][0]))
    c1, c2 = st.columns(2)
    n = c1.number_input("Samples n", 10, 50_000, step=500, key=default(f"dist_{s}_n", 2000))
    seed = c2.number_input("Seed", 0, 10_000, key=default(f"dist_{s}_seed", DEFAULTS[s][1]))
    with st.expander("Noise, scale, shift, rotation"):
        own_noise = st.checkbox("Set the noise (else the toy's default)", key=default(f"dist_{s}_own_noise", False))
        noise = st.number_input("Noise std", 0.0, 2.0, step=0.02, format="%.3f", key=default(f"dist_{s}_noise", 0.1),
                                disabled=not own_noise)
        c1, c2 = st.columns(2)
        scale = c1.number_input("Scale", 0.05, 20.0, step=0.1, key=default(f"dist_{s}_scale", 1.0))
        rotation = c2.number_input("Rotation (degrees)", -360.0, 360.0, step=15.0, key=default(f"dist_{s}_rot", 0.0))
        shift_x = c1.number_input("Shift x₁", -50.0, 50.0, step=0.5, key=default(f"dist_{s}_sx", 0.0))
        shift_y = c2.number_input("Shift x₂", -50.0, 50.0, step=0.5, key=default(f"dist_{s}_sy", 0.0))
    noise_arg = float(noise) if own_noise else None
    x = otcore.sample(toy, int(n), seed=int(seed), noise=noise_arg, scale=float(scale), shift=(shift_x, shift_y),
                      rotation=float(rotation))
    extras = [f"noise {noise_arg:g}" if own_noise else "", f"scale {scale:g}" if scale != 1 else "",
              f"rotated {rotation:g}°" if rotation else "", f"shifted ({shift_x:g}, {shift_y:g})" if shift_x or shift_y else ""]
    desc = ", ".join([f"{toy}, n = {int(n)}", *[e for e in extras if e]])
    spec = ("toy", toy, int(n), int(seed), noise_arg, float(scale), float(rotation), float(shift_x), float(shift_y))
    return x, toy, desc, spec, None


def gaussian_side(s: str) -> tuple[torch.Tensor, str, str, tuple, otcore.Gaussian]:
    c1, c2, c3 = st.columns(3)
    dim = c1.number_input("Dimension d", 1, 256, key=default(f"dist_{s}_dim", 2))
    n = c2.number_input("Samples n", 10, 50_000, step=500, key=default(f"dist_{s}_gn", 2000))
    seed = c3.number_input("Seed", 0, 10_000, key=default(f"dist_{s}_gseed", DEFAULTS[s][1]))
    mode = st.radio("Covariance", list(GAUSS_MODES), format_func=GAUSS_MODES.get, horizontal=True,
                    key=default(f"dist_{s}_gmode", "isotropic"))
    dim = int(dim)
    try:
        if mode == "random":
            g = otcore.random_gaussian(dim, seed=int(seed) + 100)
            st.caption("Random mean (std 1) and random covariance with eigenvalues in [0.25, 4].")
        else:
            mean = parse_vector(st.text_input("Mean (one number, or d numbers)", key=default(f"dist_{s}_mean",
                                              "0" if s == "p" else "3")), dim)
            if mode == "isotropic":
                var = st.number_input("Variance σ²", 0.001, 100.0, step=0.1, key=default(f"dist_{s}_var", 1.0))
                cov = float(var) * np.eye(dim)
            else:
                cov = parse_matrix(st.text_area("Covariance (rows separated by ';')",
                                                key=default(f"dist_{s}_cov", "1, 0; 0, 1" if s == "p" else "2, 0.8; 0.8, 1")),
                                   dim)
            g = otcore.Gaussian(mean, cov)
    except (ParseError, ValueError) as err:
        raise SideError(str(err)) from None
    x = g.sample(int(n), seed=int(seed))
    desc = f"Gaussian N(m, Σ) in d = {dim}, {GAUSS_MODES[mode]}, n = {int(n)}"
    spec = ("gaussian", dim, int(n), int(seed), mode, tuple(g.mean.round(12)), tuple(g.cov.ravel().round(12)))
    return x, f"Gaussian (d = {dim})", desc, spec, g


def upload_side(s: str) -> tuple[torch.Tensor, str, str, tuple, None]:
    """The last valid upload of this side stays in use when a new file is refused."""
    kept = st.session_state.get(f"upload_{s}")
    up = st.file_uploader("Samples file (CSV with or without header, .npy, .npz)", type=["csv", "txt", "npy", "npz"],
                          key=f"up_{s}")
    if up is not None and st.session_state.get(f"upload_{s}_tried") != up.file_id:
        st.session_state[f"upload_{s}_tried"] = up.file_id
        try:
            x = otcore.load_samples(up.getvalue(), name=up.name)
            kept = (up.name, x, up.file_id)
            st.session_state[f"upload_{s}"] = kept
            st.session_state.pop(f"upload_{s}_error", None)
        except otcore.SampleLoadError as err:
            st.session_state[f"upload_{s}_error"] = f"{up.name}: {err}"
    if st.session_state.get(f"upload_{s}_error"):
        st.error(literal(st.session_state[f"upload_{s}_error"]) +
                 (f" — still using the previous file {literal(kept[0])}." if kept else ""), icon=":material/warning:")
    if kept is None:
        raise SideError("Upload a file to use it here (example files are offered below).", problem=False)
    name, x, file_id = kept
    st.caption(f"Using **{literal(name)}**: {x.shape[0]} samples in d = {x.shape[1]}.")
    return x, Path(name).stem, f"uploaded {name}, n = {x.shape[0]}, d = {x.shape[1]}", ("upload", file_id), None


SIDES = {"Toy": toy_side, "Gaussian": gaussian_side, "Upload": upload_side}

st.title("Distributions")
st.markdown("Pick the source **P** (where particles start, t = 0) and the target **Q** (where they must "
            "arrive, t = 1). Both are given only through samples: a built-in 2-D toy, a Gaussian with the "
            "mean and covariance you choose, or your own file.")

results: dict[str, tuple | None] = {}
columns = st.columns(2, gap="large")
for s, col in zip(("p", "q"), columns):
    with col:
        st.subheader("P · source (t = 0)" if s == "p" else "Q · target (t = 1)")
        kind = st.radio("Kind", KINDS, horizontal=True, key=default(f"dist_{s}_kind", "Toy"))
        try:
            results[s] = SIDES[kind](s)
        except SideError as err:
            (st.error if err.problem else st.info)(str(err))
            results[s] = None

with st.expander("Example files to try the uploader"):
    cols = st.columns(len(EXAMPLES))
    for (fname, mime, what), c in zip(EXAMPLES, cols):
        path = ASSETS / fname
        if path.is_file():
            c.download_button(f"⬇ {fname}", path.read_bytes(), file_name=fname, mime=mime, key=f"btn_example_{fname}")
            c.caption(what)

pair = state.get_pair()
if results["p"] is not None and results["q"] is not None:
    (xp, lp, dp, sp, gp), (xq, lq, dq, sq, gq) = results["p"], results["q"]
    if xp.shape[1] != xq.shape[1]:
        st.error(f"P is {xp.shape[1]}-dimensional and Q is {xq.shape[1]}-dimensional: a flow moves points within "
                 "one space, so both must have the same dimension. The previous pair stays in use.", icon=":material/block:")
    else:
        dim = xp.shape[1]
        view_spec: tuple = ("auto",)
        if dim > 2:
            c1, c2, c3 = st.columns([2, 1, 1])
            kind = c1.radio("2-D view", ["pca", "coordinates"], horizontal=True, key=default("dist_view", "pca"),
                            format_func={"pca": "principal axes (PCA)", "coordinates": "two coordinates"}.get)
            i = c2.number_input("First coordinate", 1, dim, key=default("dist_view_i", 1), disabled=kind != "coordinates")
            j = c3.number_input("Second coordinate", 1, dim, key=default("dist_view_j", 2), disabled=kind != "coordinates")
            view_spec = (kind, int(i) - 1, int(j) - 1)
        spec = (sp, sq, view_spec)
        applied = st.session_state.get("distributions.applied")
        if pair is not None and applied is None:
            st.session_state["distributions.applied"] = spec       # a pair set elsewhere (the demo) is kept as it is
        elif pair is None or spec != applied:
            try:
                view = make_view([xp, xq], *view_spec) if dim > 2 else None
                pair = state.set_pair(xp, xq, label_p=lp, label_q=lq, desc_p=dp, desc_q=dq, view=view, spec=spec,
                                      gaussians=(gp, gq) if gp is not None and gq is not None else None)
                st.session_state["distributions.applied"] = spec
            except ProjectionError as err:
                st.error(str(err))

if pair is not None:
    st.subheader(f"In use: {literal(pair.title)}")
    fig_col, text_col = st.columns([3, 2], gap="large")
    with fig_col:
        view = pair.view
        fig = clouds_figure({f"P: {pair.label_p}": view.points(pair.P), f"Q: {pair.label_q}": view.points(pair.Q)},
                            colors={f"P: {pair.label_p}": COLORS["P"], f"Q: {pair.label_q}": COLORS["Q"]},
                            labels=view.labels)
        st.plotly_chart(fig, key="dist_preview_chart", width="stretch")
        if view.note():
            st.info(view.note(), icon=":material/visibility:")
    with text_col:
        page.explain(
            f"**P**: {literal(pair.desc_p)}.  \n**Q**: {literal(pair.desc_q)}.\n\n"
            "The flow will carry every sample of P to a sample of Q. The cheapest way to do so, in squared "
            "distance, defines the Wasserstein distance; the Train page compares the learned flow's cost "
            "with it.",
            r"W_2^2(P, Q) = \min_{T:\,T_\#P = Q}\ \mathbb{E}_{x\sim P}\,\lVert T(x) - x\rVert^2",
        )
        stats = {"": ["P", "Q"], "n": [len(pair.P), len(pair.Q)], "d": [pair.dim, pair.dim],
                 "mean (first 2 coords)": [", ".join(f"{v:.2f}" for v in x.mean(0)[:2].tolist()) for x in (pair.P, pair.Q)],
                 "std (overall)": [f"{float(x.std(0).mean()):.2f}" for x in (pair.P, pair.Q)]}
        # a static table: two rows need no interactive grid, and st.dataframe's grid costs a fresh
        # session about a second of browser CPU (bench/app_load.py's Distributions page)
        st.table(stats, hide_index=True, width="content")
        if pair.gaussians is not None:
            p, q = pair.gaussians
            st.markdown(f"Both sides are Gaussian, so the optimal transport is known in closed form: "
                        f"**W₂² = {otcore.w2_squared(p, q):.4g}**.")
            st.latex(r"W_2^2 = \lVert m_0 - m_1\rVert^2 + \operatorname{tr}\big(\Sigma_0 + \Sigma_1 - "
                     r"2(\Sigma_0^{1/2}\Sigma_1\Sigma_0^{1/2})^{1/2}\big)")
    c1, c2 = st.columns([1, 4])
    if c1.button("Train a flow →", key="btn_to_train", type="primary"):
        st.switch_page("views/2_Train.py")
