"""Step-wise training in two visible stages: a minibatch-OT flow-matching warm start, then the
Q-flow refinement. The trainer knows nothing about any UI: it yields one :class:`StepMetrics` per
step, so a caller can chart, stop at any step and resume by calling :meth:`Trainer.run` again."""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field as dc_field
from typing import Iterator

import torch

from .classifier import RatioClassifier, kl_estimate, logistic_loss
from .config import FlowConfig
from .device import resolve_device
from .flow import OTFlow
from .integrate import grid, odeint_at, path_kinetic_energy
from .metrics import energy_distance
from .refine import gamma_schedule, refine_loss
from .scaling import Standardizer
from .warmstart import PairedBatches, flow_matching_loss

WARM, REFINE, DONE, DIVERGED = "warm-start", "refine", "done", "diverged"
VALIDATION_POINTS = 1000


@dataclass
class Validation:
    """Held-out measures of the current flow, in the user's units."""
    fit: float             # energy distance T#P vs Q
    fit_reverse: float     # energy distance T⁻¹#Q vs P
    transport_cost: float  # mean kinetic energy along the P→Q paths (W₂² scale)
    kl_pq: float | None = None   # classifier estimate of KL(T#P ‖ Q), nats
    kl_qp: float | None = None   # classifier estimate of KL(T⁻¹#Q ‖ P), nats

    @property
    def total_fit(self) -> float:
        return self.fit + self.fit_reverse


@dataclass
class StepMetrics:
    stage: str                      # 'warm-start' or 'refine'
    step: int                       # steps done in this stage
    stage_steps: int                # steps this stage will take
    global_step: int
    losses: dict[str, float]        # the loss terms of this step
    elapsed: float                  # seconds of training so far
    steps_per_s: float              # of this stage so far
    gamma: float | None = None
    validation: Validation | None = None   # set on the steps where the flow was validated
    kl_pq: float | None = None      # latest KL estimates (nats), carried between validations
    kl_qp: float | None = None
    transport_cost: float | None = None
    fit: float | None = None
    extras: dict[str, float] = dc_field(default_factory=dict)


class TrainingDiverged(RuntimeError):
    """Raised by :func:`fit_flow` when training produced NaN or inf (last good weights kept)."""


