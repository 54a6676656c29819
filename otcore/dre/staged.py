"""A run that builds its own bridge and estimates on it, one step at a time: the bridge flow (unless
the bridge is given in closed form), then the time score, then (optionally) a one-step baseline.
Mutual information and the energy density are such runs; a caller can chart, stop and resume them
like the flow's Trainer."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ..config import FlowConfig
from ..trainer import Trainer
from .bridge import BridgePath
from .config import DensityRatioError
from .trainer import DensityRatioTrainer, RatioStepMetrics


@dataclass
class StageStep:
    """One training step of a staged run (for live charts)."""
    stage: str            # 'flow' (the bridge), 'ratio' (the time score) or 'one-step' (the baseline)
    step: int             # steps done in this stage
    stage_steps: int      # steps this stage will take
    loss: float           # the stage's training loss at this step
    elapsed: float        # seconds since the run started
    estimate: float | None = None   # the run's quantity as it stands, when the step measured it


class StagedRun:
    """Subclasses set up ``flow_trainer`` (a Trainer between the bridge's two ends), or pass a ready
    ``bridge`` instead (then there is no flow stage), and implement :meth:`_ratio_trainer` (the time
    score's trainer on the finished bridge) and :meth:`_one_step` (fit the baseline, return its
    StageStep); :meth:`_ratio_estimate` may report progress."""

    def __init__(self, flow_trainer: Trainer | None, flow_config: FlowConfig, one_step: bool,
                 bridge: BridgePath | None = None):
        if (flow_trainer is None) == (bridge is None):
            raise ValueError("give either a flow trainer or a ready bridge")
        self._start = time.perf_counter()
        self.flow_trainer, self.flow_config, self.one_step = flow_trainer, flow_config, one_step
        self.flow: BridgePath | None = bridge
        self.ratio_trainer: DensityRatioTrainer | None = None
        self.stage = "flow" if bridge is None else "ratio"
        self.times = {"flow": 0.0, "ratio": 0.0, "one-step": 0.0}

    # --- hooks -----------------------------------------------------------------------------
    def _ratio_trainer(self, flow: BridgePath) -> DensityRatioTrainer:
        raise NotImplementedError

    def _one_step(self) -> StageStep:
        raise NotImplementedError

    def _ratio_estimate(self, metrics: RatioStepMetrics) -> float | None:
        return None

    # --- driving ---------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.stage == "done"

    def elapsed(self) -> float:
        return time.perf_counter() - self._start

    def run(self, n_steps: int | None = None) -> Iterator[StageStep]:
        """Advance up to ``n_steps`` steps (all if None), yielding one :class:`StageStep` per step."""
        done = 0
        while not self.done and (n_steps is None or done < n_steps):
            yield self.step()
            done += 1

    def step(self) -> StageStep:
        began = time.perf_counter()
        stage = self.stage
        if stage == "flow":
            m = self.flow_trainer.step()
            out = StageStep("flow", m.global_step, self.flow_config.warm_steps + self.flow_config.refine_steps,
                            float(next(iter(m.losses.values()))), 0.0)
            if self.flow_trainer.stage == "diverged":
                raise DensityRatioError(f"the bridge flow diverged: {self.flow_trainer.stop_reason}")
            if self.flow_trainer.done:
                self.flow = self.flow_trainer.flow
                self.flow_trainer.close()
                self.ratio_trainer = self._ratio_trainer(self.flow)
                self.stage = "ratio"
        elif stage == "ratio":
            if self.ratio_trainer is None:   # a ready bridge: the first step builds the trainer
                self.ratio_trainer = self._ratio_trainer(self.flow)
            m = self.ratio_trainer.step()
            if self.ratio_trainer.stop_reason is not None:
                raise DensityRatioError(self.ratio_trainer.stop_reason)
            out = StageStep("ratio", m.step, m.steps, m.loss, 0.0, self._ratio_estimate(m))
            if self.ratio_trainer.done:
                self.stage = "one-step" if self.one_step else "done"
        elif stage == "one-step":
            out = self._one_step()
            self.stage = "done"
        else:
            raise RuntimeError("the run has finished")
        self.times[stage] += time.perf_counter() - began
        out.elapsed = self.elapsed()
        return out

    def finish(self, callback: Callable[[StageStep], None] | None = None) -> Any:
        """Run every remaining step (``callback`` sees each), close, and return :meth:`result`."""
        try:
            for m in self.run():
                if callback is not None:
                    callback(m)
        finally:
            self.close()
        return self.result()

    def steps_then_result(self, context: dict) -> Iterator[StageStep]:
        """For background jobs: yield every remaining step, close, then put the result in
        ``context['result']``."""
        context["run"] = self
        try:
            yield from self.run()
        finally:
            self.close()
        context["result"] = self.result()

    def result(self) -> Any:
        raise NotImplementedError

    def _check_done(self) -> None:
        if not self.done:
            raise RuntimeError(f"the run is still at stage {self.stage!r}; drain run() first")

    def close(self) -> None:
        if self.flow_trainer is not None:
            self.flow_trainer.close()
