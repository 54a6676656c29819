"""Stage 2: the Q-flow objective for one direction (method.md §2).

    L_{P→Q}(θ) = KL(T_θ#P ‖ Q) + γ · E Σ_k ‖x(t_k) − x(t_{k−1})‖² / h_k

The KL is the classifier estimate −E r(T_θ(x)) with r held fixed; gradients reach θ only through
the sample locations. (Our kinetic term is on the W₂² scale; the ½ of method.md is folded into γ.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .classifier import kl_estimate
from .integrate import odeint_at, path_kinetic_energy


@dataclass
class RefineLoss:
    loss: torch.Tensor        # scalar to minimise
    kl: torch.Tensor          # scalar classifier KL estimate (nats)
    kinetic: torch.Tensor     # scalar mean discretised kinetic energy (standardised units)
    pushed: torch.Tensor      # (n, d) end points, detached, for the classifier's next steps


def refine_loss(field: nn.Module, classifier: nn.Module, x: torch.Tensor, times: torch.Tensor,
                gamma: float, solver: str = "rk4", adjoint: bool = False) -> RefineLoss:
    """x: (n, d) start points at times[0]; times: (m,) solver grid (0→1, or 1→0 for Q→P)."""
    steps = len(times) - 1
    path = odeint_at(field, x, times, steps=steps, solver=solver if solver != "dopri5" else "rk4", adjoint=adjoint)
    kinetic = path_kinetic_energy(path, times).mean()
    for p in classifier.parameters():
        p.requires_grad_(False)
    kl = kl_estimate(classifier, path[-1])
    for p in classifier.parameters():
        p.requires_grad_(True)
    return RefineLoss(kl + gamma * kinetic, kl.detach(), kinetic.detach(), path[-1].detach())


def gamma_schedule(step: int, total: int, start: float, end: float) -> float:
    """Geometric annealing from ``start`` (step 0) to ``end`` (last step); constant if equal."""
    if total <= 1 or start == end:
        return start
    if end <= 0:
        return start * (1 - step / (total - 1))
    frac = min(step, total - 1) / (total - 1)
    return start * math.exp(frac * math.log(end / start))
