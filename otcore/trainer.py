"""Step-wise training: a small driver over two stage objects, a minibatch-OT flow-matching warm
start (:mod:`otcore.warmstart`) then a refinement (:mod:`otcore.reflow` by default, or the Q-flow
objective of :mod:`otcore.refine`), with held-out validation and keep-best selection
(:mod:`otcore.validation`) and an optional time budget (:mod:`otcore.budget`). The trainer knows nothing about any UI: it yields one :class:`StepMetrics`
per step, so a caller can chart, stop at any step and resume by calling :meth:`Trainer.run` again.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field as dc_field
from typing import Iterator

import torch

from . import threads
from .budget import StageClock, StagePlan, split_budget
from .config import FlowConfig
from .device import resolve_device
from .flow import OTFlow
from .refine import Refinement
from .reflow import Reflow
from .scaling import Standardizer
from .seeding import generator
from .validation import VALIDATION_POINTS, KeepBest, Validation, Validator
from .warmstart import WarmStart

WARM, REFINE, DONE, DIVERGED = "warm-start", "refine", "done", "diverged"
CHECKPOINT_FORMAT, CHECKPOINT_VERSION = "otflow-checkpoint", 4
__all__ = ["Trainer", "StepMetrics", "TrainingDiverged", "Validation", "VALIDATION_POINTS",
           "WARM", "REFINE", "DONE", "DIVERGED"]


#: refine_method -> the refinement stage
REFINEMENTS = {"reflow": Reflow, "qflow": Refinement}
#: a stage has diverged when its loss grows past this many times the smallest value it reached
DIVERGENCE_GROWTH = 1e4
#: a stage's weights are validated only once it has taken this many steps (or at its end): a stage
#: that spends its first tenth setting up (the reflow's teacher pairs) would otherwise offer
#: weights one step from its start, whose fit differs from the start's by noise alone
MIN_STEPS_BEFORE_VALIDATION = 10
#: on an accelerator the step's losses are read back (a host sync) only every this many steps, so
#: the device runs ahead of Python; between reads a step reports the last losses read
ACCELERATOR_SYNC_EVERY = 20


@dataclass
class StepMetrics:
    stage: str                      # 'warm-start' or 'refine'
    step: int                       # steps done in this stage
    stage_steps: int                # steps this stage will take (for a timed stage, as its pace predicts)
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


def _check_samples(name: str, x: torch.Tensor) -> torch.Tensor:
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.ndim != 2:
        raise ValueError(f"{name} must be an (n, d) array of samples, got shape {tuple(x.shape)}")
    if len(x) < 10:
        raise ValueError(f"{name} has {len(x)} samples; at least 10 are needed to train")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _split(x: torch.Tensor, holdout: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    perm = torch.randperm(len(x), generator=gen)
    n_val = max(1, int(round(holdout * len(x))))
    return x[perm[n_val:]], x[perm[:n_val]]


def _finite(module: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in module.parameters())


class Trainer:
    """Trains an :class:`OTFlow` from samples P (t = 0) and Q (t = 1).

    >>> trainer = Trainer(P, Q, FlowConfig())          # FlowConfig(budget_s=60): one minute in all
    >>> for m in trainer.run(100): ...                 # stop any time; run() again resumes
    >>> flow = trainer.flow
    """

    def __init__(self, P: torch.Tensor, Q: torch.Tensor, config: FlowConfig = FlowConfig(),
                 device: str | torch.device = "auto"):
        began = time.perf_counter()
        P, Q = _check_samples("P", P), _check_samples("Q", Q)
        if P.shape[1] != Q.shape[1]:
            raise ValueError(f"P and Q must have the same dimension; P has {P.shape[1]}, Q has {Q.shape[1]}")
        self.data = (P, Q)   # the samples, in the user's units
        self.config = c = config
        self.device = resolve_device(device)
        self.standardizer = Standardizer.fit(P, Q) if c.standardize else Standardizer.identity(P.shape[1])
        split_gen = generator(c.seed)
        (P_train, P_val), (Q_train, Q_val) = (_split(self.standardizer.forward(x), c.holdout, split_gen) for x in (P, Q))
        self.P_train, self.Q_train = P_train.to(self.device), Q_train.to(self.device)
        self.validator = Validator(P_val[:VALIDATION_POINTS].to(self.device), Q_val[:VALIDATION_POINTS].to(self.device),
                                   self.standardizer.scale, c.eval_steps, c.train_solver, seed=c.seed + 2)
        self._flow = OTFlow.new(P.shape[1], c, self.standardizer).to(self.device)
        self.field = self._flow.field
        self._gen = generator(c.seed + 1, self.device)
        self.keeper = KeepBest(c.fit_tolerance, c.refine_fit_tolerance, c.fit_noise_z)
        warm_s, refine_s = split_budget(c.budget_s, c.warm_steps > 0, self.refine_planned > 0, c.refine_share)
        self._plans = {WARM: StagePlan(c.warm_steps, warm_s), REFINE: StagePlan(self.refine_planned, refine_s)}
        self._clocks = {name: StageClock(plan) for name, plan in self._plans.items()}
        self.stage = WARM
        self._stage_obj: WarmStart | Refinement | Reflow | None = None
        self._stage_start: dict | None = None   # the field's weights when the current stage began
        self._next_validation = 1   # the first validation at a tenth of the stage: one step in, weights say nothing yet
        self._last_validation = (0.0, 0.0)   # (stage seconds when it ran, what it cost)
        self._stale = 0
        self.global_step = 0
        self.elapsed = 0.0
        self.history: list[StepMetrics] = []
        self.validations: list[tuple[str, int, Validation]] = []
        self.stop_reason: str | None = None   # why training diverged, if it did
        self.note: str | None = None          # e.g. that the refinement ended early (patience)
        self._latest: Validation | None = None
        self._last_values: dict[str, float] | None = None
        self._lowest: dict[str, float] = {}   # stage -> the smallest value its loss has reached
        self._sync_every = 1 if self.device.type == "cpu" else ACCELERATOR_SYNC_EVERY
        if c.warm_steps == 0:
            self.stage = REFINE
        if self.stage == REFINE and self.refine_planned == 0:
            self._finish_refinement()
        self._clocks[WARM].spent = time.perf_counter() - began   # setting up counts against the budget

    # --- public state ----------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.stage in (DONE, DIVERGED)

    @property
    def best(self) -> Validation | None:
        return self.keeper.best

    @property
    def flow(self) -> OTFlow:
        """The flow as it stands: EMA weights during the warm start, current weights while refining,
        the kept (best validated) weights once training is done."""
        field = self._stage_obj.kept if self._stage_obj is not None and not self.done else self.field
        return OTFlow(copy.deepcopy(field).cpu(), self.config, self.standardizer, {"trained_steps": self.global_step})

    @property
    def refine_planned(self) -> int:
        """Refinement steps this run plans without a budget (0: no refinement, e.g. below
        ``refine_min_dim``); with a budget the refinement runs for its share of the time instead."""
        c = self.config
        if self.field.dim < c.refine_min_dim or c.refine_steps == 0:
            return 0
        return c.refine_steps

    def progress(self) -> dict[str, tuple[int, int]]:
        """stage -> (steps done, steps planned). A finished stage plans what it did; a timed stage
        still running plans what its pace predicts."""
        out = {}
        for name, clock in self._clocks.items():
            finished = self.stage != DIVERGED and self._stage_rank(name) < self._stage_rank(self.stage)
            out[name] = (clock.steps, clock.steps if finished else clock.planned_steps)
        return out

    @staticmethod
    def _stage_rank(stage: str) -> int:
        return {WARM: 0, REFINE: 1, DONE: 2, DIVERGED: 2}[stage]

    # --- driving -------------------------------------------------------------------------
    def run(self, n_steps: int | None = None) -> Iterator[StepMetrics]:
        """Advance up to ``n_steps`` steps (all remaining if None), yielding metrics after each."""
        done = 0
        try:
            while not self.done and (n_steps is None or done < n_steps):
                yield self.step()
                done += 1
        finally:
            threads.unregister(self)   # a paused trainer holds no cores; step() counts it again
            if self.done:
                self.close()

    def step(self) -> StepMetrics:
        if self.done:
            raise RuntimeError(f"training has finished ({self.stage}); start a new Trainer to train again")
        stage_name = self.stage
        threads.register(self, stage_name == WARM and self.config.pairing != "sinkhorn")
        threads.apply(self.config.threads)
        clock = self._clocks[stage_name]
        clock.start()
        stage = self._enter(stage_name)
        try:
            losses = stage.step(clock.fraction)
        except RuntimeError as err:   # e.g. a learning rate so large that an update overflows float32
            if "overflow" not in str(err):
                raise
            clock.stop()
            return self._diverged(stage_name, {}, "an update overflowed the float range")
        clock.steps += 1
        self.global_step += 1
        if self.global_step % self._sync_every == 0 or clock.over or self._last_values is None:
            values = {k: float(v) for k, v in losses.items()}   # reading a loss waits for the device
            why = self._growth(stage_name, values)
            if why is not None:
                clock.stop()
                return self._diverged(stage_name, values, why)
            self._last_values = values
        values = dict(self._last_values)
        validation = self._maybe_validate(stage_name, stage, clock)
        if validation is not None and not (validation.finite and _finite(stage.field)):
            clock.stop()
            return self._diverged(stage_name, values, "the weights integrate to non-finite values")
        took = clock.stop()
        self.elapsed += took
        gamma = values.pop("gamma", None)
        if "kinetic_pq" in values or "kinetic_qp" in values:   # report the cost in the user's units
            for k in [k for k in values if k.startswith("kinetic")]:
                values[k] *= self.standardizer.scale ** 2
        metrics = StepMetrics(stage_name, clock.steps, clock.planned_steps, self.global_step, values, self.elapsed,
                              clock.steps / clock.seconds if clock.seconds > 0 else 0.0, gamma=gamma,
                              validation=validation)
        if self._latest is not None:
            metrics.kl_pq, metrics.kl_qp = self._latest.kl_pq, self._latest.kl_qp
            metrics.transport_cost, metrics.fit = self._latest.transport_cost, self._latest.fit
        stale = stage_name == REFINE and self.config.patience > 0 and self._stale >= self.config.patience
        if stale:
            self.note = f"refinement ended early: no better flow in {self._stale} validations"
        if clock.over or stale:
            metrics.stage_steps = clock.steps
            self._end_stage(stage_name)
        self.history.append(metrics)
        return metrics

    def close(self) -> None:
        threads.unregister(self)
        if self._stage_obj is not None:
            self._stage_obj.close()

    # --- checkpoints -----------------------------------------------------------------------
    def checkpoint(self) -> dict:
        """Everything needed to continue this run exactly (plain tensors and values; save it with
        :func:`otcore.files.save_state`). A step-counted run resumed with :meth:`resume` ends with the
        same flow as an uninterrupted one; a timed run continues with the time it had left."""
        stage = self._stage_obj if self._stage_obj is not None and self._stage_obj.name == self.stage else None
        return copy.deepcopy({
            "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "config": self.config.to_dict(),
            "stage": self.stage, "field": copy.deepcopy(self.field.state_dict()),
            "stage_start": self._stage_start if stage is not None else None,
            "stage_state": stage.state_dict() if stage is not None else None,
            "clocks": {name: {"steps": c.steps, "spent": c.spent} for name, c in self._clocks.items()},
            "global_step": self.global_step, "elapsed": self.elapsed, "generator": self._gen.get_state().cpu(),
            "keeper": self.keeper.state_dict(),
            "validations": [[name, step, asdict(v)] for name, step, v in self.validations],
            "latest": asdict(self._latest) if self._latest is not None else None,
            "next_validation": self._next_validation, "stale": self._stale, "lowest": dict(self._lowest),
            "last_values": self._last_values, "note": self.note, "stop_reason": self.stop_reason,
        })

    @classmethod
    def resume(cls, P: torch.Tensor, Q: torch.Tensor, checkpoint: dict, device: str | torch.device = "auto") -> "Trainer":
        """A trainer that continues from :meth:`checkpoint` on the same P and Q."""
        if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise ValueError("this file is not a training checkpoint of OT Flow Studio")
        if checkpoint.get("version") != CHECKPOINT_VERSION:
            raise ValueError(f"this checkpoint has format {checkpoint.get('version')!r}; this version reads "
                             f"{CHECKPOINT_VERSION}")
        ck = checkpoint
        trainer = cls(P, Q, FlowConfig.from_dict(ck["config"]), device)
        trainer.stage = ck["stage"]
        for name, clock in ck["clocks"].items():
            trainer._clocks[name].steps, trainer._clocks[name].spent = int(clock["steps"]), float(clock["spent"])
        if ck["stage_state"] is not None:   # rebuild the stage from its starting weights, then its state
            trainer.field.load_state_dict(ck["stage_start"])
            trainer._make_stage(trainer.stage)
            trainer._stage_obj.load_state_dict(ck["stage_state"])
        trainer.field.load_state_dict(ck["field"])
        trainer._gen.set_state(ck["generator"].to(trainer._gen.get_state().device))
        trainer.keeper.load_state_dict(ck["keeper"])
        trainer.validations = [(name, int(step), Validation(**v)) for name, step, v in ck["validations"]]
        trainer._latest = Validation(**ck["latest"]) if ck["latest"] is not None else None
        trainer.global_step, trainer.elapsed = int(ck["global_step"]), float(ck["elapsed"])
        trainer._next_validation, trainer._stale = int(ck["next_validation"]), int(ck["stale"])
        trainer._lowest, trainer._last_values = dict(ck["lowest"]), ck["last_values"]
        trainer.note, trainer.stop_reason = ck["note"], ck["stop_reason"]
        return trainer

    # --- stages ----------------------------------------------------------------------------
    def _make_stage(self, name: str) -> None:
        """The stage object for ``name``, built on the field's current weights (remembered)."""
        kind = WarmStart if name == WARM else REFINEMENTS[self.config.refine_method]
        self._stage_start = copy.deepcopy(self.field.state_dict())
        self._stage_obj = kind(self.field, self.P_train, self.Q_train, self.config, self._gen)

    def _enter(self, name: str):
        if self._stage_obj is None or self._stage_obj.name != name:
            self._make_stage(name)
            self._next_validation = 1
            self._last_validation = (0.0, 0.0)
            if name == REFINE:   # the starting point (the kept warm-start weights), measured again with KL
                self._validate(REFINE, self._stage_obj)
        return self._stage_obj

    def _maybe_validate(self, name: str, stage, clock: StageClock) -> Validation | None:
        """Stages with ``validations`` (the warm start, the reflow) are validated at each such share
        of their plan, never more often than every four validation costs; the Q-flow refinement every
        ``validate_every`` steps, with patience."""
        if getattr(stage, "validations", None):
            at, cost = self._last_validation
            spaced = not clock.plan.timed or clock.seconds - at >= 4 * cost   # step-counted runs stay reproducible
            due = (clock.fraction >= self._next_validation / stage.validations and spaced
                   and clock.steps >= MIN_STEPS_BEFORE_VALIDATION)
            if not (due or clock.over):
                return None
            while self._next_validation / stage.validations <= clock.fraction:
                self._next_validation += 1
            began = time.perf_counter()
            v = self._validate(name, stage)
            self._last_validation = (clock.seconds, time.perf_counter() - began)
            return v
        if clock.steps % self.config.validate_every == 0 or clock.over:
            before = self.keeper.best
            v = self._validate(REFINE, stage)
            self._stale = 0 if self.keeper.best is not before else self._stale + 1
            return v
        return None

    def _validate(self, name: str, stage) -> Validation:
        out = self.validator(stage.kept)
        v = out.validation
        if name == REFINE:
            v.kl_pq, v.kl_qp = stage.kl_estimates(out.pushed, out.pulled)
        self.keeper.consider(v, stage.kept, refining=name == REFINE, draws=out.fit_draws)
        self._latest = v
        self.validations.append((name, self._clocks[name].steps, v))
        return v

    def _end_stage(self, name: str) -> None:
        if self._stage_obj is not None:
            self._stage_obj.close()
        if self.keeper.state is not None:
            self.field.load_state_dict(self.keeper.state)
        if name == WARM and self.refine_planned > 0:
            self.stage = REFINE
            return
        self._finish_refinement()

    def _finish_refinement(self) -> None:
        c = self.config
        if c.refine_steps > 0 and self.field.dim < c.refine_min_dim:
            self.note = (f"refinement skipped: d = {self.field.dim} < refine_min_dim = {c.refine_min_dim} "
                         "(set refine_min_dim lower to refine anyway)")
        self._latest = self.keeper.best or self._latest
        self.stage = DONE
        threads.unregister(self)

    # --- failure ----------------------------------------------------------------------------
    def _diverged(self, name: str, losses: dict[str, float], why: str) -> StepMetrics:
        """Stop, keeping the first of (the kept validated weights, the stage's averaged weights, the
        initial weights) that integrates held-out points to finite values, and say which."""
        candidates = []
        if self.keeper.state is not None:
            candidates.append(("the best validated weights", self.keeper.state))
        if self._stage_obj is not None and self._stage_obj.kept is not self.field:
            candidates.append(("the averaged weights", copy.deepcopy(self._stage_obj.kept.state_dict())))
        candidates.append(("the initial weights", OTFlow.new(self.field.dim, self.config).field.state_dict()))
        for label, state in candidates:
            self.field.load_state_dict(state)
            if _finite(self.field) and self.validator(self.field).validation.finite:
                break
        self.stop_reason = (f"training diverged at {name} step {self._clocks[name].steps}: {why}. Kept {label}, "
                            "which integrate to finite values; try a smaller learning rate.")
        self.stage = DIVERGED
        self.close()
        return StepMetrics(name, self._clocks[name].steps, self._clocks[name].steps, self.global_step, losses,
                           self.elapsed, 0.0)

    def _growth(self, name: str, values: dict[str, float]) -> str | None:
        """Why the stage's loss (its first term) counts as diverged, or None: non-finite, or grown
        past DIVERGENCE_GROWTH × the smallest value it has reached."""
        if not all(math.isfinite(v) for v in values.values()):
            bad = "NaN" if any(math.isnan(v) for v in values.values()) else "infinite"
            return f"the loss became {bad}"
        first = next(iter(values.values()), None)
        if first is None or first <= 0:
            return None
        low = self._lowest.get(name, first)
        self._lowest[name] = min(low, first)
        if first > DIVERGENCE_GROWTH * low:
            return f"the loss grew from {low:.3g} to {first:.3g}"
        return None
