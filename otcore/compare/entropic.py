"""Entropic OT (log-domain Sinkhorn, :mod:`otcore.coupling`) and its barycentric map."""
from __future__ import annotations

import time
from typing import Iterator, Mapping

import torch

from ..coupling import sinkhorn_log_plan, squared_distances
from .problem import Problem
from .result import MethodResult, MethodStep
from .static import static_result


def barycentric_map(x: torch.Tensor, y: torch.Tensor, eps: float, iters: int = 100) -> torch.Tensor:
    """T_ε(x_i) = Σ_j π_ij y_j / Σ_j π_ij for the entropic plan π between uniform x: (k, d) and
    y: (l, d) with blur ``eps`` relative to the mean squared distance (float64). -> (k, d).
    As ε → 0 it tends to the exact OT matching; as ε grows every point goes to the mean of y."""
    x64, y64 = x.double(), y.double()
    log_plan = sinkhorn_log_plan(squared_distances(x64, y64), eps, iters=iters)
    return (torch.softmax(log_plan, dim=1) @ y64).to(x.dtype)


def entropic_ot(problem: Problem, done: Mapping[str, MethodResult] | None = None) -> Iterator[MethodStep]:
    """One solve on the problem's points (``done``, other methods' results, is not needed)."""
    began = time.perf_counter()
    eps = problem.config.eps
    yield MethodStep("entropic", 0.0, 0.0, "solve")
    mapped = barycentric_map(problem.X, problem.Y, eps, problem.config.sinkhorn_iters)
    note = f"Sinkhorn, ε = {eps:g} × mean pair cost; the barycentric map averages each point's partners"
    result = static_result(problem, "entropic", f"entropic OT (ε = {eps:g})", mapped, began, note=note)
    yield MethodStep("entropic", 1.0, result.seconds, "done", result)
