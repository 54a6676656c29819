"""The learned flows of a comparison: the project's pipeline, its warm start alone, independent-
coupling flow matching and a rectified flow, each one :class:`otcore.Trainer` on its own
:class:`otcore.FlowConfig` (derived from the problem's), then measured on the problem's points.

The rectified flow is one reflow of the independent-coupling flow: when that flow's result is at
hand (it runs first in a :class:`~otcore.compare.Comparison`), the reflow starts from its weights,
so the two panels show the same map with curved and with straightened paths; alone, it trains its
own independent-coupling flow first, on half of its budget. The pipeline likewise starts its second
stage from the warm start's weights when the warm start ran before it (the lessons' order), so the
two show the same warm start with and without the refinement, and the warm start is not trained
twice. A seeded method's seconds include its teacher's.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping

import torch

from ..config import FlowConfig
from ..flow import OTFlow
from ..integrate import path_kinetic_energy
from ..metrics import energy_distance, inversion_error, straightness
from ..trainer import DIVERGED, Trainer
from .problem import Problem
from .result import MethodResult, MethodStep

#: the rectified flow keeps a reflowed field whose held-out fit is within this share of its teacher's
#: (the engine's keep-best default, 1 %, measured to keep the unstraightened teacher on 2-D toys)
RECTIFIED_FIT_TOLERANCE = 0.25


@dataclass(frozen=True)
class FlowVariant:
    label: str
    configure: Callable[[FlowConfig], FlowConfig]   # the problem's flow config -> this method's
    teacher: str | None = None                      # a flow method whose trained flow this one starts from


def _rectified(c: FlowConfig) -> FlowConfig:
    """Independent-coupling flow matching, then one reflow on its own pairs (Liu et al. 2022), in any
    dimension, the budget shared half and half. A rectified flow trades a little fit for straight
    paths, so keep-best admits a looser fit (the table shows it)."""
    return c.replace(pairing="independent", refine_method="reflow", refine_min_dim=0,
                     refine_steps=max(1, c.refine_steps), refine_share=0.5,
                     fit_tolerance=max(c.fit_tolerance, RECTIFIED_FIT_TOLERANCE),
                     refine_fit_tolerance=max(c.refine_fit_tolerance, RECTIFIED_FIT_TOLERANCE))


#: name -> the flow method (its config from the problem's flow config)
FLOW_VARIANTS: dict[str, FlowVariant] = {
    "pipeline": FlowVariant("full pipeline", lambda c: c, teacher="warm-start"),
    "warm-start": FlowVariant("warm start (minibatch OT-CFM)", lambda c: c.replace(refine_steps=0)),
    "independent": FlowVariant("independent flow matching", lambda c: c.replace(pairing="independent", refine_steps=0)),
    "rectified": FlowVariant("rectified flow (one reflow)", _rectified, teacher="independent"),
}


def variant_config(name: str, problem: Problem, *, from_teacher: bool = False) -> FlowConfig:
    """The FlowConfig method ``name`` trains with: its variant of the problem's flow config, with
    the comparison's time budget when it sets one. ``from_teacher``: the stage before the last is
    already trained (the teacher's flow), so only the last stage runs, on the whole budget (the
    reflow first integrates the teacher over every training point: measured 3.4 s of one core for
    2 × 3,200 points in 2-D, too much of a half budget)."""
    config = FLOW_VARIANTS[name].configure(problem.flow_config)
    if from_teacher:
        config = config.replace(warm_steps=0)
    seconds = problem.config.flow_seconds
    return config.replace(budget_s=float(seconds)) if seconds > 0 else config


def _fraction(trainer: Trainer) -> float:
    if trainer.done:
        return 1.0
    if trainer.config.budget_s > 0:
        return min(1.0, trainer.elapsed / trainer.config.budget_s)
    done, planned = (sum(v) for v in zip(*trainer.progress().values()))
    return min(1.0, done / planned) if planned else 1.0


@torch.no_grad()
def measure_flow(problem: Problem, flow: OTFlow, name: str, began: float, note: str = "") -> MethodResult:
    """Readouts of a trained flow on the problem's points, timed from ``began`` (perf_counter)."""
    steps = flow.config.eval_steps
    grid = torch.linspace(0.0, 1.0, steps + 1)
    path = flow.trajectory(problem.X, grid, solver="rk4", steps=steps)
    back = flow.transport(path[-1], reverse=True, solver="rk4", steps=steps)
    drawn = flow.trajectory(problem.drawn, problem.times, solver="rk4", steps=steps)
    return MethodResult(
        method=name, label=FLOW_VARIANTS[name].label, times=problem.times, paths=drawn,
        cost=float(path_kinetic_energy(path, grid).double().mean()), exact_cost=problem.exact_cost,
        fit=energy_distance(path[-1], problem.Q_fit), straightness=straightness(path),
        inversion_error=inversion_error(problem.X, back), seconds=time.perf_counter() - began, kind="flow",
        flow=flow, note=note)


def _teacher(trainer: Trainer, result: MethodResult | None) -> OTFlow | None:
    """The teacher's flow if it can seed ``trainer`` (same network and standardisation), else None."""
    flow = None if result is None else result.flow
    if flow is None:
        return None
    same = (trainer.standardizer.scale == flow.standardizer.scale
            and torch.equal(trainer.standardizer.mean.cpu(), flow.standardizer.mean.cpu())
            and {k: v.shape for k, v in trainer.field.state_dict().items()}
            == {k: v.shape for k, v in flow.field.state_dict().items()})
    return flow if same else None


def train_flow(problem: Problem, done: Mapping[str, MethodResult] | None = None, *, name: str) -> Iterator[MethodStep]:
    """Train flow method ``name`` step by step (one item per training step), then measure it.
    ``done``: results already computed; a variant with a ``teacher`` starts from that one's flow."""
    began = time.perf_counter()
    variant = FLOW_VARIANTS[name]
    result = (done or {}).get(variant.teacher) if variant.teacher else None
    trainer = Trainer(problem.P, problem.Q, variant_config(name, problem, from_teacher=result is not None))
    teacher = _teacher(trainer, result) if result is not None else None
    if result is not None and teacher is None:   # cannot seed from it: train the whole variant
        trainer.close()
        trainer = Trainer(problem.P, problem.Q, variant_config(name, problem))
    if teacher is not None:
        trainer.field.load_state_dict(teacher.field.state_dict())   # before the first step builds the stage
    try:
        for metrics in trainer.run():
            yield MethodStep(name, _fraction(trainer), time.perf_counter() - began, metrics.stage)
    finally:
        trainer.close()
    yield MethodStep(name, 1.0, time.perf_counter() - began, "measure")
    note = trainer.stop_reason if trainer.stage == DIVERGED else (trainer.note or "")
    if teacher is not None:
        note = (note + " " if note else "") + f"started from the {FLOW_VARIANTS[variant.teacher].label} beside it"
        began -= result.seconds        # the seconds include the teacher's
    result = measure_flow(problem, trainer.flow, name, began, note)
    yield MethodStep(name, 1.0, result.seconds, "done", result)