def _split(x: torch.Tensor, holdout: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    perm = torch.randperm(len(x), generator=gen)
    n_val = max(1, int(round(holdout * len(x))))
    return x[perm[n_val:]], x[perm[:n_val]]


def _check_samples(name: str, x: torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.ndim != 2:
        raise ValueError(f"{name} must be an (n, d) array of samples, got shape {tuple(x.shape)}")
    if len(x) < 10:
        raise ValueError(f"{name} has {len(x)} samples; at least 10 are needed to train")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


class Trainer:
    """Trains an :class:`OTFlow` from samples P (t = 0) and Q (t = 1).

    >>> trainer = Trainer(P, Q, FlowConfig())
    >>> for m in trainer.run(100): ...     # stop any time; run() again resumes
    >>> flow = trainer.flow
    """

    def __init__(self, P: torch.Tensor, Q: torch.Tensor, config: FlowConfig = FlowConfig(),
                 device: str | torch.device = "auto"):
        P, Q = _check_samples("P", P), _check_samples("Q", Q)
        if P.shape[1] != Q.shape[1]:
            raise ValueError(f"P and Q must have the same dimension; P has {P.shape[1]}, Q has {Q.shape[1]}")
        self.config = config
        self.device = resolve_device(device)
        gen = torch.Generator().manual_seed(config.seed)
        self.standardizer = Standardizer.fit(P, Q) if config.standardize else Standardizer.identity(P.shape[1])
        zP, zQ = self.standardizer.forward(P), self.standardizer.forward(Q)
        (self.P_train, self.P_val), (self.Q_train, self.Q_val) = _split(zP, config.holdout, gen), _split(zQ, config.holdout, gen)
        self.P_train, self.P_val = self.P_train.to(self.device), self.P_val[:VALIDATION_POINTS].to(self.device)
        self.Q_train, self.Q_val = self.Q_train.to(self.device), self.Q_val[:VALIDATION_POINTS].to(self.device)
        self._flow = OTFlow.new(P.shape[1], config, self.standardizer).to(self.device)
        self.field = self._flow.field
        self.ema_field = copy.deepcopy(self.field).requires_grad_(False)
        self._gen = torch.Generator(device="cpu").manual_seed(config.seed + 1)
        self.stage = WARM
        self.stage_step = 0
        self.global_step = 0
        self.elapsed = 0.0
        self._stage_time = 0.0
        self.history: list[StepMetrics] = []
        self.validations: list[tuple[str, int, Validation]] = []
        self.stop_reason: str | None = None   # why training diverged, if it did
        self.note: str | None = None          # e.g. that the refinement ended early (patience)
        self.best: Validation | None = None
        self._min_fit = float("inf")
        self._stale = 0
        self._best_state: dict | None = None
        self._last_good = copy.deepcopy(self.field.state_dict())
        self._latest: Validation | None = None
        self._pairs: PairedBatches | None = None
        self._opt = torch.optim.Adam(self.field.parameters(), lr=config.warm_lr)
        self._classifiers: dict[str, RatioClassifier] = {}
        self._clf_opts: dict[str, torch.optim.Optimizer] = {}
        if config.warm_steps == 0:
            self._enter_refinement()

    # --- public state ----------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.stage in (DONE, DIVERGED)

    @property
    def flow(self) -> OTFlow:
        """The flow as it stands: EMA weights during the warm start, current weights while refining,
        the best validated weights once training is done."""
        field = self.ema_field if self.stage == WARM and self.config.ema > 0 else self.field
        return OTFlow(copy.deepcopy(field).cpu(), self.config, self.standardizer, {"trained_steps": self.global_step})

    @property
    def refine_planned(self) -> int:
        """Refinement steps this run will take at most (0 below ``refine_min_dim``)."""
        return self.config.refine_steps if self.field.dim >= self.config.refine_min_dim else 0

    def progress(self) -> dict[str, tuple[int, int]]:
        """stage -> (steps done, steps planned)."""
        c, planned = self.config, self.refine_planned
        warm_done = c.warm_steps if self.stage != WARM else self.stage_step
        refine_done = self.stage_step if self.stage == REFINE else (planned if self.stage == DONE else 0)
        if self.stage == DIVERGED:
            refine_done = self.stage_step
        return {WARM: (warm_done, c.warm_steps), REFINE: (refine_done, planned)}

    # --- driving -------------------------------------------------------------------------
    def run(self, n_steps: int | None = None) -> Iterator[StepMetrics]:
        """Advance up to ``n_steps`` steps (all remaining if None), yielding metrics after each."""
        done = 0
        try:
            while not self.done and (n_steps is None or done < n_steps):
                yield self.step()
                done += 1
        finally:
            if self._pairs is not None and (self.done or self.stage != WARM):
                self._pairs.close()
                self._pairs = None

    def step(self) -> StepMetrics:
        if self.done:
            raise RuntimeError(f"training has finished ({self.stage}); start a new Trainer to train again")
        start, stage = time.perf_counter(), self.stage
        metrics = self._warm_step() if stage == WARM else self._refine_step()
        took = time.perf_counter() - start
        self.elapsed += took
        self._stage_time += took
        metrics.elapsed = self.elapsed
        metrics.steps_per_s = metrics.step / self._stage_time if self._stage_time > 0 else 0.0
        if self.stage != stage:  # this step ended its stage: the next one's clock starts now
            self._stage_time = 0.0
        if self._latest is not None:
            metrics.kl_pq, metrics.kl_qp = self._latest.kl_pq, self._latest.kl_qp
            metrics.transport_cost, metrics.fit = self._latest.transport_cost, self._latest.fit
        self.history.append(metrics)
        return metrics

    def close(self) -> None:
        if self._pairs is not None:
            self._pairs.close()
            self._pairs = None

    # --- stage 1 ---------------------------------------------------------------------------
    def _warm_step(self) -> StepMetrics:
        c = self.config
        if self._pairs is None:
            self._pairs = PairedBatches(self.P_train, self.Q_train, c.warm_batch, c.pairing, c.seed, c.ot_block)
        x0, x1 = (b.to(self.device) for b in self._pairs.next())
        lr = c.warm_lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * self.stage_step / max(1, c.warm_steps))))
        for group in self._opt.param_groups:
            group["lr"] = lr
        t = torch.rand(len(x0), generator=self._gen).to(self.device)
        loss = flow_matching_loss(self.field, x0, x1, t)
        self._opt.zero_grad(set_to_none=True)
        loss.backward()
        self._opt.step()
        if not self._finite(loss):
            return self._diverged(WARM, {"flow_matching": loss.item()})
        decay = min(c.ema, (1 + self.stage_step) / (10 + self.stage_step)) if c.ema > 0 else 0.0
        with torch.no_grad():
            for e, p in zip(self.ema_field.parameters(), self.field.parameters()):
                e.lerp_(p, 1 - decay)
        self.stage_step += 1
        self.global_step += 1
        metrics = StepMetrics(WARM, self.stage_step, c.warm_steps, self.global_step,
                              {"flow_matching": loss.item(), "lr": lr}, 0.0, 0.0)
        every = max(c.validate_every * 10, c.warm_steps // 10)
        last = self.stage_step >= c.warm_steps
        if last or self.stage_step % every == 0:
            kept = self.ema_field if c.ema > 0 else self.field
            metrics.validation = self._validate(kept, WARM)
            self._consider(metrics.validation, kept)
        if last:
            self._end_warm_start()
        return metrics

    def _end_warm_start(self) -> None:
        self.field.load_state_dict(self._best_state)
        if self._pairs is not None:
            self._pairs.close()
            self._pairs = None
        self._enter_refinement()

    # --- stage 2 ---------------------------------------------------------------------------
    def _enter_refinement(self) -> None:
        c = self.config
        self.stage, self.stage_step = REFINE, 0
        if self.refine_planned == 0:
            if c.refine_steps > 0:
                self.note = (f"refinement skipped: d = {self.field.dim} < refine_min_dim = {c.refine_min_dim} "
                             "(set refine_min_dim lower to refine anyway)")
            self.stage = DONE
            return
        self._opt = torch.optim.Adam(self.field.parameters(), lr=c.refine_lr)
        for direction in ("pq", "qp"):
            self._fresh_classifier(direction)
        # the starting point (the kept warm-start weights), measured again now with KL estimates
        self.best = self._validate(self.field, REFINE)
        self._min_fit = min(self._min_fit, self.best.total_fit)
        self._best_state = copy.deepcopy(self.field.state_dict())
        self._last_good = copy.deepcopy(self.field.state_dict())

    def _fresh_classifier(self, direction: str) -> None:
        c = self.config
        torch.manual_seed(c.seed + (11 if direction == "pq" else 12) + self.stage_step)
        clf = RatioClassifier(self.field.dim, c.classifier_hidden, c.classifier_depth).to(self.device)
        self._classifiers[direction] = clf
        self._clf_opts[direction] = torch.optim.AdamW(clf.parameters(), lr=c.classifier_lr,
                                                      weight_decay=c.classifier_weight_decay)
        with torch.no_grad():
            pushed = self._push(self._source(direction), direction)
        for _ in range(c.classifier_warmup):
            self._classifier_step(direction, pushed[self._batch_idx(len(pushed))])

    def _source(self, direction: str) -> torch.Tensor:
        return self.P_train if direction == "pq" else self.Q_train

    def _target(self, direction: str) -> torch.Tensor:
        return self.Q_train if direction == "pq" else self.P_train

    def _batch_idx(self, n: int) -> torch.Tensor:
        size = min(self.config.refine_batch, n)
        return torch.randperm(n, generator=self._gen)[:size].to(self.device)

    def _times(self, direction: str) -> torch.Tensor:
        return grid(self.config.blocks, self.config.steps_per_block, reverse=direction == "qp", device=self.device)

    def _push(self, x: torch.Tensor, direction: str) -> torch.Tensor:
        times = self._times(direction)
        return odeint_at(self.field, x, times[[0, -1]], steps=len(times) - 1, solver="rk4")[-1]

    def _classifier_step(self, direction: str, pushed: torch.Tensor) -> float:
        target = self._target(direction)
        b = target[self._batch_idx(len(target))]
        loss = logistic_loss(self._classifiers[direction], pushed, b)
        opt = self._clf_opts[direction]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    def _refine_step(self) -> StepMetrics:
        c = self.config
        direction = "pq" if self.stage_step % 2 == 0 else "qp"
        gamma = gamma_schedule(self.stage_step, c.refine_steps, c.gamma_start, c.gamma_end)
        source = self._source(direction)
        x = source[self._batch_idx(len(source))]
        out = refine_loss(self.field, self._classifiers[direction], x, self._times(direction), gamma, adjoint=c.adjoint)
        self._opt.zero_grad(set_to_none=True)
        out.loss.backward()
        self._opt.step()
        self._clf_opts[direction].zero_grad(set_to_none=True)
        if not self._finite(out.loss):
            return self._diverged(REFINE, {"loss": out.loss.item()})
        clf_loss = 0.0
        for _ in range(c.classifier_steps):
            clf_loss = self._classifier_step(direction, out.pushed)
        self.stage_step += 1
        self.global_step += 1
        scale2 = self.standardizer.scale ** 2
        losses = {f"kl_{direction}": float(out.kl), f"kinetic_{direction}": float(out.kinetic) * scale2,
                  f"classifier_{direction}": clf_loss, "objective": out.loss.item()}
        metrics = StepMetrics(REFINE, self.stage_step, c.refine_steps, self.global_step, losses, 0.0, 0.0, gamma=gamma)
        stale = False
        if self.stage_step % c.validate_every == 0 or self.stage_step >= c.refine_steps:
            metrics.validation = self._validate(self.field, REFINE)
            improved = self._consider(metrics.validation, self.field)
            self._stale = 0 if improved else self._stale + 1
            stale = c.patience > 0 and self._stale >= c.patience
            if stale:
                self.note = f"refinement ended early: no better flow in {self._stale} validations"
        if self.stage_step % 10 == 0:
            self._last_good = copy.deepcopy(self.field.state_dict())
        if self.stage_step >= c.refine_steps or stale:
            self.field.load_state_dict(self._best_state)
            self._latest = self.best
            self.stage = DONE
        return metrics

    def _consider(self, v: Validation, field) -> bool:
        """Keep the weights with the lowest held-out transport cost among those whose held-out fit
        is within ``fit_tolerance`` of the best fit seen so far, over both stages. The warm start's
        own weights compete too, so the result is never worse than the warm start on held-out data.
        Returns whether these weights are now the kept ones."""
        tol = self.config.fit_tolerance
        self._min_fit = min(self._min_fit, v.total_fit)
        admissible = v.total_fit <= self._min_fit * (1 + tol)
        best_admissible = self.best is not None and self.best.total_fit <= self._min_fit * (1 + tol)
        if admissible and (not best_admissible or v.transport_cost < self.best.transport_cost):
            self.best = v
            self._best_state = copy.deepcopy(field.state_dict())
            return True
        return False

    # --- validation ---------------------------------------------------------------------------
    @torch.no_grad()
    def _validate(self, field, stage: str) -> Validation:
        c = self.config
        times = torch.linspace(0.0, 1.0, c.eval_steps + 1, device=self.device)
        path = odeint_at(field, self.P_val, times, steps=c.eval_steps, solver="rk4")
        back = odeint_at(field, self.Q_val, times.flip(0)[[0, -1]], steps=c.eval_steps, solver="rk4")[-1]
        s = self.standardizer.scale
        v = Validation(
            fit=energy_distance(path[-1], self.Q_val) * s,
            fit_reverse=energy_distance(back, self.P_val) * s,
            transport_cost=float(path_kinetic_energy(path, times).mean()) * s * s,
        )
        if stage == REFINE and self._classifiers:
            v.kl_pq = float(kl_estimate(self._classifiers["pq"], path[-1]))
            v.kl_qp = float(kl_estimate(self._classifiers["qp"], back))
        self._latest = v
        self.validations.append((stage, self.stage_step, v))
        return v

    # --- failure ----------------------------------------------------------------------------
    def _finite(self, loss: torch.Tensor) -> bool:
        if not torch.isfinite(loss):
            return False
        return all(torch.isfinite(p).all() for p in self.field.parameters())

    def _diverged(self, stage: str, losses: dict[str, float]) -> StepMetrics:
        if stage == WARM:
            self.field.load_state_dict(self.ema_field.state_dict() if self._finite_module(self.ema_field) else self._last_good)
        else:
            self.field.load_state_dict(self._best_state or self._last_good)
        self.stop_reason = (f"training diverged at {stage} step {self.stage_step + 1}: the loss became "
                            f"{'NaN' if any(math.isnan(v) for v in losses.values()) else 'infinite'}. "
                            "The last good weights are kept; try a smaller learning rate.")
        self.stage = DIVERGED
        self.close()
        return StepMetrics(stage, self.stage_step, self.stage_step, self.global_step, losses, 0.0, 0.0)

    @staticmethod
    def _finite_module(module) -> bool:
        return all(torch.isfinite(p).all() for p in module.parameters())
