"""Section 3 of the Images page: scrub one translation along t, against a pixel cross-fade and the
nearest target image; grids at five times, the GIF export and the latent space."""
from __future__ import annotations

import streamlit as st
import torch

from otcore.images import (DigitJudge, ImageDomain, ImageLoadError, LatentTranslator, crossfade, decode_image,
                           digits_split, judge_shapes, nearest_images)
from otcore.images.domains import IMAGE_SUFFIXES
from otcore.images.shape_measure import estimate
from otcore.viz.images import fit_scale, grid_figure, latent_figure, scrub_gif, to_pil

from . import page
from .images_domains import scale_for, smooth
from .literal import literal
from .page import default

PROGRESS_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
GRID_ROWS = 6


@st.cache_resource(show_spinner="Training the digit judge …")
def digit_judge() -> DigitJudge:
    """The ten-class judge, trained on digits that no built-in domain trains or shows."""
    return DigitJudge.from_split(digits_split(0))


def shape_caption(image: torch.Tensor) -> str:
    """What the shape judge reads from one (3, S, S) image: the shape, its centre, half-width and colour."""
    shape = judge_shapes(image[None])[0]
    if shape == "none":
        return "judged: no single shape"
    est = estimate(image[None], shape)
    (x, y), r = est.centres[0].tolist(), float(est.sizes[0])
    colour = "#" + "".join(f"{round(255 * float(v)):02x}" for v in est.colours[0].clamp(0, 1))
    return f"judged: {shape} at ({x:.1f}, {y:.1f}), half-width {r:.1f} px, {colour}"


def judge_caption(images: torch.Tensor, digits: tuple[int, int] | None, shapes: bool = False) -> list[str]:
    if shapes and images.shape[1] == 3:
        return [shape_caption(img) for img in images]
    if digits is None or images.shape[1:] != (1, 8, 8):
        return ["" for _ in range(len(images))]
    return [f"judged: {int(d)}" for d in digit_judge().predict(images)]


def digit_of(d: ImageDomain) -> int | None:
    return int(d.name.split()[-1]) if d.name.startswith("digit ") else None


