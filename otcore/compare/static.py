"""Static maps x ↦ T(x) shown as straight lines at constant speed (McCann's interpolation), and
their readouts: their paths are straight by construction and they draw no inverse."""
from __future__ import annotations

import time

import torch

from ..metrics import energy_distance
from .problem import Problem
from .result import NAN, MatchedPairs, MethodResult


def straight_paths(x: torch.Tensor, y: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
    """x_t = (1 − t) x + t y. x, y: (n, d), times: (m,) -> (m, n, d)."""
    t = times.to(x).reshape(-1, 1, 1)
    return (1 - t) * x[None] + t * y[None]


def map_cost(x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean ‖y − x‖²: the kinetic energy of straight constant-speed paths. x, y: (n, d)."""
    return float(((y.double() - x.double()) ** 2).sum(1).mean())


def static_result(problem: Problem, method: str, label: str, mapped: torch.Tensor, began: float, *,
                  pairs: MatchedPairs | None = None, note: str = "") -> MethodResult:
    """The result of a static map given T(X) = ``mapped``: (k, d), timed from ``began``
    (``time.perf_counter()`` when the method started)."""
    X = problem.X
    return MethodResult(
        method=method, label=label, times=problem.times,
        paths=straight_paths(problem.drawn, mapped[:problem.particles].to(X), problem.times),
        cost=map_cost(X, mapped), exact_cost=problem.exact_cost, fit=energy_distance(mapped, problem.Q_fit),
        straightness=1.0, inversion_error=NAN, seconds=time.perf_counter() - began, pairs=pairs, note=note)
