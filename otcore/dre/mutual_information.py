"""Mutual information from paired samples (docs/method.md §4): MI = KL(joint ‖ product of marginals).

Defaults (one set for every task; bench/results/dre.md measures them at d = 10 … 320):

* marginals 'normal-scores': every coordinate through its empirical distribution function and the
  normal quantile first (MI does not change under an invertible map of each coordinate); the
  alternative 'standardize' only centres and scales them.
* bridge 'gaussian': the McCann path between the Gaussian fits of the product (its covariance is
  the joint's two diagonal blocks) and of the joint — the OT flow itself when the data are Gaussian,
  in closed form, with no flow to train. The alternative 'flow' trains the bridge flow
  (``flow_config``); it was measured slower and less accurate (d = 20: −3.7 … −6.1 %).
* the ratio network (``MI_RATIO``): its MLP 64 wide beside the quadratic head at every d, and
  its weights averaged over the steps (EMA 0.95) before they are validated and kept.
* direction 'product-to-joint': the product of marginals at t = 0, resampled afresh at every step
  (any reshuffle of y against x is a new sample), the joint pairs as the last slice; then
  MI = E_joint[∫₀¹ r(z, s) ds] over held-out pairs. Only the last slice is a fixed sample, so the
  ratio network cannot memorise the others. 'joint-to-product' (docs/method.md §4, the other
  bridge): the joint pairs at t = 0, fresh product samples last; MI = −E_joint[∫₀¹ r]; every slice but
  the last is then the same pushed training pairs, which the network fits (d = 80: −16.9 %).

Why many small steps: one classifier between joint and product must represent a log-ratio of tens
of nats from samples that barely overlap; its logistic loss saturates long before the logit is
right, so it underestimates large MI. Along the bridge every interval separates two neighbouring
slices that differ by a fraction of a nat, a well-posed classification, and the pieces add up.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

import torch

from ..config import FlowConfig
from ..trainer import Trainer
from .baselines import fit_one_step_ratio
from .bridge import BridgePath, check_samples
from .config import BRIDGE_FLOW, DensityRatioConfig, DensityRatioError
from .gaussian_bridge import GaussianBridge, fit_gaussian
from .normal_scores import NormalScores
from .ratio import DensityRatio
from .staged import StagedRun, StageStep
from .trainer import DensityRatioTrainer, RatioStepMetrics



@dataclass
class MutualInformation:
    estimate: float               # nats, infinitesimal (telescoping) estimator on held-out pairs
    stderr: float                 # standard error of that held-out mean
    one_step: float | None        # nats, one logistic classifier (baseline), same held-out pairs
    n_train: int
    n_test: int
    seconds: float                # wall time of the whole estimate
    flow_seconds: float
    ratio_seconds: float
    one_step_seconds: float
    ratio: DensityRatio           # on the transformed pairs [x, y], along the bridge of ``direction``
    flow: BridgePath              # the bridge: a GaussianBridge, or the trained OTFlow
    marginals: "Marginals"        # the per-coordinate transform of [x, y] applied before the bridge
    direction: str = "product-to-joint"   # the bridge's order (a key of SIGN)

    @property
    def bits(self) -> float:
        return self.estimate / 0.6931471805599453

    def pointwise(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """log p(x, y) − log p(x) p(y) for pairs x: (n, dx), y: (n, dy) -> (n,); its mean over
        the joint is the mutual information."""
        xy = torch.cat([torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)], 1)
        return SIGN[self.direction] * self.ratio.log_ratio(self.marginals.forward(xy))


class Standardized:
    """Each coordinate centred and scaled by the training sample's mean and standard deviation."""

    def __init__(self, x: torch.Tensor):
        self.mean, self.std = x.mean(0), x.std(0).clamp_min(1e-8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


Marginals = Union[NormalScores, Standardized]
#: the per-coordinate transforms a run may apply first, by name
MARGINALS = {"normal-scores": NormalScores.fit, "standardize": Standardized}
BRIDGES = ("gaussian", "flow")
#: the estimator's ratio settings (bench/results/dre.md): an MLP of width 64 beside the quadratic head
#: at every d (wider ones extrapolated worse to the joint pairs at d ≥ 160: d = 320, width 128:
#: +12.5 %, width 64: +1.3 %), and the weights averaged (EMA 0.95) against the steps' noise
MI_RATIO = DensityRatioConfig(hidden=64, ema=0.95)


def _shuffled(x: torch.Tensor, y: torch.Tensor, copies: int, gen: torch.Generator) -> torch.Tensor:
    """``copies`` reshuffles of y against x: samples of the product of marginals, (copies·n, dx + dy)."""
    return torch.cat([torch.cat([x, y[torch.randperm(len(y), generator=gen)]], 1) for _ in range(copies)])


#: the bridge's direction -> sign of its ∫ r on joint pairs in log joint − log product.
#: 'product-to-joint': p_0 = product (freely resampled at every step), last slice the joint pairs;
#: 'joint-to-product' (docs/method.md §4): p_0 = the joint pairs, last slice fresh product samples.
SIGN = {"product-to-joint": 1.0, "joint-to-product": -1.0}
PRODUCT_TARGET = 4   # 'joint-to-product': product samples in the last slice, per joint pair


class ProductSampler:
    """Fresh samples of the product of marginals: an x row and an independent y row. (n, gen) -> (n, dx + dy)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        self.x, self.y = x, y

    def __call__(self, n: int, gen: torch.Generator) -> torch.Tensor:
        i = torch.randint(0, len(self.x), (n,), generator=gen)
        j = torch.randint(0, len(self.y), (n,), generator=gen)
        return torch.cat([self.x[i], self.y[j]], 1)


#: one step of a mutual-information run; ``estimate`` is the held-out MI of the ratio net when validated
MIStep = StageStep


class MutualInformationRun(StagedRun):
    """Step-wise :func:`estimate_mutual_information`: ``run()`` yields :class:`MIStep` through the
    stages (the bridge flow when it is trained, the time score, the one-step baseline); ``result()``
    once ``done``."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, *, config: DensityRatioConfig = MI_RATIO,
                 flow_config: FlowConfig = BRIDGE_FLOW, one_step: bool = True, holdout: float = 0.2,
                 product_copies: int = 2, seed: int = 0, device: str | torch.device = "cpu",
                 direction: str = "product-to-joint", bridge: str = "gaussian", marginals: str = "normal-scores"):
        x = check_samples("x", x, minimum=50)
        y = check_samples("y", y, minimum=50)
        if len(x) != len(y):
            raise DensityRatioError(f"x and y must be paired row by row; x has {len(x)} rows, y has {len(y)}")
        if not 0 < holdout < 0.9:
            raise DensityRatioError(f"holdout must be in (0, 0.9), got {holdout}")
        if direction not in SIGN:
            raise DensityRatioError(f"direction must be one of {', '.join(SIGN)}, got {direction!r}")
        if bridge not in BRIDGES:
            raise DensityRatioError(f"bridge must be one of {', '.join(BRIDGES)}, got {bridge!r}")
        if marginals not in MARGINALS:
            raise DensityRatioError(f"marginals must be one of {', '.join(MARGINALS)}, got {marginals!r}")
        self.direction = direction
        if product_copies < 1:
            raise DensityRatioError(f"product_copies must be ≥ 1, got {product_copies}")
        if not isinstance(config, DensityRatioConfig) or not isinstance(flow_config, FlowConfig):
            raise DensityRatioError("config must be a DensityRatioConfig and flow_config a FlowConfig")
        self.config, self.flow_config = config.replace(seed=config.seed + seed), flow_config.replace(seed=flow_config.seed + seed)
        self.one_step, self.device = one_step, device
        gen = torch.Generator().manual_seed(seed)
        perm = torch.randperm(len(x), generator=gen)
        n_test = max(10, int(round(holdout * len(x))))
        n_val = max(10, int(round(config.holdout * (len(x) - n_test))))
        test, val, train = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
        # transform each coordinate (MI is unchanged by invertible maps of x and of y separately)
        xy = torch.cat([x, y], 1)
        self.marginals = MARGINALS[marginals](xy[train])
        xy = self.marginals.forward(xy)
        dx = x.shape[1]
        self.joint, self.joint_val, self.joint_test = xy[train], xy[val], xy[test]
        self.product = _shuffled(self.joint[:, :dx], self.joint[:, dx:], product_copies, gen)
        self.product_val = _shuffled(self.joint_val[:, :dx], self.joint_val[:, dx:], product_copies, gen)
        self.sampler = ProductSampler(self.joint[:, :dx], self.joint[:, dx:])
        ends = (self.product, self.joint) if direction == "product-to-joint" else (self.joint, self.product)
        if bridge == "flow":
            super().__init__(Trainer(*ends, self.flow_config, device=device), self.flow_config, one_step)
        else:   # the product's Gaussian fit is the joint's with the cross-covariance removed
            fits = (fit_gaussian(self.joint, block=dx), fit_gaussian(self.joint))
            fits = fits if direction == "product-to-joint" else fits[::-1]
            super().__init__(None, self.flow_config, one_step, bridge=GaussianBridge(*fits))
        self._one_step_value: float | None = None
        self._result: MutualInformation | None = None

    def _ratio_trainer(self, flow: BridgePath) -> DensityRatioTrainer:
        # validation pairs pick the best weights; the test pairs are kept for the estimate alone
        if self.direction == "product-to-joint":
            return DensityRatioTrainer(flow, self.sampler, self.joint, self.config,
                                       validation=(self.product_val, self.joint_val), device=self.device)
        # the joint pairs pushed along the bridge, fresh product samples as the last slice
        fresh = self.sampler(PRODUCT_TARGET * len(self.joint), torch.Generator().manual_seed(self.config.seed))
        return DensityRatioTrainer(flow, self.joint, fresh, self.config,
                                   validation=(self.joint_val, self.product_val), device=self.device)

    def _ratio_estimate(self, m: RatioStepMetrics) -> float | None:
        if m.validation is None:
            return None
        return m.validation.kl_qp if self.direction == "product-to-joint" else m.validation.kl_pq

    def _one_step(self) -> MIStep:
        clf = fit_one_step_ratio(self.product, self.joint, self.config,
                                 validation=(self.product_val, self.joint_val), device=self.device)
        self._one_step_value = float(clf.log_ratio(self.joint_test).mean())
        return MIStep("one-step", 1, 1, clf.val_loss, 0.0, self._one_step_value)

    def result(self) -> MutualInformation:
        self._check_done()
        if self._result is None:
            ratio = self.ratio_trainer.ratio
            values = SIGN[self.direction] * ratio.log_ratio(self.joint_test)
            self._result = MutualInformation(
                estimate=float(values.mean()), stderr=float(values.std() / len(values) ** 0.5),
                one_step=self._one_step_value, n_train=len(self.joint), n_test=len(self.joint_test),
                seconds=self.elapsed(), flow_seconds=self.times["flow"], ratio_seconds=self.times["ratio"],
                one_step_seconds=self.times["one-step"], ratio=ratio, flow=self.flow, marginals=self.marginals,
                direction=self.direction)
        return self._result


