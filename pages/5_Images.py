"""Image-to-image translation: an autoencoder's latent space, an OT flow inside it, and a slider
that scrubs the translation from one domain to the other."""
from __future__ import annotations

import hashlib
from typing import Any, Iterator

import streamlit as st
import torch

from otcore.images import (BUILTIN, AEConfig, AutoencoderTrainer, DigitJudge, ImageDomain, ImageLoadError,
                           LatentTranslator, crossfade, decode_image, digits_split, latent_flow_config,
                           latent_trainer, load_domain, nearest_images, split_gallery)
from otcore.images.domains import IMAGE_SUFFIXES, MODES
from otcore.viz.images import fit_scale, grid_figure, latent_figure, scrub_gif, to_pil
from ui import jobs, live, page
from ui.literal import literal
from ui.page import default

page.setup("Images", "🖼️")
JOB = "images"
SHADOW = "_img_widget_shadow"
PROGRESS_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
GRID_ROWS = 6
BASE_AE = AEConfig()
BASE_FLOW = latent_flow_config(BASE_AE.latent)


def keep_widgets() -> None:
    """Widget values of this page survive page switches (uploaders and buttons excepted)."""
    ss = st.session_state
    shadow = ss.setdefault(SHADOW, {})
    for key in list(ss.keys()):
        if isinstance(key, str) and key.startswith("img_") and not key.startswith(("img_up", "img_btn")):
            shadow[key] = ss[key]
    for key, value in shadow.items():
        if key not in ss:
            ss[key] = value


@st.cache_resource(show_spinner=False)
def builtin(name: str) -> tuple[ImageDomain, ImageDomain]:
    """Immutable built-in data (training images, gallery), shared by all sessions."""
    return BUILTIN[name]()


@st.cache_resource(show_spinner="Training the digit judge …")
def digit_judge() -> DigitJudge:
    """The ten-class judge, trained on digits that no built-in domain trains or shows."""
    return DigitJudge.from_split(digits_split(0))


def scale_for(size: int) -> int:
    return fit_scale(size, 256)


def smooth() -> bool:
    """Draw upscaled images bicubically (the toggle in section 1) rather than as raw pixels."""
    return bool(st.session_state.get("img_smooth", True))


# --- 1 · domains ---------------------------------------------------------------------------------
def domain_picker(side: str, col, default_name: str) -> tuple[ImageDomain, ImageDomain] | None:
    """Widgets for one domain; returns (training images, gallery) or None (with the reason shown)."""
    with col:
        st.markdown(f"**Domain {side}** ({'t = 0' if side == 'A' else 't = 1'})")
        kind = st.radio(f"Images of domain {side}", ["Built-in", "Upload"], horizontal=True,
                        key=default(f"img_kind_{side}", "Built-in"))
        if kind == "Built-in":
            name = st.selectbox("Built-in set", list(BUILTIN), key=default(f"img_builtin_{side}", default_name))
            return builtin(name)
        files = st.file_uploader(f"Images for {side}: a zip, or several PNG/JPEG files",
                                 type=[s.lstrip(".") for s in IMAGE_SUFFIXES] + ["zip"],
                                 accept_multiple_files=True, key=f"img_up_{side}")
        size, mode = st.session_state["img_size"], st.session_state["img_mode"]
        stored = st.session_state.get(f"images.uploaded_{side}")
        if not files:
            if stored is not None and stored[0][1:] == (size, mode):
                st.caption(f"Using the {len(stored[1][0]) + len(stored[1][1])} images uploaded earlier "
                           "(upload again to change them).")
                return stored[1]
            st.info("Upload at least 10 images (or a zip of them).")
            return None
        digest = hashlib.sha1(b"".join(f.file_id.encode() for f in files)).hexdigest()
        key = (digest, size, mode)
        if stored is not None and stored[0] == key:
            return stored[1]
        try:
            domain = load_domain([(f.name, f.getvalue()) for f in files], size, mode, name=f"uploaded {side}")
        except ImageLoadError as err:
            st.error(literal(str(err)), icon=":material/warning:")
            if stored is not None and stored[0][1:] == (size, mode):
                st.caption("Still using the images uploaded before.")
                return stored[1]
            return None
        if domain.skipped:
            with st.expander(f"{len(domain.skipped)} file(s) skipped"):
                for name, reason in domain.skipped:
                    st.caption(literal(f"{name}: {reason}"))
        parts = split_gallery(domain)
        st.session_state[f"images.uploaded_{side}"] = (key, parts)
        return parts


