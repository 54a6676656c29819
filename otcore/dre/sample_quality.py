"""How close a model's samples are to held-out data: the energy distance (otcore.metrics) of the
samples to the held-out points, beside the same number for the base's samples and for real training
points (the floor: what two finite samples of the same distribution score)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..metrics import energy_distance


@dataclass(frozen=True)
class SampleQuality:
    generated: float      # energy distance of the model's samples to the held-out points
    base: float           # the same for the base's samples (the model must beat it)
    real: float           # the same for as many real training points (the floor)
    n: int                # points on each side

    @property
    def gap_closed(self) -> float:
        """Share of the base's distance to the floor that the model removes: 1 = as good as real data."""
        span = self.base - self.real
        return (self.base - self.generated) / span if span > 0 else float("nan")


def sample_quality(generated: torch.Tensor, base: torch.Tensor, real: torch.Tensor, held_out: torch.Tensor,
                   seed: int = 0) -> SampleQuality:
    """Energy distances to ``held_out``: (m, d) of three clouds (n_i, d), each cut to the same size
    n = min of all sizes (the V-statistic's bias depends on n, so sizes must match)."""
    n = min(len(generated), len(base), len(real), len(held_out))
    if n < 2:
        raise ValueError("sample quality needs at least 2 points in every cloud")
    g = torch.Generator().manual_seed(seed)

    def cut(x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=torch.float32)
        return x[torch.randperm(len(x), generator=g)[:n]]

    test = cut(held_out)
    return SampleQuality(energy_distance(cut(generated), test, max_points=n),
                         energy_distance(cut(base), test, max_points=n),
                         energy_distance(cut(real), test, max_points=n), n)


@dataclass
class SampleComparison:
    generated: torch.Tensor       # (n, d) the energy model's samples
    base: torch.Tensor            # (n, d) the base Gaussian's samples
    real: torch.Tensor            # (n, d) held-out data
    quality: SampleQuality
    ess: float                    # the sampler's SIR effective sample size
    proposals: int
    acceptance: float
    seconds: float


def compare_samples(model, train: torch.Tensor, held_out: torch.Tensor, n: int | None = None, config=None,
                    seed: int = 0) -> SampleComparison:
    """Draw n samples (default: as many as ``held_out``) of ``model`` (an EnergyModel) and as many of its
    base, and score both against ``held_out`` beside real training points (:func:`sample_quality`)."""
    from .sampling import SamplerConfig, base_sampler, sample_model

    n = n or len(held_out)
    drawn = sample_model(model, n, config or SamplerConfig(seed=seed))
    mu, A = base_sampler(model.base)
    base = mu + torch.randn(n, model.dim, generator=torch.Generator().manual_seed(seed + 1)) @ A.T
    quality = sample_quality(drawn.samples, base, train, held_out, seed=seed)
    return SampleComparison(drawn.samples, base, torch.as_tensor(held_out, dtype=torch.float32)[:n], quality,
                            drawn.ess, drawn.proposals, drawn.acceptance, drawn.seconds)
