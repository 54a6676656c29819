"""What to measure on a flow (docs/method.md §3). Pure functions of tensors; every cost on the W₂² scale."""
from __future__ import annotations

import numpy as np
import ot
import torch

from .integrate import path_length

#: above this many points a side, the exact discrete OT cost is computed on a subsample
MAX_EXACT_OT = 5000


def energy_distance(x: torch.Tensor, y: torch.Tensor, max_points: int = 4000, seed: int = 0) -> float:
    """Two-sample fit distance used everywhere: the energy distance (V-statistic)
    2E‖X−Y‖ − E‖X−X′‖ − E‖Y−Y′‖ ≥ 0. x: (n, d), y: (m, d); subsampled to ``max_points``."""
    g = torch.Generator().manual_seed(seed)
    if len(x) > max_points:
        x = x[torch.randperm(len(x), generator=g)[:max_points].to(x.device)]
    if len(y) > max_points:
        y = y[torch.randperm(len(y), generator=g)[:max_points].to(y.device)]
    x, y = x.double(), y.double()
    xy = torch.cdist(x, y).mean()
    xx = torch.cdist(x, x).mean()
    yy = torch.cdist(y, y).mean()
    return float(2 * xy - xx - yy)


def exact_ot_cost(x: torch.Tensor, y: torch.Tensor, max_exact: int = MAX_EXACT_OT, seed: int = 0) -> tuple[float, str]:
    """Discrete OT cost between the empirical measures (uniform weights, squared Euclidean cost),
    solved exactly by POT's network simplex. Returns (cost, method). Above ``max_exact`` points a
    side the exact problem is solved on a random subsample of that size (method 'subsample');
    entropic Sinkhorn was measured to be slower here at these sizes and biased by its blur."""
    method = "exact"
    if max(len(x), len(y)) > max_exact:
        g = torch.Generator().manual_seed(seed)
        x = x[torch.randperm(len(x), generator=g)[:max_exact]]
        y = y[torch.randperm(len(y), generator=g)[:max_exact]]
        method = "subsample"
    a = np.full(len(x), 1.0 / len(x))
    b = np.full(len(y), 1.0 / len(y))
    cost = ot.dist(x.double().cpu().numpy(), y.double().cpu().numpy())
    return float(ot.emd2(a, b, cost, numItermax=10_000_000)), method


def inversion_error(x: torch.Tensor, x_back: torch.Tensor) -> float:
    """Mean ‖T⁻¹(T(x)) − x‖. x, x_back: (n, d)."""
    return float((x_back - x).norm(dim=1).mean())


def straightness(path: torch.Tensor) -> float:
    """Mean of path length / end-to-end distance (1 for straight paths). path: (m, n, d).
    Particles that barely move (end-to-end distance below 1e-6 of the mean) are left out."""
    chord = (path[-1] - path[0]).norm(dim=-1)
    keep = chord > 1e-6 * max(float(chord.mean()), 1e-12)
    return float((path_length(path)[keep] / chord[keep]).mean())
