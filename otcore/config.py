"""The one frozen configuration of a flow and its training (every hyper-parameter, with defaults
that work on the built-in toys without tuning)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class FlowConfig:
    # --- velocity field v(x, t): a time-conditioned MLP -------------------------------------
    hidden: int = 256             # width of each hidden layer
    depth: int = 3                # number of hidden layers
    time_features: int = 16       # sinusoidal features of t fed to the network
    # --- time grid -------------------------------------------------------------------------
    blocks: int = 4               # K grid blocks 0 = t_0 < … < t_K = 1 (bridge distributions)
    steps_per_block: int = 2      # fixed solver steps inside each block while training
    eval_steps: int = 32          # fixed solver steps over [0, 1] for transport / evaluation
    solver: str = "rk4"           # 'rk4' | 'midpoint' | 'euler' (fixed grid) or 'dopri5' (adaptive)
    standardize: bool = True      # learn in standardised units (results are in the user's units)
    seed: int = 0
    # --- stage 1: warm start, flow matching with minibatch-OT pairing -------------------------
    warm_steps: int = 3000
    warm_batch: int = 512         # minibatch size of each exact OT pairing
    warm_lr: float = 2e-3         # Adam, cosine-decayed to 5% over warm_steps
    ema: float = 0.999            # weight averaging of the warm-start field (0 disables)
    pairing: str = "exact"        # 'exact' (POT emd) | 'sinkhorn' | 'independent'
    # --- stage 2: Q-flow refinement: KL(T#P‖Q) + KL(T⁻¹#Q‖P) + γ · kinetic energy ------------
    refine_steps: int = 200
    refine_batch: int = 1024
    refine_lr: float = 5e-5       # Adam on the field
    gamma_start: float = 0.05     # γ is annealed geometrically from gamma_start …
    gamma_end: float = 0.005      # … to gamma_end, so the fixed point approaches the OT map
    classifier_hidden: int = 0    # 0: sized to the data, min(256, max(64, 4d))
    classifier_depth: int = 2
    classifier_lr: float = 1e-3
    classifier_weight_decay: float = 1e-3
    classifier_steps: int = 3     # classifier updates per flow step (on fresh pushed samples)
    classifier_warmup: int = 200  # classifier steps when a classifier is (re)fitted
    holdout: float = 0.2          # share of P and Q kept out of training for validation
    validate_every: int = 20      # refinement steps between validations (best weights kept)
    fit_tolerance: float = 0.05   # relative slack on the held-out fit when keeping best weights

    def __post_init__(self) -> None:
        positive = ["hidden", "depth", "blocks", "steps_per_block", "eval_steps", "warm_batch", "refine_batch",
                    "classifier_depth", "classifier_steps", "validate_every"]
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"FlowConfig.{name} must be ≥ 1, got {getattr(self, name)}")
        for name in ("warm_steps", "refine_steps", "time_features", "classifier_hidden", "classifier_warmup"):
            if getattr(self, name) < 0:
                raise ValueError(f"FlowConfig.{name} must be ≥ 0, got {getattr(self, name)}")
        for name in ("warm_lr", "refine_lr", "classifier_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"FlowConfig.{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.gamma_end <= self.gamma_start:
            raise ValueError("need 0 ≤ gamma_end ≤ gamma_start")
        if not 0 < self.holdout < 0.9:
            raise ValueError("holdout must be in (0, 0.9)")
        if not 0 <= self.ema < 1:
            raise ValueError("ema must be in [0, 1)")
        from .integrate import SOLVERS
        from .pairing import PAIRINGS

        if self.solver not in SOLVERS:
            raise ValueError(f"unknown solver {self.solver!r}; choose one of {', '.join(SOLVERS)}")
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
