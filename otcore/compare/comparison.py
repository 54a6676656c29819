"""Several methods on one problem, one after another, as one step-wise run the app can drive in a
background job (stop at any step; calling :meth:`Comparison.run` again continues)."""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Iterator

from .problem import Problem
from .registry import METHODS, run_method
from .result import MethodResult, MethodStep

#: CompareConfig fields :meth:`Comparison.redo` may change (they leave the shared subsamples alone)
REDO_FIELDS = ("eps", "sinkhorn_iters")


class Comparison:
    """>>> comparison = Comparison(make_problem(P, Q))       # every method the problem allows
    >>> for step in comparison.run(): ...                  # one MethodStep per step of each method
    >>> comparison.results["exact"].paths                  # (frames, particles, d)
    >>> comparison.redo("entropic", eps=0.01)              # a finished static map, at another ε

    Methods run in the order given (the registry's by default), each receiving the results before it:
    list 'independent' before 'rectified' and the reflow starts from that flow.
    """

    def __init__(self, problem: Problem, methods: Iterable[str] | None = None):
        names = list(METHODS) if methods is None else list(methods)
        unknown = [n for n in names if n not in METHODS]
        if unknown:
            raise ValueError(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
        self.problem = problem
        self.methods = [n for n in names if METHODS[n].available(problem)]
        self.results: dict[str, MethodResult] = {}   # name -> result, filled as methods finish
        self.current: MethodStep | None = None
        self._steps: Iterator[MethodStep] | None = None

    @property
    def done(self) -> bool:
        return len(self.results) == len(self.methods)

    @property
    def progress(self) -> float:
        """Share of the methods done, 0 … 1 (the running one counted by its own fraction)."""
        running = self.current.fraction if self.current is not None and self.current.result is None else 0.0
        return (len(self.results) + running) / max(1, len(self.methods))

    def run(self, n_steps: int | None = None) -> Iterator[MethodStep]:
        """Advance up to ``n_steps`` steps (all remaining if None), yielding each."""
        if self._steps is None:
            self._steps = self._all()
        done = 0
        while n_steps is None or done < n_steps:
            step = next(self._steps, None)
            if step is None:
                return
            done += 1
            yield step

    def redo(self, name: str, **changes) -> MethodResult:
        """Run method ``name`` again with some settings changed (``eps``, ``sinkhorn_iters``) on the
        same points, and replace its result: the app's ε slider, once the run has finished."""
        bad = sorted(set(changes) - set(REDO_FIELDS))
        if bad:
            raise ValueError(f"redo changes only {', '.join(REDO_FIELDS)}; got {', '.join(bad)}")
        if name not in self.results:
            raise ValueError(f"{name!r} has no result to redo yet")
        self.problem = replace(self.problem, config=replace(self.problem.config, **changes))
        self.results[name] = run_method(name, self.problem, self.results)
        return self.results[name]

    def close(self) -> None:
        """End the running method now (a flow method closes its trainer); finished results stay."""
        if self._steps is not None:
            self._steps.close()

    def _all(self) -> Iterator[MethodStep]:
        for name in self.methods:
            for step in METHODS[name].steps(self.problem, dict(self.results)):
                self.current = step
                if step.result is not None:
                    self.results[name] = step.result
                yield step
