"""The high-dimensional bench's cases: pairs (P, Q) whose optimal-transport map is known exactly.

* ``gauss{d}``: two Gaussians with random covariances of condition number 10 (eigenvalues
  log-uniform in [0.3, 3], random rotations) and a mean shift of norm 1.5 · √d · 0.3 (about 1.5
  per-coordinate std in each of a few directions' worth); closed-form map and W₂² (otcore.gaussians).
* ``map{d}``: P a mixture of 6 Gaussians, Q = ∇φ#P with a strictly convex, non-quadratic potential

      φ(x) = ½ xᵀAx + Σ_j w_j softplus(a_jᵀx + b_j) + c · logsumexp(Bx),
      ∇φ(x) = Ax + Σ_j w_j σ(a_jᵀx + b_j) a_j + c Bᵀ softmax(Bx),

  so by Brenier's theorem ∇φ is the OT map P → Q; W₂² = E‖∇φ(X) − X‖² by Monte Carlo.

Everything is seeded: the case seed fixes the distributions and every sample (training, test, Monte
Carlo), each drawn from its own numpy stream ``default_rng([kind, d, seed, stream])``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
import torch

import otcore
from otcore.gaussians import Gaussian

#: numpy streams of one case
PARAMS, P_TRAIN, Q_TRAIN, P_TEST, Q_TEST, Q_TEST2, MONTE_CARLO, AFFINE_FIT, AFFINE_EVAL = range(9)
#: fresh points for the Monte-Carlo W₂² and Var(Q) of a known-map case
MONTE_CARLO_POINTS = 200_000
CHUNK = 25_000

Sampler = Callable[[int, np.random.Generator], torch.Tensor]   # (n, rng) -> (n, d) float32


@dataclass(frozen=True)
class Case:
    """One benchmark pair. Tensors are float32 in the user's units; the test sets are fresh draws."""
    name: str
    dim: int
    P_train: torch.Tensor          # (n, d)
    Q_train: torch.Tensor          # (n, d)
    P_test: torch.Tensor           # (m, d)
    Q_test: torch.Tensor           # (m, d)
    Q_test2: torch.Tensor          # (m, d), independent of Q_test: the energy-distance noise floor
    true_map: Callable[[torch.Tensor], torch.Tensor]   # the OT map P → Q, (k, d) -> (k, d)
    w2_squared: float              # true W₂²(P, Q)
    q_variance: float              # total variance of Q, tr Cov(Q)
    sample_p: Sampler              # fresh points of P


def stream(kind: int, dim: int, seed: int, which: int) -> np.random.Generator:
    return np.random.default_rng([kind, dim, seed, which])


