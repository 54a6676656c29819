"""Samples of an energy-based density log q(x) = log p(x) + L(x), L = ∫₀¹ r ds (docs/method.md §4).

Two moves, both exact for q in the limit and both using only what the model gives:

* sampling-importance-resampling (SIR): K = n·proposals draws x_k ~ p, weights w_k ∝ exp L(x_k),
  n draws from them in proportion to w. The effective sample size (Σw)² / Σw² of the K weights says
  how well p covers q: K·ESS-fraction distinct-looking draws at best.
* preconditioned MALA on log q, in the base's whitened units x = μ + A z (A Aᵀ = Σ of p):
  z' = z + (h/2)∇log q + √h ξ, accepted with the Metropolis–Hastings ratio, so q is left invariant;
  the gradient flows through the ratio network. It separates SIR's repeated draws.

The default is MALA alone, 20 steps from base draws, h tuned toward acceptance 0.57 during the first
half and fixed after: on the digits' model SIR made the samples worse than the base's (energy distance
to held-out digits 0.96 against 0.36, floor 0.30: the weights pick few, extreme base draws where the
learned ratio extrapolates), MALA 20 from the base improved them (0.32); bench/results/dre.md §4.
SIR stays available (``proposals > 1``); the weights' ESS is reported either way.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from ..gaussians import Gaussian
from ..typecheck import check_field_types
from .config import DensityRatioError

#: the most samples one call draws, and the most base proposals it weighs
MAX_SAMPLES = 100_000
MAX_PROPOSALS = 2_000_000
CHAINS = 2048              # MALA chains run together (bounds the gradient's memory)
TARGET_ACCEPTANCE = 0.574   # MALA's optimal acceptance rate (Roberts & Rosenthal, 1998)

LogRatio = Callable[[torch.Tensor], torch.Tensor]   # x: (n, d) -> (n,), differentiable in x


@dataclass(frozen=True)
class SamplerConfig:
    proposals: int = field(default=1, metadata={"help": "base proposals weighed per sample drawn (SIR); 1: no SIR"})
    mala_steps: int = field(default=20, metadata={"help": "MALA steps after resampling; 0: SIR alone"})
    step_size: float = field(default=0.0, metadata={"help": "MALA step h in whitened units; 0: tuned toward "
                                                            "acceptance 0.57 during the first half of the steps"})
    seed: int = field(default=0, metadata={"help": "seed of the sampler's own generator"})

    def __post_init__(self) -> None:
        check_field_types(self, DensityRatioError, caps={"proposals": MAX_PROPOSALS, "mala_steps": 100_000})
        if self.proposals < 1 or self.mala_steps < 0 or not (self.step_size >= 0 and math.isfinite(self.step_size)):
            raise DensityRatioError("need proposals ≥ 1, mala_steps ≥ 0 and a finite step_size ≥ 0")


@dataclass
class EnergySamples:
    samples: torch.Tensor       # (n, d) in the data's units
    ess: float                  # effective sample size of the SIR weights, (Σw)² / Σw²
    proposals: int              # K base samples weighed
    distinct: int               # distinct proposals SIR picked
    acceptance: float           # mean MALA acceptance after tuning (nan without MALA)
    step_size: float            # the MALA step h used after tuning (nan without MALA)
    seconds: float

    @property
    def ess_fraction(self) -> float:
        return self.ess / self.proposals


def effective_sample_size(log_w: torch.Tensor) -> float:
    """(Σw)² / Σw² of weights given by their logs (any constant). log_w: (K,) -> in [1, K]."""
    w = torch.softmax(log_w.double(), 0)
    return float(1.0 / (w ** 2).sum())


def base_sampler(base: Gaussian) -> tuple[torch.Tensor, torch.Tensor]:
    """(μ, A) with A Aᵀ = Σ (Cholesky), float32: x = μ + A z for z ~ N(0, I)."""
    return (torch.as_tensor(base.mean, dtype=torch.float32),
            torch.linalg.cholesky(torch.as_tensor(base.cov, dtype=torch.float64)).float())


def resample(log_w: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """n indices drawn with replacement in proportion to exp(log_w). log_w: (K,) -> (n,)."""
    w = torch.softmax(log_w.double(), 0)
    return torch.multinomial(w, n, replacement=True, generator=gen)


def _value_and_grad(log_target: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor):
    z = z.detach().requires_grad_(True)
    with torch.enable_grad():
        value = log_target(z)
        grad, = torch.autograd.grad(value.sum(), z)
    return value.detach(), grad


def mala(log_target: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, steps: int, step_size: float,
         gen: torch.Generator) -> tuple[torch.Tensor, float, float]:
    """``steps`` MALA steps on every row of z: (n, d) for the differentiable log density ``log_target``.
    step_size 0: h starts at 1.65² d^(−1/3) and is tuned during the first half (log h += acc − 0.574).
    Returns (z, mean acceptance after tuning, h)."""
    n, d = z.shape
    tune = step_size == 0
    h = 1.65 ** 2 * d ** (-1.0 / 3.0) if tune else step_size
    value, grad = _value_and_grad(log_target, z)
    bad = int((~(torch.isfinite(value) & torch.isfinite(grad).all(1))).sum())
    if bad:
        raise DensityRatioError(f"the energy model's log-density or its gradient is NaN or infinite at {bad:,} of "
                                f"{n:,} starting points; the model is broken (retrain it)")
    accepted = []
    for k in range(steps):
        noise = torch.randn(z.shape, generator=gen)
        z_new = z + 0.5 * h * grad + math.sqrt(h) * noise
        v_new, g_new = _value_and_grad(log_target, z_new)
        forward = -((z_new - z - 0.5 * h * grad) ** 2).sum(1) / (2 * h)
        backward = -((z - z_new - 0.5 * h * g_new) ** 2).sum(1) / (2 * h)
        log_alpha = torch.nan_to_num(v_new + backward - value - forward, nan=-math.inf)
        accept = torch.log(torch.rand(n, generator=gen)) < log_alpha
        z = torch.where(accept[:, None], z_new, z)
        value = torch.where(accept, v_new, value)
        grad = torch.where(accept[:, None], g_new, grad)
        rate = float(accept.float().mean())
        if tune and k < steps // 2:
            h *= math.exp(rate - TARGET_ACCEPTANCE)
        else:
            accepted.append(rate)
    return z, (sum(accepted) / len(accepted) if accepted else float("nan")), h


def check_count(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise DensityRatioError(f"the number of samples must be a whole number, got {n!r}")
    if not 1 <= n <= MAX_SAMPLES:
        raise DensityRatioError(f"the number of samples must be between 1 and {MAX_SAMPLES:,}, got {n:,}")
    return n


def sample_energy(base: Gaussian, log_ratio: LogRatio, n: int,
                  config: SamplerConfig = SamplerConfig()) -> EnergySamples:
    """n samples of q ∝ p · exp(log_ratio) (p = ``base``): SIR from n·proposals base draws, then
    ``mala_steps`` MALA steps. log_ratio: (m, d) -> (m,), differentiable in x. Seeded by its own generator."""
    n = check_count(n)
    if not isinstance(config, SamplerConfig):
        raise DensityRatioError("config must be a SamplerConfig")
    started = time.perf_counter()
    gen = torch.Generator().manual_seed(config.seed)
    mu, A = base_sampler(base)
    K = min(n * config.proposals, MAX_PROPOSALS) if config.proposals > 1 else n
    z0 = torch.randn(K, base.dim, generator=gen)
    with torch.no_grad():       # the weights: resampled from when proposals > 1, always a diagnostic (ESS)
        log_w = torch.cat([log_ratio(mu + c @ A.T) for c in z0.split(8192)]).double()
    bad = int((~torch.isfinite(log_w)).sum())
    if bad:
        raise DensityRatioError(f"the energy model's log-ratio is NaN or infinite at {bad:,} of {K:,} base samples; "
                                "the model is broken (retrain it)")
    ess = effective_sample_size(log_w)
    if config.proposals > 1:
        idx = resample(log_w, n, gen)
        z, distinct = z0[idx], int(idx.unique().numel())
    else:
        z, distinct = z0, K
    acceptance = h = float("nan")
    if config.mala_steps:
        def log_target(zz: torch.Tensor) -> torch.Tensor:       # log q in whitened units, up to a constant
            return -0.5 * (zz ** 2).sum(1) + log_ratio(mu + zz @ A.T)
        runs = [mala(log_target, c, config.mala_steps, config.step_size, gen) for c in z.split(CHAINS)]
        z = torch.cat([r[0] for r in runs])
        acceptance = sum(r[1] * len(r[0]) for r in runs) / n
        h = sum(r[2] * len(r[0]) for r in runs) / n
    x = (mu + z @ A.T).detach()
    if not torch.isfinite(x).all():
        raise DensityRatioError("the sampler produced NaN or infinite samples; the energy model is broken")
    return EnergySamples(x, ess, K, distinct, acceptance, h, time.perf_counter() - started)


def sample_model(model, n: int, config: SamplerConfig = SamplerConfig()) -> EnergySamples:
    """:func:`sample_energy` of an :class:`~otcore.dre.energy_model.EnergyModel`."""
    return sample_energy(model.base, model.log_ratio, n, config)
