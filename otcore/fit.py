"""One call to train a flow: both stages, to the end (or to the end of a time budget)."""
from __future__ import annotations

from typing import Callable

import torch

from .config import FlowConfig
from .flow import OTFlow
from .trainer import DIVERGED, StepMetrics, Trainer, TrainingDiverged


def fit_flow(P: torch.Tensor, Q: torch.Tensor, config: FlowConfig = FlowConfig(), device: str = "auto",
             callback: Callable[[StepMetrics], None] | None = None, seconds: float | None = None) -> OTFlow:
    """Train a flow from P (t = 0) to Q (t = 1) with both stages and return it (on the CPU).

    P: (n, d), Q: (m, d). ``seconds`` (or ``config.budget_s``) bounds the whole training's wall
    time, shared between the stages by ``config.refine_share``. ``callback`` receives every step's
    metrics. Raises :class:`TrainingDiverged` (whose ``.flow`` holds the last good weights) if
    training blows up.
    """
    if seconds is not None:
        config = config.replace(budget_s=float(seconds))
    trainer = Trainer(P, Q, config, device)
    for metrics in trainer.run():
        if callback is not None:
            callback(metrics)
    flow = trainer.flow
    if trainer.stage == DIVERGED:
        err = TrainingDiverged(trainer.stop_reason)
        err.flow = flow
        raise err
    return flow
