"""Exact discrete OT (POT's network simplex) between the problem's points X and Y: a matching."""
from __future__ import annotations

import time
from typing import Iterator, Mapping

import numpy as np
import ot
import torch

from .problem import Problem
from .result import MatchedPairs, MethodResult, MethodStep
from .static import static_result


def exact_pairs(x: torch.Tensor, y: torch.Tensor) -> MatchedPairs:
    """The exact OT plan between uniform x: (k, d) and y: (k, d) (a permutation σ, POT ot.emd),
    as pairs (x_i, y_σ(i)) in x's order, with its cost ⟨π, C⟩."""
    if len(x) != len(y):
        raise ValueError(f"a matching needs as many points on each side, got {len(x)} and {len(y)}")
    k = len(x)
    cost = ot.dist(x.double().numpy(), y.double().numpy())
    plan = ot.emd(np.full(k, 1.0 / k), np.full(k, 1.0 / k), cost, numItermax=10_000_000)
    sigma = torch.as_tensor(plan.argmax(1))
    return MatchedPairs(x, y[sigma], float((plan * cost).sum()))


def exact_ot(problem: Problem, done: Mapping[str, MethodResult] | None = None) -> Iterator[MethodStep]:
    """One solve on the problem's points (``done``, other methods' results, is not needed)."""
    began = time.perf_counter()
    yield MethodStep("exact", 0.0, 0.0, "solve")
    pairs = exact_pairs(problem.X, problem.Y)
    note = f"exact plan of {len(pairs.source)} points of P and of Q; segments join matched pairs"
    result = static_result(problem, "exact", "exact OT (POT)", pairs.target, began, pairs=pairs, note=note)
    yield MethodStep("exact", 1.0, result.seconds, "done", result)
