"""Image translation through a latent OT flow: encode → flow to time t → decode.

Domain A sits at t = 0 (the flow's P), domain B at t = 1 (its Q). ``progress`` s ∈ [0, 1] always runs
from the source domain to the target one: A → B uses flow time t = s, B → A uses t = 1 − s.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from ..files import check_format, read_state, save_state, state_bytes, write_atomic
from ..config import FlowConfig
from ..flow import FlowFileError, OTFlow
from ..trainer import StepMetrics, Trainer, TrainingDiverged
from .autoencoder import AEConfig, AutoencoderTrainer, ImageAutoencoder, two_domains

FORMAT = "otcore-translator"
FORMAT_VERSION = 1

#: A flow configuration suited to latent spaces of a few to a few tens of dimensions and a few
#: hundred codes a side: the warm start does the work (with ≲ 512 codes a side one minibatch is the
#: whole set, so the pairing is the exact discrete OT plan); the refinement is off by default since
#: its classifiers memorise a few hundred points.
LATENT_FLOW = FlowConfig(hidden=128, depth=3, warm_steps=800, warm_batch=512, warm_lr=2e-3, ema=0.999,
                         refine_steps=0, holdout=0.15, eval_steps=16)


def latent_flow_config(latent: int, **changes: Any) -> FlowConfig:
    """:data:`LATENT_FLOW` with the field's width fitted to the latent size (≥ 128, ≈ 16 per dimension)."""
    values = {"hidden": max(128, min(512, 16 * latent))}
    values.update(changes)
    return LATENT_FLOW.replace(**values)


def augment_codes(model: ImageAutoencoder, images: torch.Tensor, copies: int, seed: int = 0) -> torch.Tensor:
    """Mean codes of the images plus ``copies`` − 1 draws from q(z|x) each: more samples of the
    latent domain for the flow. images: (n, C, S, S) -> (copies · n, latent)."""
    with torch.no_grad():
        mean, logvar = model.stats(model._check(images))
    if copies <= 1:
        return mean
    gen = torch.Generator().manual_seed(seed)
    draws = [mean] + [mean + torch.randn(mean.shape, generator=gen) * (0.5 * logvar).exp() for _ in range(copies - 1)]
    return torch.cat(draws)


def nearest_images(images: torch.Tensor, pool: torch.Tensor) -> torch.Tensor:
    """For each image, the pixel-nearest image of ``pool`` (Euclidean).
    images: (n, C, S, S), pool: (m, C, S, S) -> (n, C, S, S)."""
    d = torch.cdist(images.flatten(1).float(), pool.flatten(1).float())
    return pool[d.argmin(1)]


def crossfade(images: torch.Tensor, pool: torch.Tensor, progress: float | Sequence[float]) -> torch.Tensor:
    """The naive baseline: a pixel cross-fade (1 − s)·x + s·x* toward the nearest target image x*.
    images: (n, C, S, S); a scalar progress gives (n, C, S, S), a sequence of m gives (m, n, C, S, S)."""
    target = nearest_images(images, pool)
    s = torch.as_tensor(progress, dtype=torch.float32)
    if s.ndim == 0:
        return (1 - s) * images + s * target
    s = s.reshape(-1, 1, 1, 1, 1)
    return (1 - s) * images[None] + s * target[None]


@dataclass
class LatentTranslator:
    """An autoencoder and a latent flow from domain A (t = 0) to domain B (t = 1)."""
    autoencoder: ImageAutoencoder
    flow: OTFlow
    names: tuple[str, str] = ("A", "B")
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.flow.dim != self.autoencoder.latent:
            raise ValueError(f"the flow is {self.flow.dim}-dimensional but the autoencoder's latent space has "
                             f"{self.autoencoder.latent} dimensions")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c = self.autoencoder.config
        return (c.channels, c.size, c.size)

    def flow_times(self, progress: Sequence[float] | torch.Tensor, reverse: bool) -> torch.Tensor:
        s = torch.as_tensor(progress, dtype=torch.float32).reshape(-1)
        if ((s < 0) | (s > 1)).any():
            raise ValueError("progress values must lie in [0, 1]")
        return 1 - s if reverse else s

    def latent_path(self, images: torch.Tensor, progress: Sequence[float] | torch.Tensor,
                    reverse: bool = False) -> torch.Tensor:
        """Latent codes at each progress value. images: (n, C, S, S) -> (m, n, latent)."""
        z = self.autoencoder.encode(images)
        s = torch.as_tensor(progress, dtype=torch.float32).reshape(-1)
        self.flow_times(s, reverse)                              # validates the range
        grid = torch.unique(torch.cat([torch.zeros(1), s]))      # sorted, strictly increasing, from 0
        if len(grid) == 1:
            return z.expand(len(s), *z.shape).clone()
        path = self.flow.trajectory(z, self.flow_times(grid, reverse))   # monotone in flow time
        return path[torch.searchsorted(grid, s)]

    def frames(self, images: torch.Tensor, progress: Sequence[float] | torch.Tensor,
               reverse: bool = False) -> torch.Tensor:
        """Decoded images at each progress value (0 = source domain, 1 = target domain).
        images: (n, C, S, S) in [0, 1] -> (m, n, C, S, S)."""
        path = self.latent_path(images, progress, reverse)
        m, n, d = path.shape
        return self.autoencoder.decode(path.reshape(m * n, d)).reshape(m, n, *self.image_shape)

    def translate(self, images: torch.Tensor, reverse: bool = False, progress: float = 1.0) -> torch.Tensor:
        """A → B (or B → A when ``reverse``) at the given progress. (n, C, S, S) -> (n, C, S, S)."""
        return self.frames(images, [progress], reverse)[0]

    # --- files -------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": FORMAT_VERSION, "names": list(self.names),
                "autoencoder": self.autoencoder.state(), "flow": self.flow.state(), "meta": dict(self.meta)}

    def save(self, path: str | Path) -> Path:
        return save_state(self.state(), path)

    def to_bytes(self) -> bytes:
        return state_bytes(self.state())

    @classmethod
    def load(cls, source: str | Path | bytes) -> "LatentTranslator":
        """Read a translator file (autoencoder + flow) with ``weights_only=True``; raises FlowFileError."""
        from .autoencoder import AutoencoderFileError

        state = read_state(source, FlowFileError, "an image translator")
        check_format(state, FORMAT, FORMAT_VERSION, FlowFileError, "an image translator")
        try:
            ae = ImageAutoencoder.from_state(state["autoencoder"])
        except (AutoencoderFileError, KeyError) as err:
            raise FlowFileError(f"the translator's autoencoder is unreadable: {err}") from None
        flow = OTFlow.from_state(state.get("flow"))
        names = tuple(state.get("names") or ("A", "B"))
        return cls(ae, flow, (str(names[0]), str(names[1])), dict(state.get("meta") or {}))


