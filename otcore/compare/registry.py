"""Every compared method by name: its label, its kind and its step iterator."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Iterator, Mapping

from .closed_form import closed_form
from .entropic import entropic_ot
from .exact import exact_ot
from .flows import FLOW_VARIANTS, train_flow
from .problem import Problem
from .result import MethodResult, MethodStep


@dataclass(frozen=True)
class Method:
    label: str
    kind: str                                      # 'flow' (learned, invertible) or 'map' (static)
    steps: Callable[[Problem, Mapping[str, MethodResult]], Iterator[MethodStep]]   # (problem, results so far)
    needs_gaussians: bool = False

    def available(self, problem: Problem) -> bool:
        return problem.gaussians is not None or not self.needs_gaussians


#: name -> method, in the order the app draws them
METHODS: dict[str, Method] = {
    **{name: Method(v.label, "flow", partial(train_flow, name=name)) for name, v in FLOW_VARIANTS.items()},
    "exact": Method("exact OT (POT)", "map", exact_ot),
    "entropic": Method("entropic OT (Sinkhorn)", "map", entropic_ot),
    "closed-form": Method("closed form (Gaussians)", "map", closed_form, needs_gaussians=True),
}


def run_method(name: str, problem: Problem, done: Mapping[str, MethodResult] | None = None) -> MethodResult:
    """Drive method ``name`` to its end and return its result (notebooks and tests). ``done``:
    results it may build on (the rectified flow starts from the independent-coupling flow's)."""
    result = None
    for step in METHODS[name].steps(problem, dict(done or {})):
        result = step.result or result
    return result