def domains_section() -> tuple[tuple[ImageDomain, ImageDomain], tuple[ImageDomain, ImageDomain]] | None:
    st.subheader("1 · Two image domains")
    default("img_size", 16)
    default("img_mode", "grey")
    if "Upload" in (st.session_state.get("img_kind_A"), st.session_state.get("img_kind_B")):
        c = st.columns(2)
        c[0].selectbox("Uploaded images are resized to", [8, 16, 32, 64], key="img_size",
                       format_func=lambda s: f"{s} × {s} pixels")
        c[1].selectbox("Colour", list(MODES), key="img_mode", format_func=lambda m: {"grey": "grey", "rgb": "RGB"}[m])
    st.toggle("Smooth upscaling (bicubic; off shows the raw pixels)", key=default("img_smooth", True))
    cols = st.columns(2, gap="large")
    a = domain_picker("A", cols[0], "digit 3")
    b = domain_picker("B", cols[1], "digit 8")
    for parts, col in ((a, cols[0]), (b, cols[1])):
        if parts is not None:
            train, gallery = parts
            col.plotly_chart(grid_figure(train.images[:8][None], scale=fit_scale(train.size, 64), pad=3,
                                         smooth=smooth()),
                             key=f"img_preview_{'A' if col is cols[0] else 'B'}", width="stretch")
            col.caption(f"{len(train)} training images and {len(gallery)} held-out gallery images, "
                        f"{train.size} × {train.size} {'grey' if train.channels == 1 else 'RGB'}.")
    if a is None or b is None:
        return None
    if max(a[0].size, b[0].size) > 8 or 3 in (a[0].channels, b[0].channels):
        st.caption("Larger or colour images train a few times slower than the 8 × 8 digits; a latent size of "
                   "8–16 keeps more of their detail.")
    if a[0].images.shape[1:] != b[0].images.shape[1:]:
        st.error(f"Domain A is {_shape(a[0])} and domain B is {_shape(b[0])}: both domains need the same size "
                 "and colour (built-in digits are 8 × 8 grey, photo patches 16 × 16 RGB; uploads follow the "
                 "settings above).", icon=":material/warning:")
        return None
    return a, b


def _shape(d: ImageDomain) -> str:
    return f"{d.size} × {d.size} {'grey' if d.channels == 1 else 'RGB'}"


def signature(a, b) -> str:
    h = hashlib.sha1()
    for parts in (a, b):
        for d in parts:
            h.update(d.images.numpy().tobytes())
    return h.hexdigest()


# --- 2 · training ----------------------------------------------------------------------------------
def settings(channels: int, size: int) -> tuple[AEConfig | None, Any, str | None]:
    c = st.columns(4)
    latent = c[0].number_input("Latent size", min_value=1, max_value=128, step=1,
                               key=default("img_latent", BASE_AE.latent),
                               help="dimension of the space the flow lives in; small is smooth, large is sharp")
    kl = c[1].number_input("KL weight β", min_value=0.0, max_value=20.0, step=0.1, format="%.2f",
                           key=default("img_kl", BASE_AE.kl),
                           help="0 = plain autoencoder; ~1 keeps the latent space compact and gap-free")
    ae_steps = c[2].number_input("Autoencoder steps", min_value=10, max_value=100_000, step=100,
                                 key=default("img_ae_steps", BASE_AE.steps))
    flow_steps = c[3].number_input("Flow steps", min_value=10, max_value=100_000, step=100,
                                   key=default("img_flow_steps", BASE_FLOW.warm_steps))
    with st.expander("More settings"):
        c = st.columns(4)
        width = c[0].number_input("Conv width", min_value=4, max_value=256, step=4, key=default("img_width", BASE_AE.width))
        batch = c[1].number_input("Batch", min_value=4, max_value=1024, step=8, key=default("img_batch", BASE_AE.batch))
        lr = c[2].number_input("Learning rate", min_value=1e-5, max_value=1e-1, format="%.4g",
                               key=default("img_lr", BASE_AE.lr))
        seed = c[3].number_input("Seed", min_value=0, max_value=1_000_000, step=1, key=default("img_seed", 0))
    try:
        ae = AEConfig(size=size, channels=channels, latent=int(latent), kl=float(kl), steps=int(ae_steps),
                      width=int(width), batch=int(batch), lr=float(lr), seed=int(seed))
        flow = latent_flow_config(int(latent), warm_steps=int(flow_steps), seed=int(seed))
        return ae, flow, None
    except (ValueError, TypeError) as err:
        return None, None, str(err)


