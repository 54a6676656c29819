"""Section 2 of the Images page: the autoencoder, then the latent flow, trained as one background
job through ``ui.runner``; settings, the live panel, reconstructions and the translator snapshot."""
from __future__ import annotations

from typing import Any, Iterator

import streamlit as st
import torch

from otcore.images import AEConfig, AutoencoderTrainer, ImageDomain, LatentTranslator, latent_flow_config, latent_trainer
from otcore.images.autoencoder import two_domains
from otcore.viz.images import fit_scale, grid_figure

from . import jobs, live, runner
from .images_domains import smooth
from .page import default, set_widget

JOB = "images"
BASE_AE = AEConfig()
BASE_FLOW = latent_flow_config(BASE_AE.latent)
CACHES = ("images.translator", "images.recon")      # drawings of the run, dropped on Reset
#: widgets that follow AEConfig.for_images when the kind of image (size, colour) changes
PRESET = {"img_latent": "latent", "img_kl": "kl", "img_ae_steps": "steps", "img_width": "width",
          "img_batch": "batch", "img_lr": "lr"}


def follow_preset(channels: int, size: int) -> AEConfig:
    """The defaults for this kind of image; when the kind changes (digits → drawn shapes, say), the
    autoencoder's widgets are set to them, so Train works well the first time."""
    base = AEConfig.for_images(size, channels)
    last = st.session_state.get("img_preset")
    if last is not None and tuple(last) != (size, channels):
        for key, name in PRESET.items():
            set_widget(key, getattr(base, name))
    if last is None or tuple(last) != (size, channels):
        set_widget("img_preset", (size, channels))
    return base


def settings(channels: int, size: int) -> tuple[AEConfig | None, Any, str | None]:
    base = follow_preset(channels, size)
    c = st.columns(4)
    latent = c[0].number_input("Latent size", min_value=1, max_value=128, step=1,
                               key=default("img_latent", base.latent),
                               help="dimension of the space the flow lives in; small is smooth, large is sharp")
    kl = c[1].number_input("KL weight β", min_value=0.0, max_value=20.0, step=0.1, format="%.2f",
                           key=default("img_kl", base.kl),
                           help="0 = plain autoencoder; ~1 keeps the latent space compact and gap-free")
    ae_steps = c[2].number_input("Autoencoder steps", min_value=10, max_value=100_000, step=100,
                                 key=default("img_ae_steps", base.steps))
    flow_steps = c[3].number_input("Flow steps", min_value=10, max_value=100_000, step=100,
                                   key=default("img_flow_steps", BASE_FLOW.warm_steps))
    with st.expander("More settings"):
        c = st.columns(4)
        width = c[0].number_input("Conv width", min_value=4, max_value=256, step=4, key=default("img_width", base.width))
        batch = c[1].number_input("Batch", min_value=4, max_value=1024, step=8, key=default("img_batch", base.batch))
        lr = c[2].number_input("Learning rate", min_value=1e-5, max_value=1e-1, format="%.4g",
                               key=default("img_lr", base.lr))
        seed = c[3].number_input("Seed", min_value=0, max_value=1_000_000, step=1, key=default("img_seed", 0))
    try:
        ae = AEConfig.for_images(size, channels, latent=int(latent), kl=float(kl), steps=int(ae_steps),
                                 width=int(width), batch=int(batch), lr=float(lr), seed=int(seed))
        flow = latent_flow_config(int(latent), warm_steps=int(flow_steps), seed=int(seed))
        return ae, flow, None
    except (ValueError, TypeError) as err:
        return None, None, str(err)


def start(a: ImageDomain, b: ImageDomain, ae_cfg: AEConfig, flow_cfg, sig: str, model=None, ae_trainer=None) -> None:
    """Train the autoencoder (unless ``model`` is given) and then the latent flow, in the background."""
    def steps(ctx: dict) -> Iterator[Any]:
        ae_model = model
        if ae_model is None:
            images, labels = two_domains(a.images, b.images)
            trainer = yield from runner.drive(AutoencoderTrainer(images, ae_cfg, labels), ctx,
                                              "ae_trainer")
            ae_model = trainer.model
        ctx["model"] = ae_model
        yield from runner.drive(latent_trainer(ae_model, a.images, b.images, flow_cfg), ctx, "flow_trainer")

    context = {"sig": sig, "ae_config": ae_cfg, "flow_config": flow_cfg, "names": (a.name, b.name)}
    if model is not None:
        context.update(model=model, ae_trainer=ae_trainer)
    runner.start(runner.job(JOB), steps, context=context)


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
