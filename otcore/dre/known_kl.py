"""A Gaussian pair of chosen KL divergence, and both estimators of log q − log p against its closed form.

P = N(0, I_d) and Q = N(μ, s² I_d): KL(Q‖P) = ½(d s² − d − 2d log s + ‖μ‖²), so choosing ‖μ‖ sets the
KL. One logistic classifier between P and Q (the one-step baseline) has to represent a log-ratio of
tens of nats from samples that are almost perfectly separated; the time score on the flow's bridge
learns many small steps, each a well-posed classification (Rhodes et al. 2020, "telescoping density
ratio estimation"; docs/method.md §4). :class:`KnownKLRun` trains the bridge flow, the time score
and the baseline step by step and measures both against the truth on fresh samples.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..config import FlowConfig
from ..flow import OTFlow
from ..gaussians import Gaussian
from ..trainer import Trainer
from .baselines import fit_one_step_ratio, gaussian_log_ratio
from .config import DensityRatioConfig, DensityRatioError
from .staged import StagedRun, StageStep
from .trainer import DensityRatioTrainer


def kl_divergence(q: Gaussian, p: Gaussian) -> float:
    """KL(q‖p) in nats between two Gaussians (closed form)."""
    inv = np.linalg.inv(p.cov)
    diff = p.mean - q.mean
    _, logdet_p = np.linalg.slogdet(p.cov)
    _, logdet_q = np.linalg.slogdet(q.cov)
    return float(0.5 * (np.trace(inv @ q.cov) + diff @ inv @ diff - q.dim + logdet_p - logdet_q))


def shifted_pair(dim: int, kl: float, scale: float = 1.0) -> tuple[Gaussian, Gaussian]:
    """(P, Q) = (N(0, I), N(μ, scale² I)) with KL(Q‖P) = ``kl`` nats; μ points along (1, 1, …)/√d."""
    if dim < 1:
        raise DensityRatioError(f"the dimension must be ≥ 1, got {dim}")
    if not scale > 0:
        raise DensityRatioError(f"the scale must be > 0, got {scale}")
    floor = 0.5 * dim * (scale ** 2 - 1 - 2 * math.log(scale))     # the KL from the scale alone
    if not (math.isfinite(kl) and kl >= floor):
        raise DensityRatioError(f"with scale {scale:g} in d = {dim} the KL is at least {floor:.3g} nats, got {kl}")
    shift = math.sqrt(2 * (kl - floor))
    mean = np.full(dim, shift / math.sqrt(dim))
    return Gaussian(np.zeros(dim), np.eye(dim)), Gaussian(mean, scale ** 2 * np.eye(dim))


@dataclass
class KnownKLResult:
    """Both estimators on the same fresh points: ``x`` (k, d), the first half from P, the rest from Q."""
    x: torch.Tensor
    from_q: torch.Tensor          # (k,) bool: the point was drawn from Q
    truth: torch.Tensor           # (k,) exact log q − log p
    bridge: torch.Tensor          # (k,) the time score integrated over [0, 1]
    one_step: torch.Tensor        # (k,) the single classifier
    kl_true: float                # KL(Q‖P), closed form
    flow: OTFlow
    seconds: dict[str, float]     # per stage

    def kl(self, estimate: torch.Tensor) -> float:
        """KL(Q‖P) read off an estimate: its mean over the points drawn from Q."""
        return float(estimate[self.from_q].mean())

    def mae(self, estimate: torch.Tensor) -> float:
        """Mean absolute error in nats over all the points."""
        return float((estimate - self.truth).abs().mean())


class KnownKLRun(StagedRun):
    """>>> run = KnownKLRun(*shifted_pair(2, 20.0), flow_config=FlowConfig(budget_s=10, refine_steps=0))
    >>> for step in run.run(): ...        # StageStep: 'flow', then 'ratio', then 'one-step'
    >>> run.result().kl(run.result().bridge)"""

    def __init__(self, p: Gaussian, q: Gaussian, *, points: int = 3000, test_points: int = 1000,
                 config: DensityRatioConfig = DensityRatioConfig(), flow_config: FlowConfig = FlowConfig(refine_steps=0),
                 seed: int = 0):
        if p.dim != q.dim:
            raise DensityRatioError(f"p has dimension {p.dim} but q has {q.dim}")
        self.p, self.q, self.config = p, q, config.replace(seed=config.seed + seed)
        flow_config = flow_config.replace(seed=flow_config.seed + seed)
        self.P, self.Q = p.sample(points, seed=4 * seed), q.sample(points, seed=4 * seed + 1)
        half = test_points // 2
        self.test = torch.cat([p.sample(half, seed=4 * seed + 2), q.sample(test_points - half, seed=4 * seed + 3)])
        self.from_q = torch.arange(test_points) >= half
        super().__init__(Trainer(self.P, self.Q, flow_config), flow_config, one_step=True)
        self._one_step_ratio = None
        self._result: KnownKLResult | None = None

    def _ratio_trainer(self, flow: OTFlow) -> DensityRatioTrainer:
        return DensityRatioTrainer(flow, self.P, self.Q, self.config)

    def _one_step(self) -> StageStep:
        self._one_step_ratio = fit_one_step_ratio(self.P, self.Q, self.config)
        return StageStep("one-step", 1, 1, self._one_step_ratio.val_loss, 0.0)

    def result(self) -> KnownKLResult:
        self._check_done()
        if self._result is None:
            self._result = KnownKLResult(
                x=self.test, from_q=self.from_q, truth=gaussian_log_ratio(self.p, self.q, self.test),
                bridge=self.ratio_trainer.ratio.log_ratio(self.test), one_step=self._one_step_ratio.log_ratio(self.test),
                kl_true=kl_divergence(self.q, self.p), flow=self.flow, seconds=dict(self.times))
        return self._result
