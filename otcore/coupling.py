"""Entropic OT couplings in torch, batched and on the data's device (log-domain Sinkhorn).

For uniform weights on x0: (n, d) and x1: (m, d) and the squared Euclidean cost C, the plan

    π = argmin ⟨π, C⟩ − ε H(π)   subject to π 1 = 1/n, πᵀ 1 = 1/m

is found by alternating the dual updates in log space (stable for small ε), with ε decreased
geometrically from the cost's scale to its target ("ε-scaling"), so that few iterations reach a
plan whose cost is close to the exact discrete OT cost. Everything stays on the input's device:
no host transfer, no synchronisation inside the loop.
"""
from __future__ import annotations

import math

import torch


def squared_distances(x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
    """‖x0_i − x1_j‖². x0: (..., n, d), x1: (..., m, d) -> (..., n, m)."""
    return (x0.pow(2).sum(-1)[..., :, None] + x1.pow(2).sum(-1)[..., None, :]
            - 2 * x0 @ x1.transpose(-1, -2)).clamp_min_(0)


def sinkhorn_log_plan(cost: torch.Tensor, eps: float, iters: int = 60, scaling_iters: int = 40) -> torch.Tensor:
    """Log of the entropic plan for uniform marginals. cost: (..., n, m) -> (..., n, m).

    ``eps`` is relative to the mean cost (so it does not depend on the data's units);
    ``scaling_iters`` iterations anneal ε from the cost's maximum down to eps · mean cost, then
    ``iters`` more iterations run at the target ε. The last update is over the columns, so the
    column marginals are exact and the row marginals are accurate to the iteration's convergence.
    """
    n, m = cost.shape[-2:]
    scale = cost.mean(dim=(-2, -1), keepdim=True).clamp_min(1e-12)
    c = cost / scale
    target = float(eps)
    start = max(float(c.amax()), target)
    log_a, log_b = -math.log(n), -math.log(m)
    f = torch.zeros(cost.shape[:-1], dtype=cost.dtype, device=cost.device)
    g = torch.zeros(cost.shape[:-2] + (m,), dtype=cost.dtype, device=cost.device)
    for k in range(scaling_iters + iters):
        e = target if k >= scaling_iters else start * (target / start) ** (k / max(1, scaling_iters))
        f = -e * torch.logsumexp((g[..., None, :] - c) / e, dim=-1) + e * log_a
        g = -e * torch.logsumexp((f[..., :, None] - c) / e, dim=-2) + e * log_b
    return (f[..., :, None] + g[..., None, :] - c) / target


def draw_partners(log_plan: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """For each row i of a plan, one column j drawn with probability π_ij / Σ_j π_ij.
    log_plan: (..., n, m) -> indices (..., n)."""
    shape = log_plan.shape
    probs = torch.softmax(log_plan.reshape(-1, shape[-1]), dim=-1)
    return torch.multinomial(probs, 1, generator=generator).reshape(shape[:-1])
