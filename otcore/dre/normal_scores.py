"""Normal scores: each coordinate through its empirical distribution function, then the standard
normal quantile. The mutual information of x and y does not change under an invertible map of each
coordinate, so the estimator may work on normal scores: their marginals are standard normal
whatever the data's (skewed, heavy-tailed, bounded), and Gaussian dependence becomes exactly
Gaussian.

The distribution function is the training sample's, piecewise linear through the knots
(v_(k), (k + ½)/n), mid-ranks at ties, and held at (½)/n and 1 − (½)/n beyond the sample's range.
"""
from __future__ import annotations

import torch

SQRT2 = 2.0 ** 0.5


class NormalScores:
    """``forward(x)``: (n, d) -> (n, d) normal scores under the training sample's marginals."""

    def __init__(self, sorted_columns: torch.Tensor):
        self.sorted = sorted_columns          # (d, n_train), each row increasing

    @classmethod
    def fit(cls, x: torch.Tensor) -> "NormalScores":
        """x: (n, d) training samples, n ≥ 2."""
        x = torch.as_tensor(x, dtype=torch.float64)
        if x.ndim != 2 or len(x) < 2:
            raise ValueError(f"normal scores need (n ≥ 2, d) samples, got shape {tuple(x.shape)}")
        return cls(x.T.sort(dim=1).values.contiguous())

    @property
    def dim(self) -> int:
        return self.sorted.shape[0]

    def ranks(self, x: torch.Tensor) -> torch.Tensor:
        """Fractional ranks in [½, n − ½] of x: (m, d) among the training values, (m, d)."""
        v = torch.as_tensor(x, dtype=torch.float64).T.contiguous()          # (d, m)
        col, n = self.sorted, self.sorted.shape[1]
        lo = torch.searchsorted(col, v, side="left")                        # values below
        hi = torch.searchsorted(col, v, side="right")                       # values at or below
        tie = (lo + hi).double() / 2.0                                       # mid-rank of an exact match
        left = col.gather(1, (lo - 1).clamp(0, n - 1))
        right = col.gather(1, lo.clamp(0, n - 1))
        gap = (right - left).clamp_min(1e-300)
        between = (lo.double() - 0.5) + ((v - left) / gap).clamp(0.0, 1.0)
        rank = torch.where(hi > lo, tie, between).clamp(0.5, n - 0.5)
        return rank.T

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Φ⁻¹(F̂(x)) per coordinate. x: (m, d) -> (m, d) float32."""
        u = self.ranks(x) / self.sorted.shape[1]
        return (SQRT2 * torch.erfinv(2.0 * u - 1.0)).float()
