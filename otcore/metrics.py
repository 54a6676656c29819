"""What to measure on a flow (method.md §3). Pure functions of tensors; every cost on the W₂² scale."""
from __future__ import annotations

import numpy as np
import ot
import torch

from .integrate import path_length

#: above this many points a side, the exact discrete OT cost is replaced by Sinkhorn
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


def exact_ot_cost(x: torch.Tensor, y: torch.Tensor, max_exact: int = MAX_EXACT_OT) -> tuple[float, str]:
    """Discrete OT cost between the empirical measures (uniform weights, squared Euclidean cost).
    Returns (cost, method): 'exact' (POT emd2) up to ``max_exact`` points a side, else 'sinkhorn'
    (entropic, small regularisation; its plan's cost slightly overstates the exact one)."""
    a = np.full(len(x), 1.0 / len(x))
    b = np.full(len(y), 1.0 / len(y))
    cost = ot.dist(x.double().cpu().numpy(), y.double().cpu().numpy())
    if max(len(x), len(y)) <= max_exact:
        return float(ot.emd2(a, b, cost, numItermax=10_000_000)), "exact"
    reg = 1e-3 * float(cost.mean())
    return float(ot.sinkhorn2(a, b, cost, reg=reg, method="sinkhorn_log", numItermax=500)), "sinkhorn"


def inversion_error(x: torch.Tensor, x_back: torch.Tensor) -> float:
    """Mean ‖T⁻¹(T(x)) − x‖. x, x_back: (n, d)."""
    return float((x_back - x).norm(dim=1).mean())


def straightness(path: torch.Tensor) -> float:
    """Mean of path length / end-to-end distance (1 for straight paths). path: (m, n, d).
    Particles that barely move (end-to-end distance below 1e-6 of the mean) are left out."""
    chord = (path[-1] - path[0]).norm(dim=-1)
    keep = chord > 1e-6 * max(float(chord.mean()), 1e-12)
    return float((path_length(path)[keep] / chord[keep]).mean())
