"""The closed-form OT map between two Gaussians (:mod:`otcore.gaussians`), for Gaussian pairs."""
from __future__ import annotations

import time
from typing import Iterator, Mapping

from ..gaussians import ot_map, w2_squared
from .problem import Problem
from .result import MethodResult, MethodStep
from .static import static_result


def closed_form(problem: Problem, done: Mapping[str, MethodResult] | None = None) -> Iterator[MethodStep]:
    """One solve on the problem's points (``done``, other methods' results, is not needed)."""
    if problem.gaussians is None:
        raise ValueError("the closed form needs Gaussians: pass gaussians=(p, q) or fit_gaussians=True to make_problem")
    began = time.perf_counter()
    p, q = problem.gaussians
    yield MethodStep("closed-form", 0.0, 0.0, "solve")
    mapped = ot_map(p, q, problem.X)
    kind = "fitted to the samples" if problem.gaussians_fitted else "of the pair"
    note = f"T(x) = m₁ + A(x − m₀) between the Gaussians {kind}; W₂² = {w2_squared(p, q):.4g}"
    label = "closed form (fitted Gaussians)" if problem.gaussians_fitted else "closed form (Gaussians)"
    result = static_result(problem, "closed-form", label, mapped, began, note=note)
    yield MethodStep("closed-form", 1.0, result.seconds, "done", result)
