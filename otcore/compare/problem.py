"""One P and Q set up for a comparison: the points every method is measured on, the particles it
draws, the shared time grid and the exact discrete OT cost they are all compared against."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import ot
import torch

from ..config import FlowConfig
from ..gaussians import Gaussian
from ..seeding import generator


@dataclass(frozen=True)
class CompareConfig:
    particles: int = 300          # drawn particles: the first of the evaluation points, the same in every panel
    frames: int = 21              # shared time grid t_0 = 0 < … < t_{m−1} = 1 of the drawn paths
    exact_points: int = 1000      # points of P (and of Q) in the exact discrete OT reference; every readout uses them
    fit_points: int = 2000        # held-out points of Q the fit is measured against
    flow_seconds: float = 12.0    # time budget of each flow method (FlowConfig.budget_s); 0: the configs' step counts
    eps: float = 0.05             # entropic blur, relative to the mean pair cost (as otcore.coupling)
    sinkhorn_iters: int = 100     # Sinkhorn iterations at the target ε (after 40 of ε-scaling)
    seed: int = 0                 # the subsamples and every flow

    def __post_init__(self) -> None:
        for name in ("particles", "exact_points", "fit_points", "sinkhorn_iters"):
            if getattr(self, name) < 1:
                raise ValueError(f"CompareConfig.{name} must be ≥ 1, got {getattr(self, name)}")
        if self.frames < 2:
            raise ValueError(f"CompareConfig.frames must be ≥ 2, got {self.frames}")
        if not self.eps > 0:
            raise ValueError(f"CompareConfig.eps must be > 0, got {self.eps}")
        if not self.flow_seconds >= 0:
            raise ValueError(f"CompareConfig.flow_seconds must be ≥ 0, got {self.flow_seconds}")


@dataclass(frozen=True, eq=False)   # holds tensors: compared by identity
class Problem:
    """P: (n, d) and Q: (m, d) in the user's units, and what every method shares:

    X: (k, d) evaluation points of P (X[:particles] are drawn), Y: (k, d) points of Q, the exact
    discrete OT partners' pool; Q_fit: (f, d) points of Q outside Y that fits are measured against
    (the first of Q when fewer than 200 are left outside Y);
    times: (frames,); exact_cost: POT's emd2 between X and Y (uniform weights, squared distances).
    The discrete cost of k points lies a little above W₂²(P, Q) and falls toward it as k grows
    (moons → 8 Gaussians: 2.63, 2.44, 2.35 at k = 300, 1,000, 3,000), so a well-fitted flow can
    read slightly below 1 × exact.
    ``gaussians`` is (p, q) when the caller knows both sides are Gaussian (the app's pair carries
    them when both were drawn on the Distributions page), or fitted ones when it asked for that
    (``gaussians_fitted``); None otherwise, and the closed form is then not offered."""

    P: torch.Tensor
    Q: torch.Tensor
    X: torch.Tensor
    Y: torch.Tensor
    Q_fit: torch.Tensor
    times: torch.Tensor
    exact_cost: float
    particles: int
    config: CompareConfig
    flow_config: FlowConfig
    gaussians: tuple[Gaussian, Gaussian] | None = None
    gaussians_fitted: bool = False

    @property
    def dim(self) -> int:
        return self.P.shape[1]

    @property
    def drawn(self) -> torch.Tensor:
        """(particles, d) the particles every panel draws."""
        return self.X[:self.particles]


def fitted_gaussian(x: torch.Tensor) -> Gaussian:
    """N(mean, covariance) of samples x: (n, d), the covariance nudged to stay positive definite."""
    z = x.double().cpu().numpy()
    cov = np.atleast_2d(np.cov(z, rowvar=False))
    cov = 0.5 * (cov + cov.T) + 1e-9 * max(1.0, float(np.trace(cov))) * np.eye(z.shape[1])
    return Gaussian(z.mean(0), cov)


def exact_cost(x: torch.Tensor, y: torch.Tensor) -> float:
    """Exact discrete OT cost between uniform x: (k, d) and y: (l, d), squared distances (POT emd2)."""
    a, b = np.full(len(x), 1.0 / len(x)), np.full(len(y), 1.0 / len(y))
    return float(ot.emd2(a, b, ot.dist(x.double().numpy(), y.double().numpy()), numItermax=10_000_000))


def make_problem(P: torch.Tensor, Q: torch.Tensor, config: CompareConfig = CompareConfig(),
                 flow_config: FlowConfig = FlowConfig(), *, gaussians: tuple[Gaussian, Gaussian] | None = None,
                 fit_gaussians: bool = False) -> Problem:
    """Draw the shared subsamples of P: (n, d) and Q: (m, d) from ``config.seed``. Pass the exact
    ``gaussians`` when both sides are known Gaussians, or ``fit_gaussians=True`` to compare against
    the closed form between Gaussians fitted to the samples (the OT map only if both are Gaussian)."""
    P = torch.as_tensor(P, dtype=torch.float32).cpu()
    Q = torch.as_tensor(Q, dtype=torch.float32).cpu()
    if P.ndim != 2 or Q.ndim != 2 or P.shape[1] != Q.shape[1]:
        raise ValueError(f"P and Q must be (n, d) arrays of one dimension, got {tuple(P.shape)} and {tuple(Q.shape)}")
    gen = generator(config.seed)
    k = min(config.exact_points, len(P), len(Q))
    X = P[torch.randperm(len(P), generator=gen)[:k]]
    order = torch.randperm(len(Q), generator=gen)
    Y, rest = Q[order[:k]], Q[order[k:]]
    Q_fit = rest[:config.fit_points] if len(rest) >= min(config.fit_points, 200) else Q[:config.fit_points]
    fitted = gaussians is None and fit_gaussians
    if fitted:
        gaussians = (fitted_gaussian(P), fitted_gaussian(Q))
    return Problem(P, Q, X, Y, Q_fit, torch.linspace(0.0, 1.0, config.frames), exact_cost(X, Y),
                   min(config.particles, k), config, flow_config, gaussians, fitted)
