"""Bridge samples between P and Q from a trained flow (docs/method.md §4).

Slices sit on the uniform grid s_m = m/M. Slices 0..M−1 are P pushed by the flow to time s_m
(slice 0 is P itself); slice M is the true Q, so the last interval absorbs whatever mismatch
remains between T#P and Q. Any chain of distributions from P to Q makes the telescoping sum
exact; the flow's makes neighbouring slices close, which is what the classifier needs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import torch

from ..flow import OTFlow
from .config import DensityRatioError
from .gaussian_bridge import GaussianBridge

#: what a bridge can run along: a trained flow, or the closed-form path between two Gaussian fits
BridgePath = Union[OTFlow, GaussianBridge]


def check_path(flow) -> BridgePath:
    """The bridge's path, or :class:`DensityRatioError` naming what was given instead."""
    if not isinstance(flow, (OTFlow, GaussianBridge)):
        raise DensityRatioError(f"expected a trained OTFlow (or a GaussianBridge) as the bridge, got {type(flow).__name__}")
    return flow


@dataclass
class Bridge:
    times: torch.Tensor          # (M + 1,) 0 = s_0 < … < s_M = 1
    pushed: torch.Tensor         # (M, n, d): P at s_0 … s_{M−1}
    target: torch.Tensor         # (m, d): Q, the slice at s_M = 1

    @property
    def slices(self) -> int:
        """M, the number of intervals."""
        return len(self.times) - 1

    def slice(self, m: int) -> torch.Tensor:
        """Samples of p_m, (n_m, d)."""
        return self.target if m == len(self.times) - 1 else self.pushed[m]

    def to(self, device: torch.device | str) -> "Bridge":
        return Bridge(self.times.to(device), self.pushed.to(device), self.target.to(device))


def check_samples(name: str, x, dim: int | None = None, minimum: int = 10) -> torch.Tensor:
    """(n, d) finite float32 tensor, or :class:`DensityRatioError` with a message a person can act on."""
    try:
        x = torch.as_tensor(x, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError) as err:
        raise DensityRatioError(f"{name} must be an (n, d) array of numbers ({err})") from None
    if x.ndim != 2:
        raise DensityRatioError(f"{name} must be an (n, d) array of samples, got shape {tuple(x.shape)}")
    if dim is not None and x.shape[1] != dim:
        raise DensityRatioError(f"{name} has dimension {x.shape[1]} but the flow has dimension {dim}")
    if len(x) < minimum:
        raise DensityRatioError(f"{name} has {len(x)} samples; at least {minimum} are needed")
    if not torch.isfinite(x).all():
        raise DensityRatioError(f"{name} contains NaN or infinite values")
    return x


def push_slices(flow: BridgePath, P: torch.Tensor, slices: int, push_steps: int = 2) -> torch.Tensor:
    """P: (n, d) at the times m/M, m = 0..M−1, along the flow: (M, n, d) on the CPU (slice 0 is P).
    ``push_steps`` RK4 steps per interval."""
    times = torch.linspace(0.0, 1.0, slices + 1)[:-1]
    if slices == 1:
        return P[None].clone()
    pushed = flow.trajectory(P, times, solver="rk4", steps=push_steps * slices).cpu()
    pushed[0] = P
    return pushed


def bridge_samples(flow: BridgePath, P: torch.Tensor, Q: torch.Tensor, slices: int = 10, push_steps: int = 2) -> Bridge:
    """Push P: (n, d) along the flow to the times m/M, m < M, and put Q: (m, d) last.
    ``push_steps`` RK4 steps per interval. Returns a :class:`Bridge` on the CPU, in the user's units."""
    check_path(flow)
    P = check_samples("P", P, flow.dim, minimum=2)
    Q = check_samples("Q", Q, flow.dim, minimum=2)
    if slices < 1:
        raise DensityRatioError(f"the bridge needs at least one interval, got {slices}")
    return Bridge(torch.linspace(0.0, 1.0, slices + 1), push_slices(flow, P, slices, push_steps), Q.clone())