def start(a: ImageDomain, b: ImageDomain, ae_cfg: AEConfig, flow_cfg, sig: str, model=None, ae_trainer=None) -> None:
    """Train the autoencoder (unless ``model`` is given) and then the latent flow, in the background."""
    job = jobs.get_job(JOB)

    def steps() -> Iterator[Any]:
        ae_model = model
        if ae_model is None:
            trainer = AutoencoderTrainer(torch.cat([a.images, b.images]), ae_cfg)
            job.context["ae_trainer"] = trainer
            yield from trainer.run()
            if trainer.stop_reason:
                raise jobs.Diverged(trainer.stop_reason)
            ae_model = trainer.model
        job.context["model"] = ae_model
        flow_trainer = latent_trainer(ae_model, a.images, b.images, flow_cfg)
        job.context["flow_trainer"] = flow_trainer
        try:
            yield from flow_trainer.run()
        except GeneratorExit:
            flow_trainer.close()
            raise
        if flow_trainer.stop_reason:
            raise jobs.Diverged(flow_trainer.stop_reason)

    context = {"sig": sig, "ae_config": ae_cfg, "flow_config": flow_cfg, "names": (a.name, b.name)}
    if model is not None:
        context.update(model=model, ae_trainer=ae_trainer)
    job.start(steps, context=context)


def chart_rows(rows: list[dict]) -> list[dict]:
    """Only the curves worth a chart: the reconstruction error (per pixel) and the flow's loss."""
    drop = {"kl", "loss"}
    return [{k: v for k, v in r.items() if k not in drop} for r in rows]


