"""Named 2-D toy distributions (docs/method.md §7).

Every toy is defined once here, at one scale, so benchmark numbers can be quoted with it.
All toys are roughly centred at the origin with most mass inside the square [-4, 4]²;
``noise`` is the standard deviation of the isotropic Gaussian jitter added to the clean shape.

| name          | shape                                                      | default noise |
|---------------|------------------------------------------------------------|---------------|
| gaussian      | standard normal N(0, I₂)                                    | –             |
| 8gaussians    | 8 blobs on a circle of radius 2.8 (equal weights)          | 0.35          |
| moons         | two interleaved half circles (radius 1), scaled by 1.6     | 0.08 (pre-scale) |
| circles       | two concentric circles, radii 1.25 and 2.5                 | 0.08          |
| rings         | four concentric rings, radii 0.75, 1.5, 2.25, 3.0          | 0.08          |
| checkerboard  | 8 alternating unit squares in [-2, 2]², uniform inside     | –             |
| spirals       | two interleaved Archimedean spirals, radius up to ~3.2     | 0.1           |
| swissroll     | one Archimedean spiral (scikit-learn's, scaled by 1/4)     | 0.1 (post-scale) |
| pinwheel      | 5 curved arms (radial std 0.3, tangential 0.05, rate 0.25), ×2.2 | –     |
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

ToyFn = Callable[[int, np.random.Generator, float], np.ndarray]


def _gaussian(n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    return rng.standard_normal((n, 2))


def _eight_gaussians(n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    angles = 2 * math.pi * rng.integers(0, 8, n) / 8
    centres = 2.8 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return centres + noise * rng.standard_normal((n, 2))


def _moons(n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    upper = rng.random(n) < 0.5
    theta = math.pi * rng.random(n)
    x = np.where(upper, np.cos(theta), 1 - np.cos(theta))
    y = np.where(upper, np.sin(theta), 0.5 - np.sin(theta))
    pts = np.stack([x - 0.5, y - 0.25], axis=1) + noise * rng.standard_normal((n, 2))
    return 1.6 * pts


def _rings_of(radii: list[float]) -> ToyFn:
    def draw(n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
        r = np.asarray(radii)[rng.integers(0, len(radii), n)]
        theta = 2 * math.pi * rng.random(n)
        pts = r[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
        return pts + noise * rng.standard_normal((n, 2))

    return draw


def _checkerboard(n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    x1 = 4 * rng.random(n) - 2
    x2 = rng.random(n) - rng.integers(0, 2, n) * 2.0
    x2 = x2 + (np.floor(x1) % 2)
    return np.stack([x1, x2], axis=1)


def _spirals(n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    t = np.sqrt(rng.random(n)) * 3 * math.pi
    arm = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    pts = arm[:, None] * np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 3.0
    return pts + noise * rng.standard_normal((n, 2))


def _swissroll(n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    t = 1.5 * math.pi * (1 + 2 * rng.random(n))
    pts = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 4.0
    return pts + noise * rng.standard_normal((n, 2))


def _pinwheel(n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    arms, radial_std, tangential_std, rate = 5, 0.3, 0.05, 0.25
    labels = rng.integers(0, arms, n)
    feats = rng.standard_normal((n, 2)) * np.array([radial_std, tangential_std])
    feats[:, 0] += 1.0
    angle = 2 * math.pi * labels / arms + rate * np.exp(feats[:, 0])
    c, s = np.cos(angle), np.sin(angle)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], axis=1)  # (n, 2, 2)
    return 2.2 * np.einsum("nij,nj->ni", rot, feats)


#: name -> (generator, default noise)
TOYS: dict[str, tuple[ToyFn, float]] = {
    "gaussian": (_gaussian, 0.0),
    "8gaussians": (_eight_gaussians, 0.35),
    "moons": (_moons, 0.08),
    "circles": (_rings_of([1.25, 2.5]), 0.08),
    "rings": (_rings_of([0.75, 1.5, 2.25, 3.0]), 0.08),
    "checkerboard": (_checkerboard, 0.0),
    "spirals": (_spirals, 0.1),
    "swissroll": (_swissroll, 0.1),
    "pinwheel": (_pinwheel, 0.0),
}


def toy_names() -> list[str]:
    """The names accepted by :func:`sample`."""
    return list(TOYS)


def sample(
    name: str,
    n: int,
    seed: int = 0,
    *,
    noise: float | None = None,
    scale: float = 1.0,
    shift: tuple[float, float] = (0.0, 0.0),
    rotation: float = 0.0,
) -> torch.Tensor:
    """Draw ``n`` points of the toy ``name`` as a float32 tensor of shape (n, 2).

    ``noise`` overrides the toy's default jitter; the cloud is then rotated by ``rotation``
    degrees about the origin, multiplied by ``scale`` and moved by ``shift``.
    """
    if name not in TOYS:
        raise ValueError(f"unknown toy {name!r}; choose one of {', '.join(TOYS)}")
    if n < 1:
        raise ValueError(f"need at least one sample, got n={n}")
    fn, default_noise = TOYS[name]
    rng = np.random.default_rng(seed)
    pts = fn(int(n), rng, default_noise if noise is None else float(noise))
    a = math.radians(rotation)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    pts = scale * pts @ rot.T + np.asarray(shift, dtype=float)
    return torch.as_tensor(pts, dtype=torch.float32)