def translate_section(tr: LatentTranslator, a, b, training: bool) -> None:
    st.subheader("3 · Scrub the translation")
    if training:
        st.caption("The flow is still training: this is a snapshot of it as it stands (it updates on every rerun).")
    names = tr.names
    direction = st.radio("Direction", ["forward", "reverse"], horizontal=True, key=default("img_direction", "forward"),
                         format_func=lambda d: f"{names[0]} → {names[1]}" if d == "forward" else f"{names[1]} → {names[0]}")
    reverse = direction == "reverse"
    (src_train, src_gallery), (tgt_train, _) = (b, a) if reverse else (a, b)
    digits = (digit_of(a[0]), digit_of(b[0]))
    digits = digits if None not in digits else None
    shapes = {a[0].name, b[0].name} <= {"circles", "squares"}
    size = src_train.size
    scale = scale_for(size)

    gallery = src_gallery.images if len(src_gallery) else src_train.images[:12]
    shown = gallery[:12]
    st.plotly_chart(grid_figure(shown[None], col_labels=[str(i + 1) for i in range(len(shown))],
                                scale=fit_scale(size, 72), pad=3, smooth=smooth(),
                                title=f"Gallery: held-out images of {src_train.name} (never used in training)"),
                    key="img_gallery_chart", width="stretch")
    c = st.columns([2, 3])
    if st.session_state.get("img_pick", 1) > len(shown):
        st.session_state["img_pick"] = 1
    pick = (c[0].slider("Source image from the gallery", 1, len(shown), key=default("img_pick", 1))
            if len(shown) > 1 else 1)
    upload = c[1].file_uploader("… or upload your own source image", type=[s.lstrip(".") for s in IMAGE_SUFFIXES],
                                key="img_up_source")
    source = shown[pick - 1:pick]
    if upload is not None:
        try:
            mode = "grey" if src_train.channels == 1 else "rgb"
            source = torch.as_tensor(decode_image(upload.getvalue(), size, mode))[None]
            c[1].caption(f"Using your image {literal(upload.name)} (converted to {size} × {size}); remove it to use the gallery.")
        except ImageLoadError as err:
            c[1].error(literal(f"{upload.name}: {err}"), icon=":material/warning:")

    t = st.slider("t: from the source domain (0) to the target domain (1)", 0.0, 1.0, step=0.05,
                  key=default("img_t", 0.0))
    frame = tr.frames(source, [t], reverse)[0]
    fade = crossfade(source, tgt_train.images, t)
    nearest = nearest_images(source, tgt_train.images)
    row = torch.cat([source, frame, fade, nearest])
    labels = judge_caption(row, digits, shapes)
    cols = st.columns(4)
    titles = ["source", f"latent OT flow, t = {t:.2f}", f"pixel cross-fade, t = {t:.2f}", "nearest target image"]
    for col, img, title, lab in zip(cols, row, titles, labels):
        col.image(to_pil(img, scale, smooth()), caption=f"{title}{' · ' + lab if lab else ''}", width="stretch")
    text, formulas = st.columns([3, 2], gap="large")
    with text:
        st.markdown("The source image is **encoded** to a latent code z, the code **flows** along the learned OT "
                    "velocity field to time t, and the result is **decoded**. The naive alternative fades the "
                    "pixels toward the most similar target image: halfway it shows two images on top of each "
                    "other, while the latent path stays among images the decoder has learned to draw.")
        if shapes:
            st.caption("“judged” reads the picture alone: the shape's coverage is fitted by a circle and by a "
                       "square drawn at the estimated centre and size, and the nearer one wins; centre, half-width "
                       "and colour are read from the same pixels. Optimal transport should change the shape "
                       "and keep the rest.")
        if digits is not None:
            st.caption("“judged” is a ten-class digit classifier (an RBF SVM) trained on digits that neither the "
                       "autoencoder, the flow nor this gallery used.")
    with formulas:
        st.latex(r"x_t = D\big(\varphi_t(E(x))\big),\quad \frac{d\varphi_t}{dt} = v(\varphi_t, t)")
        st.latex(r"x_t^{\text{fade}} = (1-t)\,x + t\,x^\star")
        st.latex(r"x^\star = \arg\min_{y\in B}\lVert y - x\rVert")

    def make_gif() -> bytes:
        progress = [i / 24 for i in range(25)]
        frames = torch.stack([tr.frames(source, progress, reverse)[:, 0],
                              crossfade(source, tgt_train.images, progress)[:, 0]], 1)
        return scrub_gif(frames, progress, labels=("latent flow", "cross-fade"), scale=fit_scale(size, 192),
                         smooth=smooth())

    g = st.columns([1, 1, 2])
    g[0].download_button("⬇ Export the scrub as GIF", make_gif, file_name="scrub.gif", mime="image/gif",
                         key="img_btn_gif")
    if g[1].toggle("Play it here", key=default("img_play_gif", False)):
        st.image(make_gif(), caption="latent flow (left) and pixel cross-fade (right), t from 0 to 1 and back")

    st.markdown("#### Several sources at t = 0, ¼, ½, ¾, 1")
    tabs = st.tabs([f"{names[0]} → {names[1]}", f"{names[1]} → {names[0]}"])
    for tab, rev in zip(tabs, (False, True)):
        (s_train, s_gallery), (t_train, _) = (b, a) if rev else (a, b)
        sources = (s_gallery.images if len(s_gallery) else s_train.images)[:GRID_ROWS]
        flow_frames = tr.frames(sources, PROGRESS_GRID, rev).transpose(0, 1)          # (rows, 5, C, S, S)
        fade_frames = crossfade(sources, t_train.images, PROGRESS_GRID).transpose(0, 1)
        cols_labels = ["¼" if p == 0.25 else "½" if p == 0.5 else "¾" if p == 0.75 else str(int(p)) for p in PROGRESS_GRID]
        with tab:
            left, right = st.columns(2, gap="large")
            left.plotly_chart(grid_figure(flow_frames, col_labels=[f"t = {c}" for c in cols_labels],
                                          scale=fit_scale(size, 80), pad=3, title="latent OT flow", smooth=smooth()),
                              key=f"img_grid_flow_{int(rev)}", width="stretch")
            right.plotly_chart(grid_figure(fade_frames, col_labels=[f"t = {c}" for c in cols_labels],
                                           scale=fit_scale(size, 80), pad=3, title="pixel cross-fade",
                                           smooth=smooth()),
                               key=f"img_grid_fade_{int(rev)}", width="stretch")
    page.explain("Each row is one held-out source image; each column a time. Along the flow every frame is a "
                 "decoded latent code, so it looks like an image of one of the domains; the cross-fade is a "
                 "pixel average, so its middle frames are two images superimposed.",
                 r"t \in \{0, \tfrac14, \tfrac12, \tfrac34, 1\}")

    st.markdown("#### The latent space")
    fig_col, text_col = st.columns([3, 2], gap="large")
    with fig_col:
        za, zb = tr.autoencoder.encode(a[0].images), tr.autoencoder.encode(b[0].images)
        sources = (src_gallery.images if len(src_gallery) else src_train.images)[:GRID_ROWS]
        paths = tr.latent_path(sources, torch.linspace(0, 1, 21), reverse)
        st.plotly_chart(latent_figure(za, zb, paths, names=names), key="img_latent_chart", width="stretch")
    with text_col:
        page.explain("The training images of both domains as latent codes, drawn in their first two principal "
                     "components, with the flow paths of the gallery sources. Optimal-transport paths are "
                     "straight lines walked at constant speed, and the KL term keeps the codes in one compact "
                     "cloud, so the paths stay where the decoder has seen data.",
                     r"\min_v \int_0^1 \mathbb{E}\lVert v(z_t,t)\rVert^2 dt",
                     r"\text{with } z_0\sim E_\#A,\ \ z_1\sim E_\#B",
                     r"\mathcal{L}_{AE} = \mathbb{E}\big[-\log p(x\mid z)\big]",
                     r"\qquad + \beta\,\mathrm{KL}\big(q(z\mid x)\,\Vert\,\mathcal{N}(0,I)\big)")
    st.download_button("⬇ Download the translator (autoencoder + flow, .pt)", tr.to_bytes,
                       file_name="translator.pt", mime="application/octet-stream", key="img_btn_download",
                       help="use it with: python -m otcore translate translator.pt my_images/ --out translated/")
