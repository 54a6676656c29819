"""A trained density ratio: log p_{t1}(x) − log p_{t0}(x) for any x and times along the bridge."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..files import (check_format, check_weights, network_state, read_dim, read_standardizer, read_state,
                     save_state, state_bytes)
from ..scaling import Standardizer
from .config import DensityRatioConfig, DensityRatioError
from .network import RatioNet
from .time_score import interval_knots, panel_integrals

FORMAT = "otcore-density-ratio"
FORMAT_VERSION = 1
CHUNK = 4096   # points per network call when evaluating


def build_network(dim: int, config: DensityRatioConfig, timed: bool = True) -> RatioNet:
    return RatioNet(dim, config.width(dim), config.depth, config.quadratic_units(dim),
                    config.time_features if timed else 0, seed=config.seed)


class DensityRatio:
    """r(x, s) ≈ ∂_s log p_s(x) on the bridge p_0 = P … p_1 = Q, in the user's units.

    ``log_ratio(x)`` is log q(x) − log p(x); ``log_ratio(x, 0, t)`` is log p_t(x) − log p_0(x).
    The network works in standardised units; an affine change of units leaves log-ratios unchanged.
    """

    def __init__(self, net: RatioNet, config: DensityRatioConfig, standardizer: Standardizer,
                 meta: dict[str, Any] | None = None):
        self.net = net.eval()
        self.config = config
        self.standardizer = standardizer
        self.meta = dict(meta or {})

    @property
    def dim(self) -> int:
        return self.net.dim

    @property
    def times(self) -> torch.Tensor:
        """The training grid s_0 = 0 < … < s_M = 1, (M + 1,)."""
        return torch.linspace(0.0, 1.0, self.config.slices + 1)

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise DensityRatioError(f"expected points of shape (n, {self.dim}), got {tuple(x.shape)}")
        return self.standardizer.forward(x.to(self.device, torch.float32))

    @staticmethod
    def _check_time(t: float, name: str) -> float:
        t = float(t)
        if not -1e-6 <= t <= 1 + 1e-6:
            raise DensityRatioError(f"{name} must lie in [0, 1] (the bridge's time), got {t}")
        return min(max(t, 0.0), 1.0)

    @torch.no_grad()
    def time_score(self, x: torch.Tensor, t: float) -> torch.Tensor:
        """r(x, t) ≈ ∂_t log p_t(x). x: (n, d) -> (n,)."""
        z = self._check(x)
        t = self._check_time(t, "t")
        return torch.cat([self.net(torch.tensor(t, device=z.device), c) for c in z.split(CHUNK)]).cpu()

    @torch.no_grad()
    def log_ratio(self, x: torch.Tensor, t0: float = 0.0, t1: float = 1.0) -> torch.Tensor:
        """log p_{t1}(x) − log p_{t0}(x) = ∫_{t0}^{t1} r(x, s) ds (default log q − log p). x: (n, d) -> (n,)."""
        z = self._check(x)
        knots = interval_knots(self.times, self._check_time(t0, "t0"), self._check_time(t1, "t1"))
        if len(knots) < 2 or knots[0] == knots[-1]:
            return torch.zeros(len(z))
        return torch.cat([panel_integrals(self.net, c, knots).sum(0) for c in z.split(CHUNK)]).cpu()

    @torch.no_grad()
    def log_ratio_path(self, x: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """log p_t(x) − log p_0(x) at each of ``times`` (m,) in [0, 1], the same numbers as
        :meth:`log_ratio` (x, 0, t) but sharing the grid panels. x: (n, d) -> (m, n)."""
        z = self._check(x)
        times = [self._check_time(t, "times") for t in torch.as_tensor(times, dtype=torch.float32).reshape(-1).tolist()]
        grid = self.times
        cum = torch.cat([panel_integrals(self.net, c, grid).cumsum(0) for c in z.split(CHUNK)], dim=1)
        cum = torch.cat([torch.zeros(1, cum.shape[1], device=cum.device), cum])     # (M + 1, n) at the grid nodes
        out = []
        for t in times:
            k = int(torch.searchsorted(grid, torch.tensor(t), right=True)) - 1
            k = min(max(k, 0), len(grid) - 1)
            knots = interval_knots(grid, float(grid[k]), t)
            if len(knots) < 2 or t - float(grid[k]) <= 1e-9:
                out.append(cum[k])
            else:
                part = torch.cat([panel_integrals(self.net, c, knots).sum(0) for c in z.split(CHUNK)])
                out.append(cum[k] + part)
        return torch.stack(out).cpu()

    # --- files ---------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return network_state(FORMAT, FORMAT_VERSION, self.dim, self.config.to_dict(), self.standardizer, self.net,
                             self.meta)

    @classmethod
    def from_state(cls, state: Any) -> "DensityRatio":
        check_format(state, FORMAT, FORMAT_VERSION, DensityRatioError, "a density ratio")
        try:
            dim = read_dim(state)
            config = DensityRatioConfig.from_dict(state["config"])
            standardizer = read_standardizer(state, dim)
            check_weights(lambda: build_network(dim, config), state["weights"])
            net = build_network(dim, config)
            net.load_state_dict(state["weights"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, OverflowError) as err:
            raise DensityRatioError(f"the density-ratio file is damaged or incomplete: {err}") from None
        return cls(net, config, standardizer, state.get("meta") or {})

    def save(self, path: str | Path) -> Path:
        return save_state(self.state(), path)

    def to_bytes(self) -> bytes:
        return state_bytes(self.state())

    @classmethod
    def load(cls, source: str | Path | bytes, device: str | torch.device = "cpu") -> "DensityRatio":
        """Read a file written by :meth:`save` (path or bytes) without unpickling (``weights_only=True``)."""
        ratio = cls.from_state(read_state(source, DensityRatioError, "a density ratio"))
        ratio.net.to(device)
        return ratio
