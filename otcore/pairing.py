"""Minibatch couplings for the warm start: which target point each source point flows to."""
from __future__ import annotations

import numpy as np
import ot
import torch


def _exact(x0: np.ndarray, x1: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(x0)
    weights = np.full(n, 1.0 / n)
    plan = ot.emd(weights, weights, ot.dist(x0, x1), numItermax=1_000_000)
    return _draw_from_plan(plan, rng)


def _sinkhorn(x0: np.ndarray, x1: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(x0)
    weights = np.full(n, 1.0 / n)
    cost = ot.dist(x0, x1)
    plan = ot.sinkhorn(weights, weights, cost / cost.mean(), reg=0.01, numItermax=2000)
    return _draw_from_plan(plan, rng)


def _independent(x0: np.ndarray, x1: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(len(x1))


def _draw_from_plan(plan: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each row of a coupling matrix, one column drawn with the row's conditional law."""
    rows = plan / plan.sum(1, keepdims=True)
    u = rng.random((len(rows), 1))
    return np.minimum((rows.cumsum(1) < u).sum(1), plan.shape[1] - 1)


#: pairing name -> function(x0: (b, d), x1: (b, d), rng) -> indices (b,) into x1
PAIRINGS = {"exact": _exact, "sinkhorn": _sinkhorn, "independent": _independent}


def pair(x0: torch.Tensor, x1: torch.Tensor, method: str = "exact", seed: int = 0) -> torch.Tensor:
    """Reorder x1 so that (x0[i], x1[i]) is drawn from the chosen minibatch coupling. (b, d) -> (b, d)."""
    idx = PAIRINGS[method](x0.double().cpu().numpy(), x1.double().cpu().numpy(), np.random.default_rng(seed))
    return x1[torch.as_tensor(idx, device=x1.device)]
