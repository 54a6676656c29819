"""Isotropic standardisation: one centre and one scale for P and Q together.

A single scalar scale (not one per coordinate) keeps optimal transport equivariant: the OT map
in standardised units, mapped back, is the OT map in the user's units, and costs scale by s².
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Standardizer:
    mean: torch.Tensor  # (d,)
    scale: float        # s > 0

    @classmethod
    def fit(cls, *clouds: torch.Tensor) -> "Standardizer":
        """Centre and scale from the union of the clouds, each (n_i, d)."""
        joint = torch.cat([c.double() for c in clouds])
        mean = joint.mean(0)
        scale = float(joint.var(0).mean().sqrt())
        return cls(mean.float(), scale if scale > 1e-12 else 1.0)

    @classmethod
    def identity(cls, dim: int) -> "Standardizer":
        return cls(torch.zeros(dim), 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """User units -> standardised units. x: (..., d)."""
        return (x - self.mean.to(x)) / self.scale

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """Standardised units -> user units. z: (..., d)."""
        return z * self.scale + self.mean.to(z)
