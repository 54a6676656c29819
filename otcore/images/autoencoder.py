"""A small convolutional autoencoder whose latent space hosts the image-translation flow.

Images are (n, C, S, S) float tensors in [0, 1] (C = 1 grey or 3 RGB, S a power of two ≥ 8).
The encoder is a variational one: it outputs a mean and a log-variance, and training adds
``kl`` × KL(q(z|x) ‖ N(0, I)) to the reconstruction loss (``kl = 1``: a standard VAE). The KL term
keeps the latent codes of both domains in one compact, smooth region with no empty gaps between
them, so the decoder has seen (and learnt to draw) the whole region a straight OT path crosses;
with a few latent dimensions, the codes between two domains decode to images of one or the other
rather than to smudges (bench/results/images.md measures this). Too large a weight blurs: the
default ``kl = 0.1`` keeps 0.79 of the digits' pixel spread where ``kl = 1`` kept 0.51, with the
same share judged the target digit; smaller weights sharpen further but open gaps (third digits
half-way). ``kl = 0`` gives a plain autoencoder. :meth:`ImageAutoencoder.encode` returns the mean
code (deterministic).

Two options serve RGB images whose colour and shape vary independently (the drawn circles and
squares; both on in the 32 × 32 RGB preset, both off for the digits):

* ``colour_path``: colour bypasses the spatial bottleneck. The encoder also sees the brightness
  max_c x (a colour-blind view of the shape) and, in its last linear layer, each channel's max and
  mean over the image; the decoder draws sigmoid(logits) × g(z), with g(z) = sigmoid(W z + b) ∈
  (0, 1)³ one colour gain per image. Without it the 32 × 32 shapes' colours collapsed toward a few
  hues (colour error 0.41–0.57 on a scale where two random colours are 0.76 apart).
* ``domain_weight``: a logistic head on the mean code is trained to tell domain A from domain B
  (the trainer is given each image's domain). Without it the encoder did not learn, in the steps a
  presenter can wait for, to tell a circle from a square of the same size (a linear probe on its
  codes read 62 %), so both decoded to the same rounded square; with it what differs between the
  domains is a direction of the latent space, which the OT flow crosses while the rest of the code
  (position, size, colour) stays put.

Training is step-wise: :class:`AutoencoderTrainer.run` yields an :class:`otcore.StepMetrics` per
step (stage ``"autoencoder"``) so the app can chart the reconstruction loss live and stop or
resume at any step. Save/load uses ``torch.save`` of plain dicts, read back with ``weights_only=True``.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..files import check_format, check_weights, read_state, save_state, state_bytes
from ..seeding import init_layers
from ..typecheck import check_field_types
from ..trainer import StepMetrics

FORMAT = "otcore-autoencoder"
FORMAT_VERSION = 1
STAGE = "autoencoder"
SIZES = (8, 16, 32, 64)


class AutoencoderFileError(ValueError):
    """A file is not an autoencoder saved by otcore, or was written by a newer version."""


@dataclass(frozen=True)
class AEConfig:
    size: int = field(default=8, metadata={"help": "images are size × size pixels (8, 16, 32 or 64)"})
    channels: int = field(default=1, metadata={"help": "1 grey, 3 RGB"})
    latent: int = field(default=4, metadata={"help": "latent dimension the flow lives in (small: smooth paths)"})
    width: int = field(default=32, metadata={"help": "channels of the first convolution (doubled at each downsampling, ≤ 256)"})
    kl: float = field(default=0.1, metadata={"help": "weight β of KL(q(z|x) ‖ N(0, I)) per image (1: a standard VAE; 0: plain "
                                                    "autoencoder; 0.1 keeps 0.79 of the digits' spread, bench/results/images.md)"})
    colour_path: bool = field(default=False, metadata={"help": "RGB only: the encoder also sees the brightness and each colour "
                                                            "channel's max and mean; the decoder's pixels are multiplied by "
                                                            "one colour gain per image (keeps colours; bench/results/images.md)"})
    domain_weight: float = field(default=0.0, metadata={"help": "weight of a logistic head on the mean code that tells the two "
                                                              "domains apart (0: off); makes what differs between them a "
                                                              "direction of the latent space"})
    steps: int = field(default=800, metadata={"help": "autoencoder optimisation steps (≈ 15 s on one CPU core for 8 × 8 digits)"})
    batch: int = field(default=64, metadata={"help": "images per autoencoder step"})
    lr: float = field(default=2e-3, metadata={"help": "Adam learning rate of the autoencoder, cosine-decayed to 5%"})
    holdout: float = field(default=0.1, metadata={"help": "share of the images kept out to report a validation loss"})
    seed: int = field(default=0, metadata={"help": "seed of the network and the batches"})

    def __post_init__(self) -> None:
        check_field_types(self, caps={"latent": 4096, "width": 4096})
        if self.size not in SIZES:
            raise ValueError(f"AEConfig.size must be one of {SIZES}, got {self.size}")
        if self.channels not in (1, 3):
            raise ValueError(f"AEConfig.channels must be 1 (grey) or 3 (RGB), got {self.channels}")
        for name in ("latent", "width", "steps", "batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"AEConfig.{name} must be ≥ 1, got {getattr(self, name)}")
        if self.kl < 0:
            raise ValueError(f"AEConfig.kl must be ≥ 0, got {self.kl}")
        if self.domain_weight < 0:
            raise ValueError(f"AEConfig.domain_weight must be ≥ 0, got {self.domain_weight}")
        if self.colour_path and self.channels != 3:
            raise ValueError("AEConfig.colour_path needs RGB images (channels = 3)")
        if not self.lr > 0:
            raise ValueError(f"AEConfig.lr must be > 0, got {self.lr}")
        if not 0 <= self.holdout < 0.5:
            raise ValueError(f"AEConfig.holdout must be in [0, 0.5), got {self.holdout}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "AEConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def replace(self, **changes: Any) -> "AEConfig":
        return replace(self, **changes)

    @classmethod
    def for_images(cls, size: int, channels: int, **changes: Any) -> "AEConfig":
        """The defaults for images of this size and colour: the class defaults with the
        :data:`PRESETS` entry of (size, channels) on top, then ``changes``."""
        return cls(size=size, channels=channels, **{**PRESETS.get((size, channels), {}), **changes})


#: Defaults by image kind (size, channels) where the class defaults (tuned on the 8 × 8 digits) do
#: not serve: the 32 × 32 RGB drawn shapes train a narrower network on smaller batches with the
#: colour path and the domain head, at a higher learning rate, to stay within two minutes on one CPU
#: core (bench/results/images.md measures the choice).
PRESETS: dict[tuple[int, int], dict[str, Any]] = {
    (32, 3): {"latent": 8, "width": 16, "batch": 32, "colour_path": True, "domain_weight": 300.0, "lr": 4e-3,
              "steps": 1600},
}


def _widths(config: AEConfig) -> list[int]:
    """Channels after each stride-2 convolution: size → size/2 → … → 4."""
    n_down = int(math.log2(config.size // 4))
    return [min(256, config.width * 2 ** (i + 1)) for i in range(n_down)]


class ImageAutoencoder(nn.Module):
    """x: (n, C, S, S) in [0, 1]  ⇄  z: (n, latent)."""

    def __init__(self, config: AEConfig):
        super().__init__()
        self.config = config
        c, w = config.channels, config.width
        widths = _widths(config)
        split = config.colour_path
        enc: list[nn.Module] = [nn.Conv2d(c + 1 if split else c, w, 3, padding=1), nn.SiLU()]
        prev = w
        for ch in widths:
            enc += [nn.Conv2d(prev, ch, 4, stride=2, padding=1), nn.SiLU()]
            prev = ch
        self.encoder = nn.Sequential(*enc, nn.Flatten())
        self.to_stats = nn.Linear(prev * 16 + (2 * c if split else 0), 2 * config.latent)
        self.from_latent = nn.Sequential(nn.Linear(config.latent, prev * 16), nn.SiLU())
        dec: list[nn.Module] = []
        for ch in reversed([w] + widths[:-1]):
            dec += [nn.ConvTranspose2d(prev, ch, 4, stride=2, padding=1), nn.SiLU()]
            prev = ch
        dec.append(nn.Conv2d(prev, c, 3, padding=1))
        self.decoder = nn.Sequential(*dec)
        self._last = widths[-1] if widths else w
        if split:
            self.colour_gain = nn.Linear(config.latent, c)
        if config.domain_weight > 0:
            self.domain_head = nn.Linear(config.latent, 1)

    @property
    def latent(self) -> int:
        return self.config.latent

    def stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z|x). x: (n, C, S, S) -> two (n, latent).
        With the colour path the encoder also sees the brightness max_c x (a colour-blind view of
        the shape) and its linear layer each channel's max and mean over the image."""
        if not self.config.colour_path:
            mean, logvar = self.to_stats(self.encoder(x)).chunk(2, dim=1)
        else:
            features = self.encoder(torch.cat([x, x.amax(1, keepdim=True)], 1))
            pooled = [x.flatten(2).amax(2), x.flatten(2).mean(2)]
            mean, logvar = self.to_stats(torch.cat([features, *pooled], 1)).chunk(2, dim=1)
        return mean, logvar.clamp(-12.0, 6.0)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z: (n, latent) -> pixel logits (n, C, S, S) (before the colour gain, if any)."""
        h = self.from_latent(z).view(len(z), self._last, 4, 4)
        return self.decoder(h)

    def decode_pixels(self, z: torch.Tensor) -> torch.Tensor:
        """z: (n, latent) -> images (n, C, S, S) in [0, 1]: sigmoid(logits), times the colour gain
        sigmoid(W z + b) ∈ (0, 1)^C of each image with the colour path."""
        pixels = torch.sigmoid(self.decode_logits(z))
        if self.config.colour_path:
            pixels = pixels * torch.sigmoid(self.colour_gain(z))[:, :, None, None]
        return pixels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of x from its mean code. (n, C, S, S) -> (n, C, S, S) in [0, 1]."""
        return self.decode_pixels(self.stats(x)[0])

    @torch.no_grad()
    def encode(self, x: torch.Tensor, batch: int = 1024) -> torch.Tensor:
        """Mean codes. x: (n, C, S, S) in [0, 1] -> (n, latent)."""
        x = self._check(x)
        return torch.cat([self.stats(x[i:i + batch])[0] for i in range(0, len(x), batch)]) if len(x) else \
            torch.zeros(0, self.latent)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, batch: int = 1024) -> torch.Tensor:
        """z: (n, latent) -> images (n, C, S, S) in [0, 1]."""
        z = torch.as_tensor(z, dtype=torch.float32)
        if z.ndim != 2 or z.shape[1] != self.latent:
            raise ValueError(f"expected codes of shape (n, {self.latent}), got {tuple(z.shape)}")
        c, s = self.config.channels, self.config.size
        if not len(z):
            return torch.zeros(0, c, s, s)
        return torch.cat([self.decode_pixels(z[i:i + batch]) for i in range(0, len(z), batch)])

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=torch.float32)
        c, s = self.config.channels, self.config.size
        if x.ndim != 4 or tuple(x.shape[1:]) != (c, s, s):
            raise ValueError(f"expected images of shape (n, {c}, {s}, {s}), got {tuple(x.shape)}")
        return x

    # --- files -----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": FORMAT_VERSION, "config": self.config.to_dict(),
                "weights": {k: v.detach().cpu() for k, v in self.state_dict().items()}}

    @classmethod
    def from_state(cls, state: Any) -> "ImageAutoencoder":
        check_format(state, FORMAT, FORMAT_VERSION, AutoencoderFileError, "an autoencoder")
        try:
            config = AEConfig.from_dict(state["config"])
            check_weights(lambda: cls(config), state["weights"])
            model = cls(config)
            model.load_state_dict(state["weights"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, OverflowError) as err:
            raise AutoencoderFileError(f"the autoencoder file is damaged or incomplete: {err}") from None
        return model.eval()

    def save(self, path: str | Path) -> Path:
        return save_state(self.state(), path)

    def to_bytes(self) -> bytes:
        return state_bytes(self.state())

    @classmethod
    def load(cls, source: str | Path | bytes) -> "ImageAutoencoder":
        """Read an autoencoder file (path or bytes) without unpickling (``weights_only=True``)."""
        return cls.from_state(read_state(source, AutoencoderFileError, "an autoencoder"))


def autoencoder_loss(model: ImageAutoencoder, x: torch.Tensor, kl_weight: float,
                     gen: torch.Generator | None = None, labels: torch.Tensor | None = None,
                     domain_weight: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Negative ELBO-style loss on a batch x: (b, C, S, S) in [0, 1].

    Pixel binary cross-entropy (summed over pixels) + kl_weight · KL(q(z|x) ‖ N(0, I)), per image,
    + domain_weight · the logistic loss of the model's domain head on the mean codes against
    ``labels`` (b,) in {0, 1} (domain A or B), when both are given.
    Returns the scalar loss and the terms (reconstruction reported as mean squared error per pixel).
    """
    mean, logvar = model.stats(x)
    if kl_weight > 0:
        eps = torch.randn(mean.shape, generator=gen).to(mean)
        z = mean + eps * (0.5 * logvar).exp()
    else:
        z = mean
    if model.config.colour_path:
        pixels = model.decode_pixels(z)
        bce = F.binary_cross_entropy(pixels.clamp(1e-6, 1 - 1e-6), x, reduction="none").flatten(1).sum(1).mean()
    else:
        logits = model.decode_logits(z)
        pixels = torch.sigmoid(logits.detach())
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1).mean()
    kl = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).sum(1).mean()
    loss = bce + kl_weight * kl if kl_weight > 0 else bce
    terms: dict[str, float] = {}
    if domain_weight > 0 and labels is not None:
        domain = F.binary_cross_entropy_with_logits(model.domain_head(mean)[:, 0], labels.to(mean))
        loss = loss + domain_weight * domain
        terms["domain"] = float(domain.detach())
    with torch.no_grad():
        mse = float(((pixels - x) ** 2).mean())
    return loss, {"reconstruction": mse, "kl": float(kl.detach()), **terms, "loss": float(loss.detach())}


def two_domains(images_a: torch.Tensor, images_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both domains' images in one set and each one's domain label: (n + m, C, S, S), (n + m,)
    with 0 for A and 1 for B, what :class:`AutoencoderTrainer` takes."""
    labels = torch.cat([torch.zeros(len(images_a)), torch.ones(len(images_b))])
    return torch.cat([torch.as_tensor(images_a, dtype=torch.float32), torch.as_tensor(images_b, dtype=torch.float32)]), labels


class AutoencoderTrainer:
    """Step-wise training of an :class:`ImageAutoencoder` on images of both domains.

    >>> trainer = AutoencoderTrainer(images, AEConfig())
    >>> for m in trainer.run(100): ...   # m.losses['reconstruction']; run() again resumes
    >>> model = trainer.model

    ``labels`` (n,) tells each image's domain (0: A, 1: B); it is needed when
    ``config.domain_weight`` > 0, which trains the domain head on it.
    """

    def __init__(self, images: torch.Tensor, config: AEConfig = AEConfig(), labels: torch.Tensor | None = None):
        images = torch.as_tensor(images, dtype=torch.float32)
        c, s = config.channels, config.size
        if images.ndim != 4 or tuple(images.shape[1:]) != (c, s, s):
            raise ValueError(f"expected images of shape (n, {c}, {s}, {s}), got {tuple(images.shape)}")
        if len(images) < 4:
            raise ValueError(f"{len(images)} images are too few to train an autoencoder (need ≥ 4)")
        if not torch.isfinite(images).all() or images.min() < 0 or images.max() > 1:
            raise ValueError("images must be finite with pixel values in [0, 1]")
        if config.domain_weight > 0:
            if labels is None:
                raise ValueError("AEConfig.domain_weight > 0 needs the domain of each image (labels)")
            labels = torch.as_tensor(labels, dtype=torch.float32).reshape(-1)
            if len(labels) != len(images) or not ((labels == 0) | (labels == 1)).all():
                raise ValueError(f"labels must be {len(images)} values in {{0, 1}}, one per image")
        self.config = config
        gen = torch.Generator().manual_seed(config.seed)
        perm = torch.randperm(len(images), generator=gen)
        n_val = int(round(config.holdout * len(images))) if len(images) >= 20 else 0
        self.val, self.train = images[perm[:n_val]], images[perm[n_val:]]
        self._labels = labels[perm[n_val:]] if config.domain_weight > 0 else None
        self._model = init_layers(ImageAutoencoder(config), config.seed)
        self._opt = torch.optim.Adam(self._model.parameters(), lr=config.lr)
        self._gen = torch.Generator().manual_seed(config.seed + 1)
        self.step_count = 0
        self.elapsed = 0.0
        self.history: list[StepMetrics] = []
        self.stage = STAGE
        self.stop_reason: str | None = None

    @property
    def done(self) -> bool:
        return self.step_count >= self.config.steps or self.stop_reason is not None

    @property
    def model(self) -> ImageAutoencoder:
        """A copy of the autoencoder as it stands (eval mode)."""
        return copy.deepcopy(self._model).eval()

    def progress(self) -> dict[str, tuple[int, int]]:
        return {STAGE: (self.step_count, self.config.steps)}

    def run(self, n_steps: int | None = None) -> Iterator[StepMetrics]:
        """Advance up to ``n_steps`` steps (all remaining if None), yielding metrics after each."""
        done = 0
        while not self.done and (n_steps is None or done < n_steps):
            yield self.step()
            done += 1

    def step(self) -> StepMetrics:
        if self.done:
            raise RuntimeError("autoencoder training has finished; start a new trainer to train again")
        c = self.config
        start = time.perf_counter()
        lr = c.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * self.step_count / c.steps)))
        for group in self._opt.param_groups:
            group["lr"] = lr
        idx = torch.randint(len(self.train), (min(c.batch, len(self.train)),), generator=self._gen)
        self._model.train()
        labels = self._labels[idx] if self._labels is not None else None
        loss, terms = autoencoder_loss(self._model, self.train[idx], c.kl, self._gen, labels, c.domain_weight)
        if not torch.isfinite(loss):
            self.stop_reason = (f"autoencoder training diverged at step {self.step_count + 1} (loss "
                                f"{float(loss)}); try a smaller learning rate")
            return self._metrics(terms, start)
        self._opt.zero_grad(set_to_none=True)
        loss.backward()
        self._opt.step()
        self.step_count += 1
        if len(self.val) and (self.step_count % 50 == 0 or self.step_count == c.steps):
            terms["held-out reconstruction"] = self.validation_loss()
        return self._metrics(terms, start)

    @torch.no_grad()
    def validation_loss(self) -> float:
        """Mean squared error per pixel of held-out reconstructions (nan when nothing is held out)."""
        if not len(self.val):
            return float("nan")
        self._model.eval()
        return float(((self._model(self.val) - self.val) ** 2).mean())

    def _metrics(self, terms: dict[str, float], start: float) -> StepMetrics:
        self.elapsed += time.perf_counter() - start
        m = StepMetrics(STAGE, self.step_count, self.config.steps, self.step_count, terms, self.elapsed,
                        self.step_count / self.elapsed if self.elapsed > 0 else 0.0)
        self.history.append(m)
        return m