def random_rotation(dim: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-random orthogonal matrix, (d, d)."""
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


def random_spd(dim: int, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """R diag(λ) Rᵀ with λ log-uniform in [lo, hi] (condition number ≤ hi/lo), (d, d)."""
    rot = random_rotation(dim, rng)
    eig = np.exp(rng.uniform(math.log(lo), math.log(hi), dim))
    eig[:2] = lo, hi  # span the whole range
    return (rot * eig) @ rot.T


def l2_uvp(mapped: torch.Tensor, truth: torch.Tensor, q_variance: float) -> float:
    """L2-UVP (%) = 100 · E‖T̂(x) − T(x)‖² / Var(Q). mapped, truth: (n, d)."""
    return 100.0 * float(((mapped.double() - truth.double()) ** 2).sum(1).mean()) / q_variance


# --- Gaussian pairs ---------------------------------------------------------------------------
GAUSS = 1


def gaussian_pair(dim: int, seed: int) -> tuple[Gaussian, Gaussian]:
    """P, Q with covariance eigenvalues log-uniform in [0.3, 3] and means ∓ s/2, ‖s‖ = 0.35·√d."""
    rng = stream(GAUSS, dim, seed, PARAMS)
    shift = rng.standard_normal(dim)
    shift *= 0.35 * math.sqrt(dim) / np.linalg.norm(shift)
    return (Gaussian(-shift / 2, random_spd(dim, 0.3, 3.0, rng)),
            Gaussian(shift / 2, random_spd(dim, 0.3, 3.0, rng)))


def sample_gaussian(g: Gaussian, n: int, rng: np.random.Generator) -> torch.Tensor:
    """(n, d) float32 samples of g."""
    chol = np.linalg.cholesky(g.cov)
    return torch.as_tensor(g.mean + rng.standard_normal((n, g.dim)) @ chol.T, dtype=torch.float32)


def gauss_case(dim: int, seed: int = 0, n: int = 8000, n_test: int = 8000) -> Case:
    p, q = gaussian_pair(dim, seed)
    draw = lambda g, which, k: sample_gaussian(g, k, stream(GAUSS, dim, seed, which))  # noqa: E731
    return Case(f"gauss{dim}", dim, draw(p, P_TRAIN, n), draw(q, Q_TRAIN, n), draw(p, P_TEST, n_test),
                draw(q, Q_TEST, n_test), draw(q, Q_TEST2, n_test), partial(otcore.ot_map, p, q),
                otcore.w2_squared(p, q), float(np.trace(q.cov)), partial(sample_gaussian, p))


# --- known non-Gaussian maps -------------------------------------------------------------------
KNOWN_MAP = 2


@dataclass(frozen=True)
class ConvexPotential:
    """φ(x) = ½ xᵀAx + Σ_j w_j softplus(a_jᵀx + b_j) + c · logsumexp(Bx): strictly convex (A ≻ 0,
    w > 0, c > 0), not quadratic. Float64 tensors: A (d, d), a (m, d), b (m,), w (m,), B (k, d)."""
    A: torch.Tensor
    a: torch.Tensor
    b: torch.Tensor
    w: torch.Tensor
    B: torch.Tensor
    c: float

    def value(self, x: torch.Tensor) -> torch.Tensor:
        """x: (n, d) -> φ(x): (n,)."""
        x = x.double()
        quad = 0.5 * ((x @ self.A) * x).sum(1)
        ridges = torch.nn.functional.softplus(x @ self.a.T + self.b) @ self.w
        return quad + ridges + self.c * torch.logsumexp(x @ self.B.T, dim=1)

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        """x: (n, d) -> ∇φ(x): (n, d), same dtype as x, computed in float64 in chunks."""
        out = []
        for chunk in x.split(CHUNK):
            z = chunk.double()
            g = z @ self.A + (torch.sigmoid(z @ self.a.T + self.b) * self.w) @ self.a
            g = g + self.c * torch.softmax(z @ self.B.T, dim=1) @ self.B
            out.append(g.to(x.dtype))
        return torch.cat(out)


def random_potential(dim: int, rng: np.random.Generator, anchors: np.ndarray) -> ConvexPotential:
    """A ∈ SPD with eigenvalues in [0.3, 0.9]; m = d ridges a_j = α_j u_j (u_j random unit vectors in
    opposite pairs, α_j ∈ [4, 8]: each transition is 1/8–1/4 of P's per-direction spread wide) whose
    steps of size w_j α_j ∈ [1.5, 2.5] pass through random points of P (``anchors``: (m, d)); a
    logsumexp of k = 6 directions of norm 2 with c = 1. Measured at d = 16, 64, 128, seeds 0–2: the
    best affine map's L2-UVP is 6.5–9 %, Var(Q) ≈ 2 Var(P), the mean shift 10–40 % of W₂²."""
    m, k = dim, 6
    units = rng.standard_normal((m, dim))
    units /= np.linalg.norm(units, axis=1, keepdims=True)
    units[1::2] = -units[: m // 2 * 2 : 2]  # opposite pairs: the steps' mean displacements mostly cancel
    alpha = rng.uniform(4.0, 8.0, m)
    a = units * alpha[:, None]
    b = -(a * anchors[:m]).sum(1)
    w = rng.uniform(1.5, 2.5, m) / alpha
    B = rng.standard_normal((k, dim))
    B *= 2.0 / np.linalg.norm(B, axis=1, keepdims=True)
    t = lambda v: torch.as_tensor(v, dtype=torch.float64)  # noqa: E731
    return ConvexPotential(t(random_spd(dim, 0.3, 0.9, rng)), t(a), t(b), t(w), t(B), 1.0)


@dataclass(frozen=True)
class GaussianMixture:
    """Σ_k π_k N(μ_k, L_k L_kᵀ). weights (K,), means (K, d), chols (K, d, d); float64 numpy."""
    weights: np.ndarray
    means: np.ndarray
    chols: np.ndarray

    def sample(self, n: int, rng: np.random.Generator) -> torch.Tensor:
        """(n, d) float32 samples."""
        labels = rng.choice(len(self.weights), size=n, p=self.weights)
        z = rng.standard_normal((n, self.means.shape[1]))
        x = np.empty_like(z)
        for j in range(len(self.weights)):
            idx = labels == j
            x[idx] = self.means[j] + z[idx] @ self.chols[j].T
        return torch.as_tensor(x, dtype=torch.float32)


def random_mixture(dim: int, rng: np.random.Generator, components: int = 6) -> GaussianMixture:
    """Means r·e_k on random orthonormal directions (r = 2.5: neighbouring components ≈ 3.5 std apart
    along their axis, so separated but overlapping), covariances with eigenvalues in [0.5, 1.5]."""
    directions = random_rotation(dim, rng)[: min(components, dim)]
    means = 2.5 * directions[np.arange(components) % len(directions)]
    means[len(directions):] *= -1  # d < K: reuse directions with the opposite sign
    chols = np.stack([np.linalg.cholesky(random_spd(dim, 0.5, 1.5, rng)) for _ in range(components)])
    weights = rng.dirichlet(np.full(components, 8.0))
    return GaussianMixture(weights, means, chols)


def known_map_parts(dim: int, seed: int) -> tuple[GaussianMixture, ConvexPotential]:
    rng = stream(KNOWN_MAP, dim, seed, PARAMS)
    mixture = random_mixture(dim, rng)
    return mixture, random_potential(dim, rng, mixture.sample(dim, rng).double().numpy())


def map_case(dim: int, seed: int = 0, n: int = 8000, n_test: int = 8000, mc_points: int = MONTE_CARLO_POINTS) -> Case:
    mixture, phi = known_map_parts(dim, seed)
    draw = lambda which, k: mixture.sample(k, stream(KNOWN_MAP, dim, seed, which))  # noqa: E731
    x = draw(MONTE_CARLO, mc_points)
    y = phi.grad(x.double())
    w2 = float(((y - x.double()) ** 2).sum(1).mean())
    q_var = float(y.var(0).sum())
    return Case(f"map{dim}", dim, draw(P_TRAIN, n), phi.grad(draw(Q_TRAIN, n)), draw(P_TEST, n_test),
                phi.grad(draw(Q_TEST, n_test)), phi.grad(draw(Q_TEST2, n_test)), phi.grad, w2, q_var,
                mixture.sample)


def best_affine_l2uvp(case: Case, n: int = 50_000, seed: int = 0) -> float:
    """L2-UVP (%) of the least-squares affine map from X to T(X), fitted on n fresh points of P and
    measured on n others: how far from affine the true map is (≈ 0 for Gaussian pairs)."""
    fit_x = case.sample_p(n, np.random.default_rng([seed, AFFINE_FIT])).double()
    eval_x = case.sample_p(n, np.random.default_rng([seed, AFFINE_EVAL])).double()
    design = lambda x: torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)  # noqa: E731
    coef = torch.linalg.lstsq(design(fit_x), case.true_map(fit_x)).solution
    return l2_uvp(design(eval_x) @ coef, case.true_map(eval_x), case.q_variance)


#: name -> dimension; CASES: name -> builder (seed, n, n_test) -> Case
DIMS: dict[str, int] = {**{f"gauss{d}": d for d in (2, 16, 32, 64, 128)}, **{f"map{d}": d for d in (2, 16, 64, 128)}}
CASES: dict[str, Callable[..., Case]] = {name: partial(gauss_case if name.startswith("gauss") else map_case, d)
                                         for name, d in DIMS.items()}
