"""Stage 2, 'reflow' variant: straighten the warm start's paths while keeping its map.

The kept warm-start flow T̂ (the teacher) is integrated once over every training point of both
sides, giving the pairs (x, T̂(x)) for x in P and (T̂⁻¹(y), y) for y in Q: a coupling whose
marginals are P and Q up to the warm start's fit, anchored on real points of both sides. Flow
matching on straight lines between these pairs (a rectified flow, Liu et al. 2022) learns a field
with nearly straight paths: the transport cost drops to the cost of the map itself,
E‖T̂(x) − x‖², which is at most the warm start's path cost.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .integrate import odeint_at
from .warmstart import average_into, cosine_lr, flow_matching_step

#: points integrated at once when the teacher's pairs are computed
CHUNK = 8192


@torch.no_grad()
def teacher_pairs(field: nn.Module, P: torch.Tensor, Q: torch.Tensor, steps: int, solver: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(x0, x1): (n + m, d) pairs (x, T(x)) for x in P and (T⁻¹(y), y) for y in Q, T the flow of ``field``."""
    forward = torch.tensor([0.0, 1.0])
    backward = torch.tensor([1.0, 0.0])
    TP = torch.cat([odeint_at(field, c, forward, steps=steps, solver=solver)[-1] for c in P.split(CHUNK)])
    TQ = torch.cat([odeint_at(field, c, backward, steps=steps, solver=solver)[-1] for c in Q.split(CHUNK)])
    return torch.cat([P, TQ]), torch.cat([TP, Q])


class Reflow:
    """Flow matching on the teacher's own pairs, Adam with a cosine-decayed learning rate and the
    warm start's weight averaging (``FlowConfig.ema``): the averaged weights are validated and kept.
    P, Q: (n, d) training samples in standardised units on the training device."""

    name = "refine"
    validations = 10   # validated at every tenth of the stage

    def __init__(self, field: nn.Module, P: torch.Tensor, Q: torch.Tensor, config, generator: torch.Generator):
        self.field, self.config, self._gen = field, config, generator
        teacher = copy.deepcopy(field).requires_grad_(False)
        self._x0, self._x1 = teacher_pairs(teacher, P, Q, config.eval_steps, config.train_solver)
        self._opt = torch.optim.Adam(field.parameters(), lr=config.reflow_lr)
        self.ema = copy.deepcopy(field).requires_grad_(False)
        self._steps = 0

    def state_dict(self) -> dict:
        """What resuming this stage needs besides the field and its starting weights (the teacher)."""
        return {"opt": self._opt.state_dict(), "ema": self.ema.state_dict(), "steps": self._steps}

    def load_state_dict(self, state: dict) -> None:
        self._opt.load_state_dict(state["opt"])
        self.ema.load_state_dict(state["ema"])
        self._steps = int(state["steps"])

    @property
    def kept(self) -> nn.Module:
        """The weights offered for validation: the average unless averaging is off."""
        return self.ema if self.config.ema > 0 else self.field

    def step(self, fraction: float) -> dict[str, torch.Tensor | float]:
        c = self.config
        idx = torch.randint(len(self._x0), (c.warm_batch,), generator=self._gen, device=self._x0.device)
        lr = cosine_lr(c.reflow_lr, fraction)
        loss = flow_matching_step(self.field, self._opt, self._x0[idx], self._x1[idx], lr, self._gen)
        average_into(self.ema, self.field, self._steps, c.ema)
        self._steps += 1
        return {"reflow": loss, "lr": lr}

    def kl_estimates(self, pushed: torch.Tensor, pulled: torch.Tensor) -> tuple[None, None]:
        return None, None

    def close(self) -> None:
        pass
