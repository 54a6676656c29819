"""Stage 1: flow matching with minibatch-OT pairing (the warm start)."""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

from .pairing import pair_source


def flow_matching_loss(field: nn.Module, x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor,
                       noise: torch.Tensor | None = None) -> torch.Tensor:
    """Regress v(x_t, t) on x1 − x0 along x_t = (1 − t)x0 + t x1 (+ noise, if given).
    x0, x1, noise: (b, d), t: (b,) -> scalar mean squared error (summed over d)."""
    xt = (1 - t[:, None]) * x0 + t[:, None] * x1
    if noise is not None:
        xt = xt + noise
    return ((field(t, xt) - (x1 - x0)) ** 2).sum(1).mean()


def cosine_lr(base: float, fraction: float, floor: float = 0.05) -> float:
    """Cosine decay from ``base`` (fraction 0) to ``floor · base`` (fraction 1)."""
    return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, fraction))))


def flow_matching_step(field: nn.Module, opt: torch.optim.Optimizer, x0: torch.Tensor, x1: torch.Tensor,
                       lr: float, generator: torch.Generator, sigma: float = 0.0) -> torch.Tensor:
    """One optimiser step of :func:`flow_matching_loss` on the pairs (x0, x1): (b, d) at learning
    rate ``lr``, times drawn uniformly from ``generator``, the paths blurred by Gaussian noise of
    standard deviation ``sigma`` (0: none). Returns the (detached) loss."""
    for group in opt.param_groups:
        group["lr"] = lr
    t = torch.rand(len(x0), generator=generator, device=x0.device)
    noise = sigma * torch.randn(x0.shape, generator=generator, device=x0.device) if sigma > 0 else None
    loss = flow_matching_loss(field, x0, x1, t, noise)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.detach()


@torch.no_grad()
def average_into(ema: nn.Module, field: nn.Module, steps: int, rate: float) -> None:
    """One step of weight averaging: ema ← decay·ema + (1 − decay)·field, with decay
    min(rate, (1 + steps)/(10 + steps)) so the average forgets its start early on."""
    decay = min(rate, (1 + steps) / (10 + steps))
    for e, p in zip(ema.parameters(), field.parameters()):
        e.lerp_(p, 1 - decay)


class WarmStart:
    """Flow matching on minibatch-OT pairs of the training samples, Adam with a cosine-decayed
    learning rate and weight averaging (EMA). The averaged weights are the ones validated and kept.

    P, Q: (n, d) training samples in standardised units on the training device.
    """

    name = "warm-start"
    validations = 10   # validated at every tenth of the stage

    def __init__(self, field: nn.Module, P: torch.Tensor, Q: torch.Tensor, config, generator: torch.Generator):
        self.field, self.config, self._gen = field, config, generator
        self._data = (P, Q)
        self.ema = copy.deepcopy(field).requires_grad_(False)
        self._opt = torch.optim.Adam(field.parameters(), lr=config.warm_lr)
        self._pairs = pair_source(P, Q, config.warm_batch, config.pairing, config.seed, config.ot_block)
        self._steps = 0

    def state_dict(self) -> dict:
        """What resuming this stage needs besides the field: averaged weights, optimiser, position."""
        return {"ema": self.ema.state_dict(), "opt": self._opt.state_dict(), "steps": self._steps,
                "batch": self._pairs.index}

    def load_state_dict(self, state: dict) -> None:
        c = self.config
        self.ema.load_state_dict(state["ema"])
        self._opt.load_state_dict(state["opt"])
        self._steps = int(state["steps"])
        self._pairs.close()
        self._pairs = pair_source(*self._data, c.warm_batch, c.pairing, c.seed, c.ot_block, start=int(state["batch"]))

    @property
    def kept(self) -> nn.Module:
        """The weights this stage offers for validation: the EMA unless EMA is off."""
        return self.ema if self.config.ema > 0 else self.field

    def step(self, fraction: float) -> dict[str, torch.Tensor | float]:
        """One flow-matching step at ``fraction`` ∈ [0, 1] of the stage (drives the lr schedule)."""
        c = self.config
        x0, x1 = self._pairs.next()
        lr = cosine_lr(c.warm_lr, fraction)
        loss = flow_matching_step(self.field, self._opt, x0, x1, lr, self._gen, c.warm_sigma)
        average_into(self.ema, self.field, self._steps, c.ema)
        self._steps += 1
        return {"flow_matching": loss, "lr": lr}

    def close(self) -> None:
        self._pairs.close()