def reconstructions(job: jobs.Job, a: ImageDomain, b: ImageDomain) -> None:
    model = job.context.get("model")
    trainer = job.context.get("ae_trainer")
    if model is None and trainer is None:
        return
    key = (job.generation, id(model), job.steps // 50 if model is None else -1, smooth())
    cache = st.session_state.get("images.recon")
    if cache is None or cache[0] != key:          # redrawn every 50 steps, not on every refresh
        snapshot = model if model is not None else job.call(lambda: trainer.model)
        with torch.no_grad():
            rows = [a.images[:6], snapshot(a.images[:6]), b.images[:6], snapshot(b.images[:6])]
        fig = grid_figure(torch.stack(rows), row_labels=["A", "A rebuilt", "B", "B rebuilt"],
                          scale=fit_scale(a.size, 72), pad=3, title="Sample reconstructions", smooth=smooth())
        cache = (key, fig)
        st.session_state["images.recon"] = cache
    st.plotly_chart(cache[1], key="img_recon_chart", width="stretch")


def training_panel(a: ImageDomain, b: ImageDomain):
    def render(job: jobs.Job, rows: list[dict]) -> None:
        ae_cfg, flow_cfg = job.context.get("ae_config"), job.context.get("flow_config")
        planned = {}
        if ae_cfg is not None and job.context.get("ae_trainer") is not None:
            planned["autoencoder"] = ae_cfg.steps
        if flow_cfg is not None:
            planned["warm-start"] = flow_cfg.warm_steps
        live.training_view(job, chart_rows(rows), planned=planned, chart_key="img_loss_chart")
        reconstructions(job, a, b)
    return render


# --- 3 · translating -------------------------------------------------------------------------------
def translator_now(job: jobs.Job) -> LatentTranslator | None:
    """The translator as it stands (a snapshot between two steps while the flow trains)."""
    trainer = job.context.get("flow_trainer")
    model = job.context.get("model")
    if trainer is None or model is None or not trainer.history:
        return None
    key = (job.generation, job.steps, job.status)
    cache = st.session_state.get("images.translator")
    if cache is None or cache[0] != key:
        flow = job.call(lambda: trainer.flow)
        cache = (key, LatentTranslator(model, flow, job.context.get("names", ("A", "B"))))
        st.session_state["images.translator"] = cache
    return cache[1]


def judge_caption(images: torch.Tensor, digits: tuple[int, int] | None) -> list[str]:
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
    labels = judge_caption(row, digits)
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


# --- the page ------------------------------------------------------------------------------------
keep_widgets()
st.title("Images: translation through a latent OT flow")
intro, formula = st.columns([3, 2], gap="large")
with intro:
    st.markdown("An **autoencoder** learns to squeeze the images of two domains into a few numbers and back; "
                "an **optimal-transport flow** then carries the codes of domain A onto those of domain B. "
                "Encoding an image, flowing its code to time t and decoding it turns the image, step by step, "
                "into one of the other domain. Defaults train in about a minute on a laptop CPU.")
with formula:
    st.latex(r"x \xrightarrow{\;E\;} z \xrightarrow{\;\varphi_t\;} z_t \xrightarrow{\;D\;} x_t")

picked = domains_section()
if picked is None:
    st.stop()
A, B = picked
sig = signature(A, B)
job = jobs.get_job(JOB)

st.subheader("2 · Train the autoencoder, then the latent flow")
ae_cfg, flow_cfg, cfg_error = settings(A[0].channels, A[0].size)
if cfg_error:
    st.error(cfg_error)
stale = job.context.get("sig") not in (None, sig)
if stale:
    st.warning("The run below was trained on other domains; Train starts again on the domains chosen above.")
b = st.columns(5)
if b[0].button("▶ Train" if job.steps == 0 else "▶ Train again", key="img_btn_start", type="primary",
               disabled=ae_cfg is None or job.running):
    start(A[0], B[0], ae_cfg, flow_cfg, sig)
    st.rerun()
if b[1].button("Stop", key="img_btn_stop", disabled=not job.running):
    job.stop(wait=5.0)
    st.rerun()
if b[2].button("Resume", key="img_btn_resume", disabled=not job.can_resume):
    job.resume()
    st.rerun()
if b[3].button("Reset", key="img_btn_reset", disabled=job.status == jobs.IDLE):
    job.reset()
    for k in ("images.translator", "images.recon"):
        st.session_state.pop(k, None)
    st.rerun()
reuse = job.context.get("model") is not None and not stale and not job.running and ae_cfg is not None
if b[4].button("Retrain the flow only", key="img_btn_flow_only", disabled=not reuse,
               help="keep the trained autoencoder and train a new latent flow"):
    start(A[0], B[0], ae_cfg, flow_cfg, sig, model=job.context["model"], ae_trainer=job.context.get("ae_trainer"))
    st.rerun()

chart, text = st.columns([3, 2], gap="large")
with chart:
    live.live_panel(job, training_panel(A[0], B[0]))
with text:
    page.explain("First the **autoencoder** learns to reconstruct the images of both domains (its loss: the "
                 "mean squared pixel error of the reconstructions; every 50 steps also on held-out images). Its encoder gives "
                 "each image a Gaussian q(z|x); the KL weight β pulls these toward one standard normal, so the "
                 "latent codes form one smooth, gap-free cloud. Then the **flow** is trained between the codes "
                 "of A and of B by flow matching on optimal-transport pairs (its loss, the second panel).",
                 r"\text{reconstruction} = \tfrac{1}{N}\lVert D(E(x)) - x\rVert^2",
                 r"\mathcal{L}_{\text{flow}} = \mathbb{E}_{t,(z_0,z_1)\sim\pi_{\text{OT}}}\lVert v(z_t,t) - (z_1-z_0)\rVert^2")

translator = translator_now(job) if not stale else None
if translator is None:
    st.info("Train to scrub translations: the scrub appears as soon as the flow has started training.")
    st.stop()
translate_section(translator, A, B, job.running)
