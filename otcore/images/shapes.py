"""Procedurally drawn image domains: one shape per image (a circle or a square) with a random
position, size and colour on a black background, drawn anti-aliased. Nothing is downloaded.

Every image keeps the attributes it was drawn with, so a translation can be measured against them
(:mod:`otcore.images.shape_measure`): circles ↔ squares should change the shape and keep the rest.

Coordinates are in pixels with the origin at the top-left corner of the image; pixel (row i,
column j) has its centre at (x, y) = (j + ½, i + ½). ``size`` is the shape's half-width: a
circle's radius, half a square's side (both shapes then fill the same bounding box).
Anti-aliasing: a pixel's coverage is the share of its area inside the shape: for a square the
product of clamp(½ − d, 0, 1) along x and along y, with d the distance of the pixel's centre
outside each edge (exact for an axis-aligned square); for a circle clamp(½ − d, 0, 1) with d the
signed distance to the circle (exact in the limit of a straight edge, within 2% in area here).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from .domains import ImageDomain

SIZE = 32                      # default image side in pixels
HALF_WIDTH = (0.12, 0.28)      # a shape's half-width, as shares of the image side
SATURATION = (0.65, 1.0)       # colours are vivid: HSV saturation and value in these ranges,
VALUE = (0.8, 1.0)             # hue uniform


def _ramp(distance: torch.Tensor) -> torch.Tensor:
    """Coverage of a pixel whose centre lies ``distance`` pixels outside a straight edge."""
    return (0.5 - distance).clamp(0.0, 1.0)


def _circle(dx: torch.Tensor, dy: torch.Tensor, half: torch.Tensor) -> torch.Tensor:
    return _ramp(torch.sqrt(dx ** 2 + dy ** 2) - half)


def _square(dx: torch.Tensor, dy: torch.Tensor, half: torch.Tensor) -> torch.Tensor:
    return _ramp(dx.abs() - half) * _ramp(dy.abs() - half)


#: Shapes by name -> (coverage in [0, 1] of pixels at offsets (dx, dy) from the centre, for a
#: shape of the given half-width; the shape's area as a multiple of half-width²).
SHAPES: dict[str, tuple[Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor], float]] = {
    "circle": (_circle, torch.pi),
    "square": (_square, 4.0),
}


def check_shape(shape: str) -> None:
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose one of {', '.join(SHAPES)}")


def coverage(shape: str, centres: torch.Tensor, sizes: torch.Tensor, side: int) -> torch.Tensor:
    """Anti-aliased coverage in [0, 1] of one shape per image.
    centres: (n, 2) as (x, y) pixels, sizes: (n,) half-widths -> (n, side, side)."""
    check_shape(shape)
    cover, _ = SHAPES[shape]
    grid = torch.arange(side, dtype=torch.float32) + 0.5
    dx = grid.view(1, 1, side) - centres[:, 0].view(-1, 1, 1)
    dy = grid.view(1, side, 1) - centres[:, 1].view(-1, 1, 1)
    return cover(dx, dy, sizes.view(-1, 1, 1))


def render(shape: str, centres: torch.Tensor, sizes: torch.Tensor, colours: torch.Tensor, side: int = SIZE
           ) -> torch.Tensor:
    """Images of one shape each on black. colours: (n, 3) RGB in [0, 1] -> (n, 3, side, side)."""
    alpha = coverage(shape, centres.float(), sizes.float(), side)
    return alpha[:, None] * colours.float()[:, :, None, None]


def hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    """(n, 3) hue, saturation, value in [0, 1] -> (n, 3) RGB in [0, 1]:
    channel_k = v − v·s·clamp(min(m, 4 − m), 0, 1) with m = (k + 6h) mod 6, k = 5, 3, 1 for R, G, B."""
    h, s, v = hsv.unbind(1)
    k = torch.tensor([5.0, 3.0, 1.0])
    m = (k[None] + 6 * h[:, None]) % 6
    return v[:, None] - (v * s)[:, None] * torch.minimum(m, 4 - m).clamp(0.0, 1.0)


@dataclass(frozen=True)
class ShapeSet:
    """Drawn images and the attributes each was drawn with."""
    shape: str
    images: torch.Tensor     # (n, 3, S, S) in [0, 1]
    centres: torch.Tensor    # (n, 2) centre (x, y) in pixels
    sizes: torch.Tensor      # (n,) half-width in pixels
    colours: torch.Tensor    # (n, 3) RGB in [0, 1]

    def __len__(self) -> int:
        return len(self.images)

    @property
    def side(self) -> int:
        return int(self.images.shape[-1])

    def domain(self, name: str | None = None) -> ImageDomain:
        name = name or f"{self.shape}s"
        return ImageDomain(name, self.images, sources=[f"{name}[{i}]" for i in range(len(self))])


def draw_shapes(shape: str, n: int, side: int = SIZE, seed: int = 0) -> ShapeSet:
    """``n`` images of ``shape``, side × side RGB: half-width uniform in :data:`HALF_WIDTH` × side,
    centre uniform where the whole shape (and a pixel of margin) fits, vivid colour. Seeded by
    its own generator: the same arguments always draw the same images."""
    check_shape(shape)
    if n < 0 or side < 8:
        raise ValueError(f"need n ≥ 0 and side ≥ 8, got n = {n}, side = {side}")
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 6, generator=gen)
    lo, hi = HALF_WIDTH
    sizes = side * (lo + (hi - lo) * u[:, 0])
    room = side - 2 * (sizes + 1)                                  # where the centre may go
    centres = (sizes + 1)[:, None] + room[:, None] * u[:, 1:3]
    hsv = torch.stack([u[:, 3], SATURATION[0] + (SATURATION[1] - SATURATION[0]) * u[:, 4],
                       VALUE[0] + (VALUE[1] - VALUE[0]) * u[:, 5]], 1)
    colours = hsv_to_rgb(hsv)
    return ShapeSet(shape, render(shape, centres, sizes, colours, side), centres, sizes, colours)


#: Seeds of the parts of a built-in shape domain: the app's training images and gallery, and
#: further sets (never shown by the app) that the bench holds out.
PART_SEEDS = {"train": 0, "gallery": 1, "test": 2, "judge": 3}
N_TRAIN, N_GALLERY = 400, 24


def shape_seed(shape: str, part: str, seed: int = 0) -> int:
    """A distinct seed per (shape, part, run seed), so no two sets share images."""
    return 1000 * seed + 10 * list(SHAPES).index(shape) + PART_SEEDS[part]


def shape_parts(shape: str, side: int = SIZE, seed: int = 0, n_train: int = N_TRAIN,
                n_gallery: int = N_GALLERY) -> tuple[ShapeSet, ShapeSet]:
    """(training images, held-out gallery) of one built-in shape domain."""
    return (draw_shapes(shape, n_train, side, shape_seed(shape, "train", seed)),
            draw_shapes(shape, n_gallery, side, shape_seed(shape, "gallery", seed)))
