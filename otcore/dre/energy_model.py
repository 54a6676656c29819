"""A saved energy-based density (docs/method.md §4): the Gaussian base and the bridge ratio, so that

    log q(x) = log p(x) + ∫₀¹ r(x, s) ds

can be evaluated, differentiated in x (for Langevin steps) and sampled after the training run is gone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..files import check_format, read_state, save_state, state_bytes
from ..gaussians import Gaussian
from .config import DensityRatioError
from .ratio import CHUNK, DensityRatio
from .time_score import panel_integrals

FORMAT = "otcore-energy-density"
FORMAT_VERSION = 1
#: meta of a model of the built-in 8×8 digits: samples are drawn as images (pixel levels 0..16 + U[0, 1))
DIGITS_META = {"image_side": 8, "pixel_max": 17.0, "data": "digits"}


@dataclass
class EnergyModel:
    base: Gaussian                 # p: the Gaussian fitted to the training data
    ratio: DensityRatio            # ∫₀¹ r ds ≈ log q − log p
    meta: dict[str, Any] = field(default_factory=dict)   # e.g. DIGITS_META

    def __post_init__(self) -> None:
        if self.base.dim != self.ratio.dim:
            raise DensityRatioError(f"the base has dimension {self.base.dim} but the ratio {self.ratio.dim}")

    @classmethod
    def of(cls, result, meta: dict[str, Any] | None = None) -> "EnergyModel":
        """The model of a fitted :class:`~otcore.dre.energy.EnergyDensity` (its base and bridge ratio)."""
        return cls(result.base, result.ratio, dict(meta or {}))

    @property
    def dim(self) -> int:
        return self.base.dim

    def log_ratio(self, x: torch.Tensor) -> torch.Tensor:
        """∫₀¹ r(x, s) ds, differentiable in x (unlike :meth:`DensityRatio.log_ratio`). x: (n, d) -> (n,)."""
        ratio = self.ratio
        z = ratio.standardizer.forward(x.to(ratio.device, torch.float32))
        knots = ratio.times.to(z.device)
        return torch.cat([panel_integrals(ratio.net, c, knots).sum(0) for c in z.split(CHUNK)]).to(x.device)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log q(x) = log p(x) + ∫₀¹ r(x, s) ds, differentiable in x. x: (n, d) -> (n,)."""
        x = torch.as_tensor(x, dtype=torch.float32)
        return self.base.log_prob(x) + self.log_ratio(x)

    def images(self, x: torch.Tensor) -> torch.Tensor:
        """Samples of an image model as (n, 1, S, S) pixels in [0, 1] (x / pixel_max, clipped)."""
        side, top = self.meta.get("image_side"), self.meta.get("pixel_max")
        if not isinstance(side, int) or side * side != self.dim or not isinstance(top, (int, float)) or top <= 0:
            raise DensityRatioError("this energy model is not a model of square images (no image_side in its meta)")
        return (torch.as_tensor(x, dtype=torch.float32) / float(top)).clamp(0, 1).reshape(-1, 1, side, side)

    # --- files ---------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": FORMAT_VERSION, "dim": self.dim,
                "base_mean": torch.as_tensor(self.base.mean, dtype=torch.float64),
                "base_cov": torch.as_tensor(self.base.cov, dtype=torch.float64),
                "ratio": self.ratio.state(), "meta": dict(self.meta)}

    @classmethod
    def from_state(cls, state: Any) -> "EnergyModel":
        check_format(state, FORMAT, FORMAT_VERSION, DensityRatioError, "an energy model")
        ratio = DensityRatio.from_state(state.get("ratio"))
        try:
            mean, cov = state["base_mean"], state["base_cov"]
            d = ratio.dim
            if not isinstance(mean, torch.Tensor) or tuple(mean.shape) != (d,) or not isinstance(cov, torch.Tensor) \
                    or tuple(cov.shape) != (d, d) or not (torch.isfinite(mean).all() and torch.isfinite(cov).all()):
                raise ValueError(f"the base must be a finite mean ({d},) and covariance ({d}, {d})")
            base = Gaussian(mean.double().numpy(), cov.double().numpy())
        except (KeyError, TypeError, ValueError) as err:
            raise DensityRatioError(f"the energy-model file is damaged or incomplete: {err}") from None
        return cls(base, ratio, state.get("meta") or {})

    def save(self, path: str | Path) -> Path:
        return save_state(self.state(), path)

    def to_bytes(self) -> bytes:
        return state_bytes(self.state())

    @classmethod
    def load(cls, source: str | Path | bytes, device: str | torch.device = "cpu") -> "EnergyModel":
        """Read a file written by :meth:`save` (path or bytes) without unpickling (``weights_only=True``)."""
        model = cls.from_state(read_state(source, DensityRatioError, "an energy model"))
        model.ratio.net.to(device)
        return model
