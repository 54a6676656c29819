"""The one frozen configuration of a flow and its training (every hyper-parameter, with defaults
that work on the built-in toys without tuning)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .integrate import SOLVERS
from .pairing import PAIRINGS
from .typecheck import check_field_types

#: the largest sizes a flow config may ask for (a file is checked against them before anything is built)
SIZE_CAPS = {"hidden": 65_536, "depth": 256, "time_features": 4096, "classifier_hidden": 65_536, "classifier_depth": 64,
             "blocks": 10_000, "steps_per_block": 10_000, "eval_steps": 100_000}
#: the second stage's objectives (otcore.trainer.REFINEMENTS maps each to its stage)
REFINE_METHODS = ("reflow", "qflow")


@dataclass(frozen=True)
class FlowConfig:
    # --- velocity field v(x, t): a time-conditioned MLP -------------------------------------
    hidden: int = field(default=256, metadata={"help": "width of each hidden layer"})
    depth: int = field(default=3, metadata={"help": "number of hidden layers"})
    time_features: int = field(default=16, metadata={"help": "sinusoidal features of t fed to the network"})
    # --- time grid -------------------------------------------------------------------------
    blocks: int = field(default=4, metadata={"help": "K grid blocks 0 = t_0 < … < t_K = 1 (bridge distributions)"})
    steps_per_block: int = field(default=2, metadata={"help": "fixed solver steps inside each block while training"})
    eval_steps: int = field(default=32, metadata={"help": "fixed solver steps over [0, 1] for transport / evaluation"})
    solver: str = field(default="rk4", metadata={"help": "solver for transport, trajectories and evaluation: 'rk4' | 'midpoint' | 'euler' (fixed grid, eval_steps) or 'dopri5' (adaptive)"})
    train_solver: str = field(default="rk4", metadata={"help": "fixed-grid solver of training and validation: 'rk4' | 'midpoint' | 'euler'"})
    standardize: bool = field(default=True, metadata={"help": "learn in standardised units (results are in the user's units)"})
    seed: int = field(default=0, metadata={"help": "seeds the network, the splits and every minibatch"})
    # --- time and threads ------------------------------------------------------------------
    budget_s: float = field(default=0.0, metadata={"help": "seconds for the whole training (0: run the step counts); the refinement gets refine_share of them"})
    refine_share: float = field(default=0.3, metadata={"help": "share of budget_s given to the refinement when it runs"})
    threads: int = field(default=0, metadata={"help": "torch threads of the training thread (0: max(1, (cores − pairing threads) // trainers))"})
    # --- stage 1: warm start, flow matching with minibatch-OT pairing -------------------------
    warm_steps: int = field(default=2000, metadata={"help": "flow-matching steps of the warm start"})
    warm_batch: int = field(default=512, metadata={"help": "flow-matching minibatch size"})
    ot_block: int = field(default=256, metadata={"help": "points per exact OT problem (the batch is paired in blocks)"})
    warm_lr: float = field(default=5e-3, metadata={"help": "Adam, cosine-decayed to 5% over warm_steps"})
    warm_sigma: float = field(default=0.0, metadata={"help": "std of Gaussian noise around the straight paths (standardised units)"})
    ema: float = field(default=0.9995, metadata={"help": "weight averaging of the warm-start field (0 disables)"})
    pairing: str = field(default="exact", metadata={"help": "'exact' (POT emd) | 'sinkhorn' | 'independent'"})
    # --- stage 2: the refinement (reflow, or Q-flow: KL(T#P‖Q) + KL(T⁻¹#Q‖P) + γ · kinetic energy) --
    refine_method: str = field(default="reflow", metadata={"help": "'reflow' (straighten the warm start's paths, keep its map: measured better in d ≥ 16) | 'qflow' (KL classifiers + γ · kinetic energy)"})
    reflow_lr: float = field(default=1e-3, metadata={"help": "Adam learning rate of the 'reflow' refinement (cosine-decayed)"})
    refine_steps: int = field(default=100, metadata={"help": "refinement steps without a budget (Q-flow: directions alternate); 0 turns it off"})
    refine_min_dim: int = field(default=3, metadata={"help": "refine only data of at least this dimension: below it minibatch-OT pairing is nearly unbiased and extra warm-start steps measured better"})
    refine_batch: int = field(default=1024, metadata={"help": "particles pushed through the grid per refinement step"})
    adjoint: bool = field(default=False, metadata={"help": "adjoint gradients through the ODE (less memory, slower)"})
    refine_lr: float = field(default=1e-5, metadata={"help": "Adam on the field (small: the KL gradient is noisy)"})
    gamma_start: float = field(default=0.01, metadata={"help": "γ is annealed geometrically from gamma_start …"})
    gamma_end: float = field(default=0.003, metadata={"help": "… to gamma_end, so the fixed point approaches the OT map"})
    classifier_hidden: int = field(default=0, metadata={"help": "0: sized to the data, min(256, max(64, 4d))"})
    classifier_depth: int = field(default=2, metadata={"help": "hidden layers of each KL classifier"})
    classifier_lr: float = field(default=1e-3, metadata={"help": "AdamW learning rate of the KL classifiers"})
    classifier_weight_decay: float = field(default=1e-3, metadata={"help": "AdamW weight decay of the KL classifiers"})
    classifier_steps: int = field(default=3, metadata={"help": "classifier updates per flow step (on fresh pushed samples)"})
    classifier_warmup: int = field(default=200, metadata={"help": "classifier steps when a classifier is (re)fitted"})
    holdout: float = field(default=0.2, metadata={"help": "share of P and Q kept out of training for validation"})
    validate_every: int = field(default=20, metadata={"help": "refinement steps between validations (best weights kept)"})
    fit_tolerance: float = field(default=0.01, metadata={"help": "relative slack on the held-out fit when keeping the warm start's best weights"})
    refine_fit_tolerance: float = field(default=0.05, metadata={"help": "relative slack on the held-out fit of refinement weights against the weights it started from"})
    fit_noise_z: float = field(default=1.0, metadata={"help": "a held-out fit is as good as another within this many bootstrap standard errors of their difference (or the relative slack, whichever is larger)"})
    patience: int = field(default=3, metadata={"help": "refinement ends after this many validations without a better kept flow (0: never)"})

    def __post_init__(self) -> None:
        check_field_types(self, caps=SIZE_CAPS)
        positive = ["hidden", "depth", "blocks", "steps_per_block", "eval_steps", "warm_batch", "ot_block", "refine_batch",
                    "classifier_depth", "classifier_steps", "validate_every"]
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"FlowConfig.{name} must be ≥ 1, got {getattr(self, name)}")
        for name in ("warm_steps", "refine_steps", "refine_min_dim", "time_features", "classifier_hidden", "classifier_warmup", "patience"):
            if getattr(self, name) < 0:
                raise ValueError(f"FlowConfig.{name} must be ≥ 0, got {getattr(self, name)}")
        if self.refine_method not in REFINE_METHODS:
            raise ValueError(f"unknown refine_method {self.refine_method!r}; choose one of {', '.join(REFINE_METHODS)}")
        for name in ("warm_lr", "refine_lr", "reflow_lr", "classifier_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"FlowConfig.{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.gamma_end <= self.gamma_start:
            raise ValueError("need 0 ≤ gamma_end ≤ gamma_start")
        if not 0 < self.holdout < 0.9:
            raise ValueError("holdout must be in (0, 0.9)")
        if not 0 <= self.ema < 1:
            raise ValueError("ema must be in [0, 1)")
        if self.solver not in SOLVERS:
            raise ValueError(f"unknown solver {self.solver!r}; choose one of {', '.join(SOLVERS)}")
        if not SOLVERS.get(self.train_solver, False):
            fixed = [name for name, grid in SOLVERS.items() if grid]
            raise ValueError(f"train_solver must be a fixed-grid solver ({', '.join(fixed)}), got {self.train_solver!r}")
        if not (self.budget_s >= 0 and self.budget_s < float("inf")):
            raise ValueError(f"FlowConfig.budget_s must be ≥ 0 seconds, got {self.budget_s}")
        if not 0 <= self.refine_share < 1:
            raise ValueError(f"FlowConfig.refine_share must be in [0, 1), got {self.refine_share}")
        if not 0 <= self.fit_noise_z < float("inf"):
            raise ValueError(f"FlowConfig.fit_noise_z must be ≥ 0, got {self.fit_noise_z}")
        if self.threads < 0:
            raise ValueError(f"FlowConfig.threads must be ≥ 0, got {self.threads}")
        if self.pairing not in PAIRINGS:
            raise ValueError(f"unknown pairing {self.pairing!r}; choose one of {', '.join(PAIRINGS)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "FlowConfig":
        """Build from a dict, ignoring unknown keys (older/newer files) but keeping known ones."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def replace(self, **changes: Any) -> "FlowConfig":
        return replace(self, **changes)
