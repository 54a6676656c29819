"""A bridge in closed form: the McCann path between the Gaussian fits of the two ends.

x_s = (1 − s) x + s T(x), T(x) = m₁ + A (x − m₀), A the Gaussian OT map (docs/method.md §6). It is
the optimal-transport flow itself when both ends are Gaussian, and costs no training: every slice of
a freely sampled P is a matrix product away. When the ends are not Gaussian, the telescoping sum is
still exact (any chain of distributions from P to Q is), and the last interval, between the pushed
slice and the true Q, carries what the Gaussian fit misses.

Measured on the mutual-information tasks (bench/results/dre.md): the learned bridge flow was both
slower (flow training 45–230 s) and less accurate (d = 20: −3.7 … −6.1 % against −0.0 %).
"""
from __future__ import annotations

import numpy as np
import torch

from ..gaussians import Gaussian, ot_map_matrix

#: ridge added to a fitted covariance, relative to its mean variance (keeps it positive definite
#: when columns are constant or collinear)
RIDGE = 1e-6


def fit_gaussian(x: torch.Tensor, block: int | None = None) -> Gaussian:
    """The Gaussian with the sample mean and covariance of x: (n, d). With ``block`` = k the
    covariance keeps only its two diagonal blocks (coordinates < k and ≥ k): the product of the
    two marginals' fits."""
    x = x.double().cpu().numpy()
    cov = np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])
    if block is not None:
        cov[:block, block:] = 0.0
        cov[block:, :block] = 0.0
    ridge = RIDGE * max(float(np.trace(cov)) / len(cov), 1e-12)
    return Gaussian(x.mean(0), cov + ridge * np.eye(len(cov)))


class GaussianBridge:
    """The McCann path from N(m₀, Σ₀) (s = 0) to N(m₁, Σ₁) (s = 1), with the flow's
    ``dim`` and ``trajectory`` so that the density-ratio trainer can push samples along it."""

    def __init__(self, p: Gaussian, q: Gaussian):
        if p.dim != q.dim:
            raise ValueError(f"the two Gaussians differ in dimension: {p.dim} and {q.dim}")
        self.p, self.q = p, q
        self._m0 = torch.as_tensor(p.mean, dtype=torch.float64)
        self._m1 = torch.as_tensor(q.mean, dtype=torch.float64)
        self._A = torch.as_tensor(ot_map_matrix(p, q), dtype=torch.float64)

    @property
    def dim(self) -> int:
        return self.p.dim

    @torch.no_grad()
    def transport(self, x: torch.Tensor) -> torch.Tensor:
        """T(x) = m₁ + A (x − m₀). x: (n, d) -> (n, d)."""
        x = torch.as_tensor(x)
        return (self._m1 + (x.double().cpu() - self._m0) @ self._A.T).to(torch.float32)

    @torch.no_grad()
    def trajectory(self, x: torch.Tensor, times: torch.Tensor | None = None, *, solver: str | None = None,
                   steps: int | None = None) -> torch.Tensor:
        """Positions (1 − s) x + s T(x) at each of ``times`` (m,) (default 41 from 0 to 1), x: (n, d)
        being the particles at s = 0 -> (m, n, d) on the CPU. ``solver`` and ``steps`` are accepted,
        as the flow's are, and ignored: the path is exact."""
        x = torch.as_tensor(x, dtype=torch.float32).cpu()
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected points of shape (n, {self.dim}), got {tuple(x.shape)}")
        times = torch.linspace(0.0, 1.0, 41) if times is None else torch.as_tensor(times, dtype=torch.float32)
        tx = self.transport(x)
        s = times.reshape(-1, 1, 1)
        return (1 - s) * x[None] + s * tx[None]
