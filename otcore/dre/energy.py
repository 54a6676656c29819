"""An energy-based density of a data set (docs/method.md §4): P = a Gaussian fitted to the data (known
density, freely sampled), Q = the data; then

    log q(x) = log p(x) + ∫₀¹ r(x, s) ds

is a density model of the data, judged by its held-out negative log-likelihood against the
Gaussian alone and against the one-step classifier's log p(x) + r(x).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..config import FlowConfig
from ..flow import OTFlow
from ..gaussians import Gaussian
from ..trainer import Trainer
from .baselines import OneStepRatio, fit_one_step_ratio
from .bridge import check_samples
from .config import BRIDGE_FLOW, DensityRatioConfig, DensityRatioError
from .ratio import DensityRatio
from .staged import StagedRun, StageStep
from .trainer import DensityRatioTrainer

MODELS = ("gaussian", "one_step", "infinitesimal")


@dataclass
class EnergyDensity:
    base: Gaussian                  # P: the Gaussian fitted to the training data
    ratio: DensityRatio             # ∫₀¹ r ds ≈ log q − log p along the flow's bridge
    one_step: OneStepRatio | None   # the one-classifier baseline
    flow: OTFlow
    nll: dict[str, float]           # held-out mean negative log-likelihood (nats per sample), per model
    bits_per_dim: dict[str, float]  # nll / (d · ln 2)
    n_train: int
    n_test: int
    seconds: float

    @property
    def dim(self) -> int:
        return self.base.dim

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log q(x) = log p(x) + ∫₀¹ r(x, s) ds. x: (n, d) -> (n,)."""
        return self.base.log_prob(torch.as_tensor(x, dtype=torch.float32)) + self.ratio.log_ratio(x)


def fit_gaussian(x: torch.Tensor) -> Gaussian:
    """N(mean, cov) fitted to x: (n, d), with a tiny ridge so the covariance is always invertible."""
    a = x.double().numpy()
    cov = np.atleast_2d(np.cov(a, rowvar=False))
    ridge = 1e-6 * max(float(np.trace(cov)) / len(cov), 1e-12)
    return Gaussian(a.mean(0), 0.5 * (cov + cov.T) + ridge * np.eye(len(cov)))


class GaussianSampler:
    """Fresh samples of a Gaussian: (n, generator) -> (n, d)."""

    def __init__(self, gaussian: Gaussian):
        self.gaussian = gaussian

    def __call__(self, n: int, gen: torch.Generator) -> torch.Tensor:
        return self.gaussian.sample(n, seed=int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))


#: one step of an energy-density run
EnergyStep = StageStep


class EnergyDensityRun(StagedRun):
    """Step-wise :func:`fit_energy_density`: ``run()`` yields :class:`EnergyStep` through the stages
    (bridge flow, time score, one-step baseline); ``result()`` once ``done``."""

    def __init__(self, data: torch.Tensor, *, test: torch.Tensor | None = None, holdout: float = 0.2,
                 config: DensityRatioConfig = DensityRatioConfig(), flow_config: FlowConfig = BRIDGE_FLOW,
                 one_step: bool = True, seed: int = 0, device: str | torch.device = "cpu"):
        data = check_samples("data", data, minimum=20)
        if test is None:
            if not 0 < holdout < 0.9:
                raise DensityRatioError(f"holdout must be in (0, 0.9), got {holdout}")
            perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
            k = max(5, int(round(holdout * len(data))))
            data, test = data[perm[k:]], data[perm[:k]]
        self.data, self.test = data, check_samples("test", test, data.shape[1], minimum=1)
        if not isinstance(config, DensityRatioConfig) or not isinstance(flow_config, FlowConfig):
            raise DensityRatioError("config must be a DensityRatioConfig and flow_config a FlowConfig")
        self.base = fit_gaussian(data)
        self.sampler = GaussianSampler(self.base)
        self._gen = torch.Generator().manual_seed(seed)
        self.config, self.flow_config = config.replace(seed=config.seed + seed), flow_config.replace(seed=flow_config.seed + seed)
        self.device = device
        P = self.sampler(max(len(data), 2000), self._gen)
        super().__init__(Trainer(P, data, self.flow_config, device=device), self.flow_config, one_step)
        self._clf: OneStepRatio | None = None
        self._result: EnergyDensity | None = None

    def _ratio_trainer(self, flow: OTFlow) -> DensityRatioTrainer:
        return DensityRatioTrainer(flow, self.sampler, self.data, self.config, device=self.device)

    def _one_step(self) -> EnergyStep:
        self._clf = fit_one_step_ratio(self.sampler(4 * len(self.data), self._gen), self.data, self.config,
                                       device=self.device)
        return EnergyStep("one-step", 1, 1, self._clf.val_loss, 0.0)

    def result(self) -> EnergyDensity:
        self._check_done()
        if self._result is None:
            ratio = self.ratio_trainer.ratio
            log_p = self.base.log_prob(self.test)
            nll = {"gaussian": float(-log_p.mean()), "infinitesimal": float(-(log_p + ratio.log_ratio(self.test)).mean())}
            if self._clf is not None:
                nll["one_step"] = float(-(log_p + self._clf.log_ratio(self.test)).mean())
            d = self.data.shape[1]
            bpd = {k: v / (d * math.log(2)) for k, v in nll.items()}
            self._result = EnergyDensity(self.base, ratio, self._clf, self.flow, nll, bpd, len(self.data),
                                         len(self.test), self.elapsed())
        return self._result


def fit_energy_density(data: torch.Tensor, *, test: torch.Tensor | None = None, holdout: float = 0.2,
                       config: DensityRatioConfig = DensityRatioConfig(), flow_config: FlowConfig = BRIDGE_FLOW,
                       one_step: bool = True, seed: int = 0, device: str | torch.device = "cpu",
                       callback: Callable[[EnergyStep], None] | None = None) -> EnergyDensity:
    """Fit the energy-based density to ``data``: (n, d) and score it on ``test`` (or a held-out share).

    ``callback`` sees every training step (:class:`EnergyStep`). Step-wise: :class:`EnergyDensityRun`."""
    run = EnergyDensityRun(data, test=test, holdout=holdout, config=config, flow_config=flow_config,
                           one_step=one_step, seed=seed, device=device)
    return run.finish(callback)


def load_digits_dequantized(seed: int = 0) -> torch.Tensor:
    """scikit-learn's 8×8 digits (1,797 images, 64 pixels with integer levels 0..16) dequantized
    with uniform noise: x = level + u, u ~ U[0, 1). A density of x in these units gives an upper bound on
    the discrete pixels' code length, so its bits per dimension are comparable across models
    (a uniform density over the 17 levels scores log₂ 17 ≈ 4.09). -> (1797, 64) float32."""
    from sklearn.datasets import load_digits

    levels = load_digits().data.astype(np.float64)
    noise = np.random.default_rng(seed).uniform(0.0, 1.0, size=levels.shape)
    return torch.as_tensor(levels + noise, dtype=torch.float32)