def estimate_mutual_information(x: torch.Tensor, y: torch.Tensor, *,
                                config: DensityRatioConfig = MI_RATIO,
                                flow_config: FlowConfig = BRIDGE_FLOW, one_step: bool = True,
                                holdout: float = 0.2, product_copies: int = 2, seed: int = 0,
                                direction: str = "product-to-joint", bridge: str = "gaussian",
                                marginals: str = "normal-scores", device: str | torch.device = "cpu",
                                callback: Callable[[MIStep], None] | None = None) -> MutualInformation:
    """I(X; Y) in nats from paired samples x: (n, dx), y: (n, dy), row i of x paired with row i of y.

    A share ``holdout`` of the pairs is kept out and the estimate is their mean log-ratio; a share
    ``config.holdout`` of the rest validates (best weights kept), so the estimate is not selected on
    the pairs it is measured on. The same defaults serve every task (no knowledge of the answer).
    ``bridge``, ``marginals`` and ``direction``: see the module's notes (``flow_config`` is used only
    with ``bridge='flow'``). ``callback`` sees every step (:class:`MIStep`). Step-wise:
    :class:`MutualInformationRun`.
    """
    run = MutualInformationRun(x, y, config=config, flow_config=flow_config, one_step=one_step, holdout=holdout,
                               product_copies=product_copies, seed=seed, device=device, direction=direction,
                               bridge=bridge, marginals=marginals)
    return run.finish(callback)
