"""Mutual information from paired samples (method.md §4): MI = KL(joint ‖ product of marginals).

The bridge runs from the product of marginals (t = 0) to the joint (t = 1). That order is chosen
because the product can be resampled freely — every reshuffle of y against x is a new sample — so
all slices but the last are made of plentiful points and only the last slice uses the scarce
joint pairs. Then MI = E_joint[log joint − log product] = E_joint[∫₀¹ r(z, s) ds], averaged over
held-out joint pairs.

Why many small steps: one classifier between joint and product must represent a log-ratio of tens
of nats from samples that barely overlap; its logistic loss saturates long before the logit is
right, so it underestimates large MI. Along the bridge every interval separates two neighbouring
slices that differ by a fraction of a nat, a well-posed classification, and the pieces add up.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import torch

from ..config import FlowConfig
from ..flow import OTFlow
from ..trainer import Trainer
from .baselines import fit_one_step_ratio
from .bridge import check_samples
from .config import BRIDGE_FLOW, DensityRatioConfig, DensityRatioError
from .ratio import DensityRatio
from .trainer import DensityRatioTrainer



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
    ratio: DensityRatio           # on the standardised pairs [x, y], product (t = 0) to joint (t = 1)
    flow: OTFlow
    mean: torch.Tensor            # (dx + dy,) per-coordinate standardisation of [x, y] …
    std: torch.Tensor             # … applied before the flow and the ratio

    @property
    def bits(self) -> float:
        return self.estimate / 0.6931471805599453

    def pointwise(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """log p(x, y) − log p(x) p(y) for pairs x: (n, dx), y: (n, dy) -> (n,); its mean over
        the joint is the mutual information."""
        xy = torch.cat([torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)], 1)
        return self.ratio.log_ratio((xy - self.mean) / self.std)


def _shuffled(x: torch.Tensor, y: torch.Tensor, copies: int, gen: torch.Generator) -> torch.Tensor:
    """``copies`` reshuffles of y against x: samples of the product of marginals, (copies·n, dx + dy)."""
    return torch.cat([torch.cat([x, y[torch.randperm(len(y), generator=gen)]], 1) for _ in range(copies)])


class ProductSampler:
    """Fresh samples of the product of marginals: an x row and an independent y row. (n, gen) -> (n, dx + dy)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        self.x, self.y = x, y

    def __call__(self, n: int, gen: torch.Generator) -> torch.Tensor:
        i = torch.randint(0, len(self.x), (n,), generator=gen)
        j = torch.randint(0, len(self.y), (n,), generator=gen)
        return torch.cat([self.x[i], self.y[j]], 1)


def estimate_mutual_information(x: torch.Tensor, y: torch.Tensor, *,
                                config: DensityRatioConfig = DensityRatioConfig(),
                                flow_config: FlowConfig = BRIDGE_FLOW, one_step: bool = True,
                                holdout: float = 0.2, product_copies: int = 2, seed: int = 0,
                                device: str | torch.device = "cpu",
                                callback: Callable[[str, object], None] | None = None) -> MutualInformation:
    """I(X; Y) in nats from paired samples x: (n, dx), y: (n, dy), row i of x paired with row i of y.

    A share ``holdout`` of the pairs is kept out and the estimate is their mean log-ratio; a share
    ``config.holdout`` of the rest validates (best weights kept), so the estimate is not selected on
    the pairs it is measured on. The same defaults serve every task (no knowledge of the answer). ``callback(stage, metrics)``
    sees every training step, stage 'flow' or 'ratio'.
    """
    start = time.perf_counter()
    x = check_samples("x", x, minimum=50)
    y = check_samples("y", y, minimum=50)
    if len(x) != len(y):
        raise DensityRatioError(f"x and y must be paired row by row; x has {len(x)} rows, y has {len(y)}")
    if not 0 < holdout < 0.9:
        raise DensityRatioError(f"holdout must be in (0, 0.9), got {holdout}")
    if product_copies < 1:
        raise DensityRatioError(f"product_copies must be ≥ 1, got {product_copies}")
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(x), generator=gen)
    n_test = max(10, int(round(holdout * len(x))))
    n_val = max(10, int(round(config.holdout * (len(x) - n_test))))
    test, val, train = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
    # standardise each coordinate (MI is unchanged by invertible maps of x and of y separately)
    xy = torch.cat([x, y], 1)
    mean, std = xy[train].mean(0), xy[train].std(0).clamp_min(1e-8)
    xy = (xy - mean) / std
    dx = x.shape[1]
    joint, joint_val, joint_test = xy[train], xy[val], xy[test]
    product = _shuffled(joint[:, :dx], joint[:, dx:], product_copies, gen)
    product_val = _shuffled(joint_val[:, :dx], joint_val[:, dx:], product_copies, gen)

    t0 = time.perf_counter()
    trainer = Trainer(product, joint, flow_config.replace(seed=flow_config.seed + seed), device=device)
    for m in trainer.run():
        if callback is not None:
            callback("flow", m)
    if trainer.stage == "diverged":
        raise DensityRatioError(f"the bridge flow diverged: {trainer.stop_reason}")
    flow = trainer.flow
    trainer.close()
    t1 = time.perf_counter()
    # validation pairs pick the best weights; the test pairs are kept apart for the estimate alone
    sampler = ProductSampler(joint[:, :dx], joint[:, dx:])
    ratio_trainer = DensityRatioTrainer(flow, sampler, joint, config.replace(seed=config.seed + seed),
                                        validation=(product_val, joint_val), device=device)
    for m in ratio_trainer.run():
        if callback is not None:
            callback("ratio", m)
    if ratio_trainer.stop_reason is not None:
        raise DensityRatioError(ratio_trainer.stop_reason)
    ratio = ratio_trainer.ratio
    values = ratio.log_ratio(joint_test)
    t2 = time.perf_counter()
    baseline = None
    if one_step:
        clf = fit_one_step_ratio(product, joint, config.replace(seed=config.seed + seed),
                                 validation=(product_val, joint_val), device=device)
        baseline = float(clf.log_ratio(joint_test).mean())
    t3 = time.perf_counter()
    return MutualInformation(
        estimate=float(values.mean()), stderr=float(values.std() / len(values) ** 0.5), one_step=baseline,
        n_train=len(train), n_test=n_test, seconds=t3 - start, flow_seconds=t1 - t0, ratio_seconds=t2 - t1,
        one_step_seconds=t3 - t2, ratio=ratio, flow=flow, mean=mean, std=std)
