"""Stage 2: the Q-flow refinement (docs/method.md §2), one direction per step, directions alternating.

    L_{P→Q}(θ) = KL(T_θ#P ‖ Q) + γ · E Σ_k ‖x(t_k) − x(t_{k−1})‖² / h_k

The KL is the classifier estimate −E r(T_θ(x)) with r held fixed; gradients reach θ only through
the sample locations. (Our kinetic term is on the W₂² scale, with no ½: docs/method.md §2.3.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .classifier import RatioClassifier, kl_estimate, logistic_loss
from .integrate import grid, odeint_at, path_kinetic_energy
from .seeding import init_layers

DIRECTIONS = ("pq", "qp")
#: a classifier's warm-up draws from this many refinement batches of pushed points
WARMUP_POOL = 8


@dataclass
class RefineLoss:
    loss: torch.Tensor        # scalar to minimise
    kl: torch.Tensor          # scalar classifier KL estimate (nats)
    kinetic: torch.Tensor     # scalar mean discretised kinetic energy (standardised units)
    pushed: torch.Tensor      # (n, d) end points, detached, for the classifier's next steps


def refine_loss(field: nn.Module, classifier: nn.Module, x: torch.Tensor, times: torch.Tensor,
                gamma: float, solver: str = "rk4", adjoint: bool = False) -> RefineLoss:
    """x: (n, d) start points at times[0]; times: (m,) solver grid (0→1, or 1→0 for Q→P);
    ``solver`` a fixed-grid solver."""
    path = odeint_at(field, x, times, steps=len(times) - 1, solver=solver, adjoint=adjoint)
    kinetic = path_kinetic_energy(path, times).mean()
    for p in classifier.parameters():
        p.requires_grad_(False)
    kl = kl_estimate(classifier, path[-1])
    for p in classifier.parameters():
        p.requires_grad_(True)
    return RefineLoss(kl + gamma * kinetic, kl.detach(), kinetic.detach(), path[-1].detach())


def gamma_schedule(fraction: float, start: float, end: float) -> float:
    """Geometric annealing from ``start`` (fraction 0) to ``end`` (fraction 1); constant if equal."""
    frac = min(1.0, max(0.0, fraction))
    if start == end:
        return start
    if end <= 0:
        return start * (1 - frac)
    return start * math.exp(frac * math.log(end / start))


class Refinement:
    """The Q-flow refinement of a warm-started field: two KL classifiers (P→Q and Q→P) refitted on
    fresh pushed samples, the field updated by Adam on KL + γ · kinetic energy.

    P, Q: (n, d) training samples in standardised units on the training device.
    """

    name = "refine"

    def __init__(self, field: nn.Module, P: torch.Tensor, Q: torch.Tensor, config, generator: torch.Generator):
        self.field, self.config, self._gen = field, config, generator
        self._data = {"pq": (P, Q), "qp": (Q, P)}
        self._opt = torch.optim.Adam(field.parameters(), lr=config.refine_lr)
        self._steps = 0
        self.classifiers: dict[str, RatioClassifier] = {}
        self._clf_opts: dict[str, torch.optim.Optimizer] = {}
        for i, direction in enumerate(DIRECTIONS):
            self._fresh_classifier(direction, config.seed + 11 + i)

    @property
    def kept(self) -> nn.Module:
        return self.field

    def state_dict(self) -> dict:
        """What resuming this stage needs besides the field: optimisers, classifiers, position."""
        return {"opt": self._opt.state_dict(), "steps": self._steps,
                "classifiers": {k: clf.state_dict() for k, clf in self.classifiers.items()},
                "classifier_opts": {k: opt.state_dict() for k, opt in self._clf_opts.items()}}

    def load_state_dict(self, state: dict) -> None:
        self._opt.load_state_dict(state["opt"])
        self._steps = int(state["steps"])
        for k in DIRECTIONS:
            self.classifiers[k].load_state_dict(state["classifiers"][k])
            self._clf_opts[k].load_state_dict(state["classifier_opts"][k])

    def _times(self, direction: str) -> torch.Tensor:
        c = self.config
        return grid(c.blocks, c.steps_per_block, reverse=direction == "qp", device=self._data["pq"][0].device)

    def _batch(self, x: torch.Tensor) -> torch.Tensor:
        size = min(self.config.refine_batch, len(x))
        return x[torch.randperm(len(x), generator=self._gen, device=x.device)[:size]]

    def _fresh_classifier(self, direction: str, seed: int) -> None:
        c = self.config
        source = self._data[direction][0]
        device = source.device
        clf = init_layers(RatioClassifier(self.field.dim, c.classifier_hidden, c.classifier_depth), seed).to(device)
        self.classifiers[direction] = clf
        self._clf_opts[direction] = torch.optim.AdamW(clf.parameters(), lr=c.classifier_lr,
                                                      weight_decay=c.classifier_weight_decay)
        with torch.no_grad():   # a pool of pushed points for the warm-up, at most a few batches (n may be large)
            times = self._times(direction)
            pool = source[torch.randperm(len(source), generator=self._gen, device=device)[:WARMUP_POOL * c.refine_batch]]
            pushed = odeint_at(self.field, pool, times[[0, -1]], steps=len(times) - 1, solver=c.train_solver)[-1]
        for _ in range(c.classifier_warmup):
            self._classifier_step(direction, self._batch(pushed))

    def _classifier_step(self, direction: str, pushed: torch.Tensor) -> torch.Tensor:
        loss = logistic_loss(self.classifiers[direction], pushed, self._batch(self._data[direction][1]))
        opt = self._clf_opts[direction]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    def step(self, fraction: float) -> dict[str, torch.Tensor | float]:
        """One refinement step (the direction alternates) at ``fraction`` of the stage (drives γ)."""
        c = self.config
        direction = DIRECTIONS[self._steps % 2]
        gamma = gamma_schedule(fraction, c.gamma_start, c.gamma_end)
        out = refine_loss(self.field, self.classifiers[direction], self._batch(self._data[direction][0]),
                          self._times(direction), gamma, solver=c.train_solver, adjoint=c.adjoint)
        self._opt.zero_grad(set_to_none=True)
        out.loss.backward()
        self._opt.step()
        self._clf_opts[direction].zero_grad(set_to_none=True)
        clf_loss = torch.zeros(())
        if torch.isfinite(out.loss):
            for _ in range(c.classifier_steps):
                clf_loss = self._classifier_step(direction, out.pushed)
        self._steps += 1
        return {f"kl_{direction}": out.kl, f"kinetic_{direction}": out.kinetic,
                f"classifier_{direction}": clf_loss, "objective": out.loss.detach(), "gamma": gamma}

    @torch.no_grad()
    def kl_estimates(self, pushed: torch.Tensor, pulled: torch.Tensor) -> tuple[float, float]:
        """KL(T#P ‖ Q) and KL(T⁻¹#Q ‖ P) read by the classifiers on held-out end points."""
        return float(kl_estimate(self.classifiers["pq"], pushed)), float(kl_estimate(self.classifiers["qp"], pulled))

    def close(self) -> None:
        pass
