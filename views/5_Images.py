"""Image-to-image translation: an autoencoder's latent space, an OT flow inside it, and a slider
that scrubs the translation from one domain to the other."""
from __future__ import annotations

import streamlit as st

from ui import live, page, runner
from ui.images_domains import domains_section, signature
from ui.images_training import CACHES, JOB, settings, start, training_panel, translator_now
from ui.images_translate import translate_section

page.setup("Images", "🖼️")
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
job = runner.job(JOB)

st.subheader("2 · Train the autoencoder, then the latent flow")
ae_cfg, flow_cfg, cfg_error = settings(A[0].channels, A[0].size)
if cfg_error:
    st.error(cfg_error)
stale = job.context.get("sig") not in (None, sig)
if stale:
    st.warning("The run below was trained on other domains; Train starts again on the domains chosen above.")
runner.controls(job, "img", lambda: start(A[0], B[0], ae_cfg, flow_cfg, sig), ready=ae_cfg is not None,
                forget=CACHES, start_label="▶ Train")
reuse = job.context.get("model") is not None and not stale and not job.running and ae_cfg is not None
if st.button("Retrain the flow only", key="img_btn_flow_only", disabled=not reuse,
             help="keep the trained autoencoder and train a new latent flow"):
    start(A[0], B[0], ae_cfg, flow_cfg, sig, model=job.context["model"], ae_trainer=job.context.get("ae_trainer"))
    st.rerun()

chart, text = st.columns([3, 2], gap="large")
with chart:
    live.live_panel(job, training_panel(A[0], B[0]))
with text:
    page.explain("First the **autoencoder** learns to reconstruct the images of both domains (its loss: the "
                 "mean squared pixel error of the reconstructions; every 50 steps also on held-out images). Its "
                 "encoder gives each image a Gaussian q(z|x); the KL weight β pulls these toward one standard "
                 "normal, so the latent codes form one smooth, gap-free cloud. Then the **flow** is trained between "
                 "the codes of A and of B by flow matching on optimal-transport pairs (its loss, the second panel). "
                 "For 32 × 32 RGB images (the drawn circles and squares) the autoencoder also passes each image's "
                 "colour around its bottleneck, and a small head on the code learns to tell A from B, so what "
                 "differs between the domains is one direction that the flow crosses.",
                 r"\text{reconstruction} = \tfrac{1}{N}\lVert D(E(x)) - x\rVert^2",
                 r"\mathcal{L}_{\text{flow}} = \mathbb{E}_{t,(z_0,z_1)\sim\pi_{\text{OT}}}\lVert v(z_t,t) - (z_1-z_0)\rVert^2")

translator = translator_now(job) if not stale else None
if translator is None:
    st.info("Train to scrub translations: the scrub appears as soon as the flow has started training.")
    st.stop()
translate_section(translator, A, B, job.running)
