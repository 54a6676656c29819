"""Measuring images of one shape on black (:mod:`otcore.images.shapes`): which shape, where, how
large, what colour, read back from the pixels alone, and how well a translation kept them.

Estimation, per image (n, 3, S, S) in [0, 1]:

* brightness b = max over channels; the colour c is the mean RGB of the pixels with b ≥ 0.9 ·
  max b (the shape's flat inside), and the coverage α = clamp(b / max(c), 0, 1) (ignored below 0.1:
  a decoder's faint haze is not part of the shape);
* area A = Σ α, centre = the α-weighted mean of the pixel centres, half-width = √(A / k) with k the
  shape's area factor (π for a circle, 4 for a square);
* the shape judged is the one whose template, drawn at that centre and size, is nearest to α in
  squared error (a geometric test; bench/results/images.md checks it against the true labels).
  An image that is dark (max b < 0.25), fits neither template, spreads its coverage away from the
  shape (two shapes) or fills much of the frame (a haze) is judged ``"none"``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .shapes import SHAPES, ShapeSet, check_shape, coverage
from .spread import diversity, reconstruction_error

CORE = 0.9          # pixels at least this share of the brightest one are the shape's inside
FLOOR = 0.1         # coverage below this is background haze
VISIBLE = 0.25      # an image whose brightest pixel is dimmer than this shows no shape
MAX_RESIDUAL = 0.2  # judged no shape when even the nearer template leaves more relative error
MAX_STRAY = 0.1     # … or when more than this share of the coverage lies away from the shape
MAX_HALF_WIDTH = 0.4  # … or when it is wider than this share of the image (drawn shapes reach 0.28)


@dataclass(frozen=True)
class Attributes:
    """What an image shows, estimated from its pixels."""
    centres: torch.Tensor    # (n, 2) (x, y) pixels
    sizes: torch.Tensor      # (n,) half-width in pixels
    colours: torch.Tensor    # (n, 3) RGB
    alpha: torch.Tensor      # (n, S, S) coverage
    visible: torch.Tensor    # (n,) bool


def estimate(images: torch.Tensor, shape: str) -> Attributes:
    """Centre, half-width (as if the image showed ``shape``) and colour of each image.
    images: (n, 3, S, S) in [0, 1]."""
    check_shape(shape)
    x = torch.as_tensor(images, dtype=torch.float32)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"expected RGB images (n, 3, S, S), got {tuple(x.shape)}")
    n, _, side, _ = x.shape
    b = x.max(1).values                                               # (n, S, S)
    top = b.flatten(1).max(1).values
    core = (b >= CORE * top.view(-1, 1, 1)).float()
    colours = (x * core[:, None]).flatten(2).sum(2) / core.flatten(1).sum(1, keepdim=True).clamp_min(1)
    value = colours.max(1).values.clamp_min(1e-6)
    alpha = (b / value.view(-1, 1, 1)).clamp(0.0, 1.0)
    alpha = torch.where(alpha >= FLOOR, alpha, torch.zeros(()))
    area = alpha.flatten(1).sum(1).clamp_min(1e-6)
    grid = torch.arange(side, dtype=torch.float32) + 0.5
    cx = (alpha.sum(1) * grid).sum(1) / area                         # columns: x
    cy = (alpha.sum(2) * grid).sum(1) / area                         # rows: y
    sizes = torch.sqrt(area / SHAPES[shape][1])
    return Attributes(torch.stack([cx, cy], 1), sizes, colours, alpha, top >= VISIBLE)


def shape_fit(images: torch.Tensor, shape: str) -> tuple[torch.Tensor, torch.Tensor]:
    """How well each image is one ``shape`` on black: (relative squared error of the coverage
    against the shape's template drawn at the estimated centre and size, share of the coverage
    lying more than 2 pixels outside that template). Both (n,); 0 for a drawn image."""
    est = estimate(images, shape)
    side = est.alpha.shape[-1]
    template = coverage(shape, est.centres, est.sizes, side)
    residual = ((template - est.alpha) ** 2).flatten(1).sum(1) / (template ** 2).flatten(1).sum(1).clamp_min(1e-6)
    outside = coverage(shape, est.centres, est.sizes + 2, side) == 0
    stray = (est.alpha * outside).flatten(1).sum(1) / est.alpha.flatten(1).sum(1).clamp_min(1e-6)
    return residual, stray


def judge_shapes(images: torch.Tensor) -> np.ndarray:
    """The shape each image shows: (n,) array of names from :data:`SHAPES`, or ``"none"`` when the
    image is dark, fits no template within :data:`MAX_RESIDUAL`, has more than :data:`MAX_STRAY` of
    its coverage away from the shape (two shapes), or is wider than :data:`MAX_HALF_WIDTH` (a haze)."""
    names = list(SHAPES)
    fits = [shape_fit(images, name) for name in names]
    residual = torch.stack([f[0] for f in fits], 1)
    stray = torch.stack([f[1] for f in fits], 1)
    best = residual.argmin(1)
    est = estimate(images, "square")                 # the wider estimate of the two (area factor 4 < π)
    ok = ((residual.min(1).values <= MAX_RESIDUAL) & (stray.gather(1, best[:, None])[:, 0] <= MAX_STRAY)
          & est.visible & (est.sizes <= MAX_HALF_WIDTH * est.alpha.shape[-1]))
    out = np.array([names[i] for i in best.tolist()], dtype=object)
    out[~ok.numpy()] = "none"
    return out


@dataclass(frozen=True)
class ShapeReport:
    """A translation of drawn shapes measured against what the sources were drawn with."""
    judged_target: float     # share of outputs judged the target shape
    position_error: float    # mean distance (pixels) of the output's centre from the source's
    size_error: float        # mean |half-width out − half-width in| / half-width in
    colour_error: float      # mean RGB distance (0 … √3) of the output's colour from the source's
    position_p90: float      # 90th percentiles of the same
    size_p90: float
    colour_p90: float
    n: int


def measure_shapes(source: ShapeSet, outputs: torch.Tensor, target: str) -> ShapeReport:
    """Judge the outputs (one per source image, meant to show ``target``) and compare the position,
    size and colour read from them with the attributes the sources were drawn with."""
    if len(outputs) != len(source):
        raise ValueError(f"{len(outputs)} outputs for {len(source)} sources")
    est = estimate(outputs, target)
    pos = (est.centres - source.centres).norm(dim=1)
    size = (est.sizes - source.sizes).abs() / source.sizes
    colour = (est.colours - source.colours).norm(dim=1)
    q = lambda v: float(torch.quantile(v, 0.9)) if len(v) else float("nan")  # noqa: E731
    m = lambda v: float(v.mean()) if len(v) else float("nan")  # noqa: E731
    return ShapeReport(float((judge_shapes(outputs) == target).mean()) if len(outputs) else float("nan"),
                       m(pos), m(size), m(colour), q(pos), q(size), q(colour), len(outputs))


@dataclass(frozen=True)
class ShapeDirection:
    """One direction of a shape translator measured on held-out drawn images."""
    shapes: ShapeReport               # the translations (t = 1) against the sources' attributes
    ceiling: float                    # share of the target's held-out reconstructions judged the target shape
    diversity: float                  # spread of the translations / spread of real held-out target images
    reconstruction_diversity: float   # spread of the sources' reconstructions / spread of the sources
    reconstruction_error: float       # mean squared pixel error of held-out source and target reconstructions


def measure_direction(translator, source: ShapeSet, target: ShapeSet, reverse: bool = False) -> ShapeDirection:
    """Translate held-out ``source`` images (A → B, or B → A when ``reverse``) with a
    :class:`~otcore.images.translate.LatentTranslator` and measure them; ``target`` holds held-out
    images of the target domain (the ceiling's and the diversity's reference)."""
    ae = translator.autoencoder
    out = translator.translate(source.images, reverse)
    with torch.no_grad():
        rebuilt_target, rebuilt_source = ae(target.images), ae(source.images)
    return ShapeDirection(
        shapes=measure_shapes(source, out, target.shape),
        ceiling=float((judge_shapes(rebuilt_target) == target.shape).mean()),
        diversity=diversity(out, target.images),
        reconstruction_diversity=diversity(rebuilt_source, source.images),
        reconstruction_error=reconstruction_error(ae, torch.cat([source.images, target.images])),
    )
