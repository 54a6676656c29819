"""A trained flow: the velocity field, its standardisation and config, in the user's units."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch

from .config import FlowConfig
from .field import VelocityField
from .files import (check_format, check_weights, network_state, read_dim, read_standardizer, read_state, save_state,
                    state_bytes)
from .integrate import odeint_at, path_kinetic_energy
from .scaling import Standardizer
from .seeding import init_layers

FORMAT = "otflow"
FORMAT_VERSION = 1


class FlowFileError(ValueError):
    """A file is not a flow saved by otcore, or was written by a newer version."""


class OTFlow:
    """The ODE dx/dt = v(x, t) carrying P (t = 0) to Q (t = 1), and back.

    All inputs and outputs are in the user's units; the field itself works in standardised units.
    """

    def __init__(self, field: VelocityField, config: FlowConfig, standardizer: Standardizer,
                 meta: dict[str, Any] | None = None):
        self.field = field
        self.config = config
        self.standardizer = standardizer
        self.meta = dict(meta or {})

    @classmethod
    def new(cls, dim: int, config: FlowConfig, standardizer: Standardizer | None = None) -> "OTFlow":
        field = init_layers(VelocityField(dim, config.hidden, config.depth, config.time_features), config.seed)
        return cls(field, config, standardizer or Standardizer.identity(dim))

    @property
    def dim(self) -> int:
        return self.field.dim

    @property
    def device(self) -> torch.device:
        return next(self.field.parameters()).device

    def to(self, device: str | torch.device) -> "OTFlow":
        self.field.to(device)
        return self

    def copy(self) -> "OTFlow":
        return OTFlow(copy.deepcopy(self.field), self.config, self.standardizer, self.meta)

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected points of shape (n, {self.dim}), got {tuple(x.shape)}")
        return x.to(self.device, torch.float32)

    @torch.no_grad()
    def trajectory(self, x: torch.Tensor, times: torch.Tensor | None = None, *, reverse: bool = False,
                   solver: str | None = None, steps: int | None = None) -> torch.Tensor:
        """Positions at each time. x: (n, d) are the particles at ``times[0]``; times: (m,)
        (default 41 points from 0 to 1, or 1 to 0 when ``reverse``). Returns (m, n, d)."""
        x = self._check(x)
        if times is None:
            times = torch.linspace(0.0, 1.0, 41)
            times = times.flip(0) if reverse else times
        times = torch.as_tensor(times, dtype=torch.float32)
        z = self.standardizer.forward(x)
        path = odeint_at(self.field, z, times, steps=steps or self.config.eval_steps,
                         solver=solver or self.config.solver)
        return self.standardizer.inverse(path)

    def transport(self, x: torch.Tensor, reverse: bool = False, **kwargs: Any) -> torch.Tensor:
        """T(x) (P → Q, t from 0 to 1), or T⁻¹(x) when ``reverse`` (Q → P). (n, d) -> (n, d)."""
        times = torch.tensor([1.0, 0.0]) if reverse else torch.tensor([0.0, 1.0])
        return self.trajectory(x, times, **kwargs)[-1]

    def flow_to(self, x: torch.Tensor, t_from: float, t_to: float, **kwargs: Any) -> torch.Tensor:
        """Move particles from time ``t_from`` to ``t_to`` (either order). (n, d) -> (n, d)."""
        return self.trajectory(x, torch.tensor([float(t_from), float(t_to)]), **kwargs)[-1]

    @torch.no_grad()
    def velocity(self, x: torch.Tensor, t: float) -> torch.Tensor:
        """dx/dt at points x: (n, d) and time t, in the user's units. -> (n, d)."""
        x = self._check(x)
        v = self.field(torch.tensor(float(t), device=self.device), self.standardizer.forward(x))
        return v * self.standardizer.scale

    def kinetic_energy(self, x: torch.Tensor, reverse: bool = False, steps: int | None = None) -> torch.Tensor:
        """Per-particle Σ‖x_k − x_{k−1}‖²/h_k along the fixed evaluation grid, user units. -> (n,)."""
        steps = steps or self.config.eval_steps
        times = torch.linspace(0.0, 1.0, steps + 1)
        times = times.flip(0) if reverse else times
        path = self.trajectory(x, times, solver="rk4" if self.config.solver == "dopri5" else None, steps=steps)
        return path_kinetic_energy(path, times)

    # --- files ---------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything needed to rebuild the flow, as plain tensors and Python values."""
        return network_state(FORMAT, FORMAT_VERSION, self.dim, self.config.to_dict(), self.standardizer, self.field,
                             self.meta)

    @classmethod
    def from_state(cls, state: Any) -> "OTFlow":
        check_format(state, FORMAT, FORMAT_VERSION, FlowFileError, "a flow")
        try:
            dim = read_dim(state)
            config = FlowConfig.from_dict(state["config"])
            standardizer = read_standardizer(state, dim)
            check_weights(lambda: VelocityField(dim, config.hidden, config.depth, config.time_features), state["weights"])
            flow = cls.new(dim, config, standardizer)
            flow.field.load_state_dict(state["weights"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, OverflowError) as err:
            raise FlowFileError(f"the flow file is damaged or incomplete: {err}") from None
        flow.meta = dict(state.get("meta") or {})
        return flow

    def save(self, path: str | Path) -> Path:
        return save_state(self.state(), path)

    def to_bytes(self) -> bytes:
        return state_bytes(self.state())

    @classmethod
    def load(cls, source: str | Path | bytes, device: str | torch.device = "cpu") -> "OTFlow":
        """Read a flow file (path or bytes) without unpickling anything (``weights_only=True``)."""
        return cls.from_state(read_state(source, FlowFileError, "a flow")).to(device)
