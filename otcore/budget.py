"""The time budget: how a run of ``budget_s`` seconds is shared between the two stages.

The rule (stated once, used by the trainer, the CLI, the app and the bench):

* without a budget (``budget_s = 0``) each stage runs its step count;
* with a budget, each stage runs until its share of the seconds is spent, and its learning-rate
  schedule follows the share of its time used, not a step count. The refinement gets
  ``refine_share`` of the budget when it runs (d ≥ ``refine_min_dim`` and ``refine_steps > 0``),
  the warm start the rest (a stage that runs alone gets it all); step counts are then ignored,
  except that 0 turns a stage off; a stage that finishes early (patience) hands its time back to
  no one: training simply ends sooner. Validation runs inside each stage's time, so the whole pipeline
  keeps the budget.
"""
from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class StagePlan:
    """How long one stage runs: ``steps`` (step-counted) or ``seconds`` (time-budgeted)."""

    steps: int
    seconds: float = 0.0   # > 0: the stage ends when this many seconds are spent

    @property
    def timed(self) -> bool:
        return self.seconds > 0


def split_budget(budget_s: float, warm: bool, refine: bool, refine_share: float) -> tuple[float, float]:
    """(warm-start seconds, refinement seconds) of a budget, for the stages that run; (0, 0)
    when there is no budget. A stage that runs alone gets the whole budget."""
    if budget_s <= 0:
        return 0.0, 0.0
    if not warm:
        return 0.0, budget_s if refine else 0.0
    refine_s = budget_s * refine_share if refine else 0.0
    return budget_s - refine_s, refine_s


class StageClock:
    """Wall time spent in one stage, and the share of its plan done."""

    def __init__(self, plan: StagePlan):
        self.plan = plan
        self.steps = 0
        self.spent = 0.0                  # seconds of the closed intervals
        self._started: float | None = None

    def start(self) -> None:
        self._started = time.perf_counter()

    def stop(self) -> float:
        """End one timed interval; returns its seconds."""
        took = time.perf_counter() - self._started if self._started is not None else 0.0
        self._started = None
        self.spent += took
        return took

    @property
    def seconds(self) -> float:
        """Seconds spent in this stage, the running interval included."""
        running = time.perf_counter() - self._started if self._started is not None else 0.0
        return self.spent + running

    @property
    def fraction(self) -> float:
        """Share of the stage done, in [0, 1]: of its seconds when timed, else of its steps."""
        if self.plan.timed:
            return min(1.0, self.seconds / self.plan.seconds)
        return min(1.0, self.steps / max(1, self.plan.steps))

    @property
    def over(self) -> bool:
        return self.fraction >= 1.0

    @property
    def planned_steps(self) -> int:
        """Steps this stage will take: its count, or for a timed stage the count its pace so far predicts."""
        if not self.plan.timed:
            return self.plan.steps
        if self.steps == 0 or self.seconds <= 0:
            return max(1, self.steps)
        return max(self.steps, int(round(self.steps * self.plan.seconds / self.seconds)))