def latent_trainer(model: ImageAutoencoder, images_a: torch.Tensor, images_b: torch.Tensor,
                   config: FlowConfig | None = None, copies: int = 1, device: str = "cpu") -> Trainer:
    """An otcore :class:`Trainer` between the latent codes of domain A (P) and domain B (Q)."""
    config = config or latent_flow_config(model.latent)
    za = augment_codes(model, images_a, copies, seed=config.seed)
    zb = augment_codes(model, images_b, copies, seed=config.seed + 1)
    return Trainer(za, zb, config, device=device)


def fit_translator(images_a: torch.Tensor, images_b: torch.Tensor, ae_config: AEConfig = AEConfig(),
                   flow_config: FlowConfig | None = None, copies: int = 1, names: tuple[str, str] = ("A", "B"),
                   device: str = "cpu", callback: Callable[[StepMetrics], None] | None = None) -> LatentTranslator:
    """Train the autoencoder on both domains, then the latent flow A → B, to the end.

    images_a: (n, C, S, S), images_b: (m, C, S, S) in [0, 1]. ``callback`` receives every step's
    metrics (stage 'autoencoder', then the flow's stages). Raises :class:`TrainingDiverged`.
    """
    images, labels = two_domains(images_a, images_b)
    ae_trainer = AutoencoderTrainer(images, ae_config, labels)
    for m in ae_trainer.run():
        if callback is not None:
            callback(m)
    if ae_trainer.stop_reason:
        raise TrainingDiverged(ae_trainer.stop_reason)
    model = ae_trainer.model
    trainer = latent_trainer(model, images_a, images_b, flow_config, copies, device)
    for m in trainer.run():
        if callback is not None:
            callback(m)
    if trainer.stop_reason:
        raise TrainingDiverged(trainer.stop_reason)
    return LatentTranslator(model, trainer.flow, names)


@dataclass(frozen=True)
class FolderResult:
    written: list[Path]                 # the PNG files written
    skipped: list[tuple[str, str]]      # (input file, reason) of inputs that were not images


def translate_folder(translator: LatentTranslator, inputs: Sequence[str | Path] | str | Path, out_dir: str | Path,
                     reverse: bool = False, progress: Sequence[float] = (1.0,), scale: int = 1,
                     strip: bool = False, smooth: bool = False) -> FolderResult:
    """Translate every image of folders, zips or files and write PNGs to ``out_dir``.

    Inputs are converted to the autoencoder's size and colour mode. One PNG per image and progress
    value (``<name>_t0.50.png``), or with ``strip`` one PNG per image with all frames side by side.
    ``scale`` upscales the written images (nearest-neighbour, or bicubic with ``smooth``). Raises ImageLoadError if no input
    is a usable image."""
    from ..viz.images import image_grid, to_pil
    from .domains import load_domain

    c = translator.autoencoder.config
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    domain = load_domain(list(inputs), c.size, "grey" if c.channels == 1 else "rgb", name="input", min_images=1)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = translator.frames(domain.images, list(progress), reverse)      # (m, n, C, S, S)
    written: list[Path] = []
    used: set[str] = set()
    for j, source in enumerate(domain.sources):
        stem = _unique(Path(source.replace("/", "_")).stem, used)
        if strip:
            path = out / f"{stem}.png"
            grid = image_grid(frames[:, j][None], scale=scale, pad=0, smooth=smooth)
            write_atomic(path, lambda handle, img=grid: img.save(handle, format="PNG"))
            written.append(path)
            continue
        for i, s in enumerate(progress):
            path = out / f"{stem}_t{float(s):.2f}.png"
            img = to_pil(frames[i, j], scale, smooth).convert("L" if c.channels == 1 else "RGB")
            write_atomic(path, lambda handle, img=img: img.save(handle, format="PNG"))
            written.append(path)
    return FolderResult(written, domain.skipped)


def _unique(stem: str, used: set[str]) -> str:
    name, k = stem, 1
    while name in used:
        k += 1
        name = f"{stem}_{k}"
    used.add(name)
    return name
