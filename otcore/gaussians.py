"""Gaussian distributions and their optimal-transport closed forms (docs/method.md §6).

Everything is exact: map, W₂², McCann interpolation, log-density ratios along the path.
Matrices are float64 numpy arrays; samples are float32 tensors.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import ot
import torch
from scipy.linalg import sqrtm


@dataclass(frozen=True)
class Gaussian:
    """N(mean, cov) in R^d. mean: (d,), cov: (d, d) symmetric positive definite."""

    mean: np.ndarray
    cov: np.ndarray

    def __post_init__(self) -> None:
        mean = np.atleast_1d(np.asarray(self.mean, dtype=np.float64))
        cov = np.atleast_2d(np.asarray(self.cov, dtype=np.float64))
        if cov.shape != (mean.size, mean.size):
            raise ValueError(f"covariance must be {mean.size}×{mean.size}, got {cov.shape}")
        if not np.allclose(cov, cov.T, atol=1e-9) or np.linalg.eigvalsh(cov).min() <= 0:
            raise ValueError("covariance must be symmetric positive definite")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "cov", cov)

    @property
    def dim(self) -> int:
        return self.mean.size

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """(n, d) float32 samples."""
        rng = np.random.default_rng(seed)
        return torch.as_tensor(rng.multivariate_normal(self.mean, self.cov, size=n), dtype=torch.float32)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """x: (n, d) -> (n,) exact log-density."""
        mean = torch.as_tensor(self.mean, dtype=torch.float64, device=x.device)
        cov = torch.as_tensor(self.cov, dtype=torch.float64, device=x.device)
        dist = torch.distributions.MultivariateNormal(mean, covariance_matrix=cov)
        return dist.log_prob(x.double()).to(x.dtype)


def random_gaussian(dim: int, seed: int = 0, *, spread: float = 1.0) -> Gaussian:
    """A Gaussian with a random mean (std ``spread``) and a random well-conditioned covariance
    (eigenvalues log-uniform in [0.25, 4])."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    eig = np.exp(rng.uniform(math.log(0.25), math.log(4.0), dim))
    return Gaussian(spread * rng.standard_normal(dim), (basis * eig) @ basis.T)


def ot_map_matrix(p: Gaussian, q: Gaussian) -> np.ndarray:
    """A with T(x) = m₁ + A(x − m₀) the OT map from p to q; (d, d)."""
    A, _ = ot.gaussian.bures_wasserstein_mapping(p.mean[None], q.mean[None], p.cov, q.cov)
    return np.asarray(A, dtype=np.float64)


def ot_map(p: Gaussian, q: Gaussian, x: torch.Tensor) -> torch.Tensor:
    """Exact OT map applied to x: (n, d) -> (n, d)."""
    A = torch.as_tensor(ot_map_matrix(p, q), dtype=torch.float64, device=x.device)
    m0 = torch.as_tensor(p.mean, device=x.device)
    m1 = torch.as_tensor(q.mean, device=x.device)
    return (m1 + (x.double() - m0) @ A.T).to(x.dtype)


def w2_squared(p: Gaussian, q: Gaussian) -> float:
    """W₂²(p, q) = ‖m₀ − m₁‖² + tr(Σ₀ + Σ₁ − 2(Σ₀^½ Σ₁ Σ₀^½)^½)."""
    root = np.real(sqrtm(p.cov))
    cross = np.real(sqrtm(root @ q.cov @ root))
    return float(np.sum((p.mean - q.mean) ** 2) + np.trace(p.cov + q.cov - 2 * cross))


def mccann_path(p: Gaussian, q: Gaussian, x: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
    """Exact OT particle positions x_t = (1 − t)x + tT(x). x: (n, d), times: (m,) -> (m, n, d)."""
    tx = ot_map(p, q, x)
    t = times.to(x).reshape(-1, 1, 1)
    return (1 - t) * x[None] + t * tx[None]


def mccann_marginal(p: Gaussian, q: Gaussian, t: float) -> Gaussian:
    """p_t = N(m_t, M_t Σ₀ M_tᵀ) with M_t = (1 − t)I + tA."""
    A = ot_map_matrix(p, q)
    M = (1 - t) * np.eye(p.dim) + t * A
    cov = M @ p.cov @ M.T
    return Gaussian((1 - t) * p.mean + t * q.mean, 0.5 * (cov + cov.T))


def mccann_velocity(p: Gaussian, q: Gaussian, y: torch.Tensor, t: float) -> torch.Tensor:
    """v_t(y) = (m₁ − m₀) + (A − I) M_t⁻¹ (y − m_t). y: (n, d) -> (n, d)."""
    A = ot_map_matrix(p, q)
    M = (1 - t) * np.eye(p.dim) + t * A
    B = torch.as_tensor((A - np.eye(p.dim)) @ np.linalg.inv(M), device=y.device)
    mt = torch.as_tensor((1 - t) * p.mean + t * q.mean, device=y.device)
    shift = torch.as_tensor(q.mean - p.mean, device=y.device)
    return (shift + (y.double() - mt) @ B.T).to(y.dtype)


def log_ratio_along_path(p: Gaussian, q: Gaussian, y: torch.Tensor, t0: float, t1: float) -> torch.Tensor:
    """Exact log p_{t1}(y) − log p_{t0}(y) on the McCann path. y: (n, d) -> (n,)."""
    return mccann_marginal(p, q, t1).log_prob(y) - mccann_marginal(p, q, t0).log_prob(y)


def correlated_pairs(dim: int, mutual_information: float) -> Gaussian:
    """Joint Gaussian of d/2 independent pairs, each standard normal with correlation ρ,
    chosen so that the total mutual information (nats) between the two halves is as given:
    MI = −(d/4) log(1 − ρ²). Coordinates are ordered (x₁..x_{d/2}, y₁..y_{d/2})."""
    if dim < 2 or dim % 2:
        raise ValueError(f"dimension must be even and ≥ 2, got {dim}")
    if mutual_information < 0:
        raise ValueError("mutual information must be ≥ 0")
    rho = math.sqrt(1 - math.exp(-4 * mutual_information / dim))
    half = dim // 2
    cov = np.eye(dim)
    cov[np.arange(half), half + np.arange(half)] = rho
    cov[half + np.arange(half), np.arange(half)] = rho
    return Gaussian(np.zeros(dim), cov)


def l2_uvp(mapped: torch.Tensor, truth: torch.Tensor, target: Gaussian) -> float:
    """L2-UVP (%) = 100 · E‖T̂(x) − T(x)‖² / tr(Σ₁). mapped, truth: (n, d)."""
    err = ((mapped.double() - truth.double()) ** 2).sum(1).mean().item()
    return 100.0 * err / float(np.trace(target.cov))
