"""Turning a short text spec into samples: a toy name, a random Gaussian, or a file.

Specs (used by the CLI and the benchmarks):
  ``moons`` (any name of :func:`otcore.toy_names`), ``gauss:D`` or ``gauss:D:SEED`` (a random
  Gaussian in D dimensions, :func:`otcore.random_gaussian`), or a path to a CSV/.npy/.npz file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .gaussians import Gaussian, random_gaussian
from .loading import load_samples
from .toys import TOYS, sample


@dataclass
class Source:
    samples: torch.Tensor          # (n, d)
    label: str
    gaussian: Gaussian | None = None


def resolve_source(spec: str, n: int, seed: int) -> Source:
    """Samples for ``spec`` (see module doc); ``n`` and ``seed`` apply to generated data."""
    if spec in TOYS:
        return Source(sample(spec, n, seed=seed), spec)
    if spec.startswith("gauss:"):
        parts = spec.split(":")
        try:
            dim = int(parts[1])
            g_seed = int(parts[2]) if len(parts) > 2 else seed
        except (IndexError, ValueError):
            raise ValueError(f"bad Gaussian spec {spec!r}; write gauss:D or gauss:D:SEED") from None
        g = random_gaussian(dim, g_seed)
        return Source(g.sample(n, seed=seed + 1000), spec, g)
    if Path(spec).exists():
        return Source(load_samples(spec), Path(spec).name)
    raise ValueError(f"{spec!r} is neither a toy ({', '.join(TOYS)}), a gauss:D spec, nor an existing file")
