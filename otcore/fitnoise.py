"""How noisy the held-out fit is: paired bootstrap replicates of the energy distance.

A held-out fit measured on 1,000 points a side sits near its own noise floor once a flow is good:
two checkpoints whose fits differ by 3 % may be equally good. Keep-best asks whether a difference
is larger than its noise. Every validation resamples the *same* held-out points with the *same*
bootstrap weights, so the replicates of two checkpoints are paired and the spread of their
difference is that difference's standard error. Pure functions of tensors.
"""
from __future__ import annotations

import torch

#: bootstrap replicates per validation (the standard error's own relative error is about 1/√(2B))
REPLICATES = 64


def resampling_weights(n: int, replicates: int, gen: torch.Generator) -> torch.Tensor:
    """(replicates, n) multinomial resampling counts of n points, each row summing to n."""
    idx = torch.randint(0, n, (replicates, n), generator=gen, device=gen.device)
    return torch.zeros(replicates, n, device=gen.device).scatter_add_(1, idx, torch.ones(replicates, n, device=gen.device))


def _weighted_mean_distance(wa: torch.Tensor, a: torch.Tensor, wb: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(B,) the mean pairwise distance between a (n, d) and b (m, d) under resampling weights wa
    (B, n) and wb (B, m)."""
    dist = torch.cdist(a.float(), b.float())
    return ((wa @ dist) * wb).sum(1) / (wa.shape[1] * wb.shape[1])


def energy_distance_replicates(x: torch.Tensor, y: torch.Tensor, wx: torch.Tensor, wy: torch.Tensor,
                               yy: torch.Tensor | None = None) -> torch.Tensor:
    """(B,) bootstrap replicates of the energy distance 2E‖X−Y‖ − E‖X−X′‖ − E‖Y−Y′‖ between x (n, d)
    and y (m, d) resampled with weights wx (B, n) and wy (B, m). ``yy``: the replicates of E‖Y−Y′‖
    when y is fixed across calls (see :func:`self_distance_replicates`)."""
    if yy is None:
        yy = self_distance_replicates(y, wy)
    return 2 * _weighted_mean_distance(wx, x, wy, y) - _weighted_mean_distance(wx, x, wx, x) - yy


def self_distance_replicates(y: torch.Tensor, wy: torch.Tensor) -> torch.Tensor:
    """(B,) replicates of E‖Y−Y′‖ for y (m, d) under weights wy (B, m)."""
    return _weighted_mean_distance(wy, y, wy, y)


def difference_noise(draws: torch.Tensor, reference: torch.Tensor) -> float:
    """The standard error of (a fit − a reference fit), from their paired replicates (B,) each."""
    return float((draws - reference).std())
