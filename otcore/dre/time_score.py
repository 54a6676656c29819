"""Integrals of a time score r(x, s) ≈ ∂_s log p_s(x) and the telescoping logistic loss (docs/method.md §4).

Every integral over [a, b] is Simpson's 3/8 rule at fixed x:
    ∫_a^b r(x, s) ds ≈ (b − a)/8 · [r(a) + 3 r(a + h) + 3 r(a + 2h) + r(b)],  h = (b − a)/3.
The loss of M intervals on bridge slices p_0, …, p_M (one batch per slice) is
    Σ_m E_{x∼p_{m−1}}[softplus(I_m(x))] + E_{y∼p_m}[softplus(−I_m(y))],
whose minimiser is I_m(x) = log p_m(x) − log p_{m−1}(x).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

#: Simpson's 3/8 rule on one panel: node offsets (fractions of the panel) and weights (× panel width)
SIMPSON38_NODES = (0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0)
SIMPSON38_WEIGHTS = (1.0 / 8.0, 3.0 / 8.0, 3.0 / 8.0, 1.0 / 8.0)

Score = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]   # (s: (n,), x: (n, d)) -> (n,)


def panel_integrals(score: Score, x: torch.Tensor, knots: torch.Tensor) -> torch.Tensor:
    """∫ r(x, s) ds over each panel [knots[k], knots[k+1]] by Simpson's 3/8 rule, in one network call.

    x: (n, d), knots: (K + 1,) (any order; a decreasing panel gives the negative integral)
    -> (K, n)."""
    knots = knots.to(x)
    a, width = knots[:-1], knots[1:] - knots[:-1]                       # (K,)
    offsets = torch.tensor(SIMPSON38_NODES, dtype=x.dtype, device=x.device)
    weights = torch.tensor(SIMPSON38_WEIGHTS, dtype=x.dtype, device=x.device)
    nodes = a[:, None] + width[:, None] * offsets[None]                  # (K, 4)
    n, K = x.shape[0], len(a)
    s = nodes.reshape(-1, 1).expand(-1, n).reshape(-1)                    # (K·4·n,)
    r = score(s, x.repeat(K * 4, 1)).reshape(K, 4, n)
    return width[:, None] * (weights[None, :, None] * r).sum(1)


def integrate(score: Score, x: torch.Tensor, knots: torch.Tensor) -> torch.Tensor:
    """∫_{knots[0]}^{knots[-1]} r(x, s) ds as the sum of the panels. x: (n, d) -> (n,)."""
    return panel_integrals(score, x, knots).sum(0)


def interval_knots(grid: torch.Tensor, t0: float, t1: float) -> torch.Tensor:
    """Panels from t0 to t1 aligned with the training grid: t0, the grid nodes strictly between, t1.
    grid: (M + 1,) increasing. Integrating from t1 back to t0 uses the same panels reversed."""
    lo, hi = min(t0, t1), max(t0, t1)
    inner = grid[(grid > lo + 1e-9) & (grid < hi - 1e-9)].tolist()
    knots = torch.tensor([lo, *inner, hi], dtype=grid.dtype)
    return knots if t1 >= t0 else knots.flip(0)


@dataclass
class TelescopingLoss:
    total: torch.Tensor        # scalar: Σ_m of the interval losses (2·log 2 per interval = chance)
    per_interval: torch.Tensor  # (M,) loss of each interval, detached


def telescoping_loss(score: Score, slices: Sequence[torch.Tensor], times: torch.Tensor) -> TelescopingLoss:
    """The loss of docs/method.md §4. slices: M + 1 batches (n_m, d) drawn from p_0, …, p_M at ``times``: (M + 1,)."""
    M = len(slices) - 1
    parts = []
    for m in range(1, M + 1):
        a, b = slices[m - 1], slices[m]
        knots = times[m - 1:m + 1]
        both = panel_integrals(score, torch.cat([a, b]), knots)[0]
        parts.append(F.softplus(both[:len(a)]).mean() + F.softplus(-both[len(a):]).mean())
    per = torch.stack(parts)
    return TelescopingLoss(per.sum(), per.detach())
