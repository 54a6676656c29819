"""The one frozen configuration of the infinitesimal density-ratio estimator (docs/method.md §4)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..config import FlowConfig
from ..typecheck import check_field_types


class DensityRatioError(ValueError):
    """Bad input to the density-ratio estimator, or a file that is not a saved density ratio."""


@dataclass(frozen=True)
class DensityRatioConfig:
    # --- bridge: slices s_m = m/M, m = 0..M; slices 0..M-1 are P pushed by the flow, slice M is Q ---
    slices: int = field(default=10, metadata={"help": "intervals M of the bridge (telescoping steps)"})
    push_steps: int = field(default=2, metadata={"help": "RK4 steps of the flow per interval when pushing P along the bridge"})
    # --- time-score network r(x, s): MLP on [x, time features] plus a quadratic head ------------
    hidden: int = field(default=0, metadata={"help": "MLP width; 0: sized to the data, min(256, max(64, 2d))"})
    depth: int = field(default=2, metadata={"help": "MLP hidden layers"})
    quadratic: int = field(default=-1, metadata={"help": "units of the quadratic head Σ_k c_k(s)(u_k·x)²; -1: d (≤ 512); 0: none"})
    time_features: int = field(default=4, metadata={"help": "sinusoid pairs of s fed to the network"})
    # --- training: telescoping logistic loss, Simpson's 3/8 rule on every interval -------------
    steps: int = field(default=800, metadata={"help": "training steps of the time score"})
    batch: int = field(default=256, metadata={"help": "samples per slice per step"})
    lr: float = field(default=2e-3, metadata={"help": "AdamW learning rate, cosine-decayed to 5% over the steps"})
    weight_decay: float = field(default=1e-4, metadata={"help": "AdamW weight decay"})
    ema: float = field(default=0.0, metadata={"help": "exponential average of the weights, validated and kept (0: the trained weights themselves)"})
    holdout: float = field(default=0.2, metadata={"help": "share of P and Q kept out to validate (best weights kept)"})
    validate_every: int = field(default=50, metadata={"help": "training steps between validations"})
    seed: int = field(default=0, metadata={"help": "seed of the network, the batches and the split"})

    def __post_init__(self) -> None:
        check_field_types(self, DensityRatioError, caps={"hidden": 65_536, "depth": 256, "time_features": 4096,
                                                          "slices": 10_000, "push_steps": 10_000, "quadratic": 65_536})
        for name in ("slices", "push_steps", "depth", "time_features", "steps", "batch", "validate_every"):
            if getattr(self, name) < 1:
                raise DensityRatioError(f"DensityRatioConfig.{name} must be ≥ 1, got {getattr(self, name)}")
        if self.hidden < 0:
            raise DensityRatioError(f"DensityRatioConfig.hidden must be ≥ 0, got {self.hidden}")
        if self.quadratic < -1:
            raise DensityRatioError(f"DensityRatioConfig.quadratic must be ≥ -1, got {self.quadratic}")
        if not self.lr > 0 or self.weight_decay < 0:
            raise DensityRatioError("need lr > 0 and weight_decay ≥ 0")
        if not 0 <= self.ema < 1:
            raise DensityRatioError(f"DensityRatioConfig.ema must be in [0, 1), got {self.ema}")
        if not 0 < self.holdout < 0.9:
            raise DensityRatioError(f"holdout must be in (0, 0.9), got {self.holdout}")

    def width(self, dim: int) -> int:
        """MLP width for data of dimension ``dim``."""
        return self.hidden if self.hidden > 0 else min(256, max(64, 2 * dim))

    def quadratic_units(self, dim: int) -> int:
        """Units of the quadratic head for data of dimension ``dim``."""
        return min(512, dim) if self.quadratic < 0 else self.quadratic

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "DensityRatioConfig":
        """Build from a dict, ignoring unknown keys (older/newer files)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def replace(self, **changes: Any) -> "DensityRatioConfig":
        return replace(self, **changes)


#: the flow trained when the estimator builds its own bridge (mutual information, energy density):
#: the minibatch-OT warm start alone; the last slice is the true Q, so the bridge need not be exact.
#: The MI estimate does depend on this length, and not monotonically (bench/results/dre.md, "what
#: limits it"): d = 20, seed 0: 1,000 steps −3.9 %, 3,000 −6.6 %; d = 80, seed 1: 3,000 −5.1 %, 6,000 −7.4 %.
BRIDGE_FLOW = FlowConfig(warm_steps=3000, refine_steps=0)
