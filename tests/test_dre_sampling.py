"""Samples of an energy density q ∝ p · exp(L) (otcore.dre.sampling) where q is known in closed form:
p = N(0, I) and q another Gaussian, so L = log q − log p exactly, the samples' moments are known and
the SIR weights' effective sample size has a closed form."""
import math

import numpy as np
import pytest
import torch

from otcore.dre import DensityRatioError
from otcore.dre.sample_quality import sample_quality
from otcore.dre.sampling import (MAX_SAMPLES, SamplerConfig, effective_sample_size, resample, sample_energy)
from otcore.gaussians import Gaussian
from otcore.metrics import energy_distance

D = 3
BASE = Gaussian(np.zeros(D), np.eye(D))
TARGET = Gaussian(np.array([0.6, -0.4, 0.2]), np.array([[0.6, 0.2, 0.0], [0.2, 0.5, -0.1], [0.0, -0.1, 0.8]]))


def true_log_ratio(x: torch.Tensor) -> torch.Tensor:
    return TARGET.log_prob(x) - BASE.log_prob(x)


@pytest.mark.parametrize("config", [SamplerConfig(proposals=64),                      # SIR then MALA
                                    SamplerConfig(proposals=64, mala_steps=0),         # SIR alone
                                    SamplerConfig()],                                  # MALA from the base
                         ids=["sir+mala", "sir", "mala (default)"])
def test_samples_match_the_target_moments_and_reach_the_energy_distance_floor(config):
    n = 2000
    drawn = sample_energy(BASE, true_log_ratio, n, config)
    x = drawn.samples.double()
    assert x.shape == (n, D) and torch.isfinite(x).all()
    # standard error of a mean ≤ sqrt(0.8 / 2000) = 0.02; SIR's repeats widen it a little
    assert np.allclose(x.mean(0).numpy(), TARGET.mean, atol=0.06)
    assert np.allclose(np.cov(x.numpy(), rowvar=False), TARGET.cov, atol=0.07)
    exact = TARGET.sample(n, seed=11)
    floor = energy_distance(TARGET.sample(n, seed=12), exact)
    assert energy_distance(drawn.samples, exact) < 2 * floor + 2e-3
    assert energy_distance(BASE.sample(n, seed=13), exact) > 20 * floor     # the test can tell p from q


def _second_moment_of_weights(m: np.ndarray, s2: float) -> float:
    """E_p[w²] = ∫ q²/p for p = N(0, I), q = N(m, s² I), s² < 2 (a Gaussian integral per coordinate)."""
    a = 1 / s2 - 0.5
    per = [1 / (math.sqrt(2 * math.pi) * s2) * math.sqrt(math.pi / a) * math.exp((2 * mi / s2) ** 2 / (4 * a) - mi ** 2 / s2)
           for mi in m]
    return float(np.prod(per))


def test_sir_effective_sample_size_matches_its_closed_form():
    m, s2 = np.array([0.5, 0.5, 0.5, 0.5]), 0.6
    base, target = Gaussian(np.zeros(4), np.eye(4)), Gaussian(m, s2 * np.eye(4))
    drawn = sample_energy(base, lambda x: target.log_prob(x) - base.log_prob(x), 1000,
                          SamplerConfig(proposals=64, mala_steps=0))
    expected = 1 / _second_moment_of_weights(m, s2)        # ESS / K → 1 / E_p[w²] ≈ 0.345
    assert drawn.proposals == 64_000
    assert drawn.ess_fraction == pytest.approx(expected, rel=0.08)
    assert 0 < drawn.distinct <= 1000 and math.isnan(drawn.acceptance)


def test_weights_helpers():
    assert effective_sample_size(torch.zeros(50)) == pytest.approx(50)
    assert effective_sample_size(torch.tensor([0.0, -1e4, -1e4])) == pytest.approx(1.0)
    assert effective_sample_size(torch.tensor([1000.0, 1000.0])) == pytest.approx(2.0)    # no overflow
    idx = resample(torch.tensor([0.0, math.log(3.0), -math.inf]), 40000, torch.Generator().manual_seed(0))
    share = torch.bincount(idx, minlength=3).double() / 40000
    assert share[2] == 0 and float(share[1]) == pytest.approx(0.75, abs=0.01)


def test_mala_acceptance_is_tuned_and_the_sampler_owns_its_generator():
    state = torch.random.get_rng_state()
    a = sample_energy(BASE, true_log_ratio, 500, SamplerConfig(seed=3))
    assert torch.equal(torch.random.get_rng_state(), state)          # the global generator is untouched
    b = sample_energy(BASE, true_log_ratio, 500, SamplerConfig(seed=3))
    c = sample_energy(BASE, true_log_ratio, 500, SamplerConfig(seed=4))
    assert torch.equal(a.samples, b.samples) and not torch.equal(a.samples, c.samples)
    assert 0.4 < a.acceptance < 0.75 and a.step_size > 0
    fixed = sample_energy(BASE, true_log_ratio, 500, SamplerConfig(step_size=0.05))
    assert fixed.step_size == 0.05 and fixed.acceptance > 0.9      # tiny steps are almost always accepted


@pytest.mark.parametrize("n, match", [(0, "between 1 and"), (-5, "between 1 and"), (MAX_SAMPLES + 1, "between 1 and"),
                                      (2.5, "whole number"), (True, "whole number")])
def test_bad_counts_are_refused(n, match):
    with pytest.raises(DensityRatioError, match=match):
        sample_energy(BASE, true_log_ratio, n)


def test_a_model_that_gives_nan_is_refused_and_bad_configs_too():
    with pytest.raises(DensityRatioError, match=r"NaN or infinite at \d+ of 640 base samples"):
        sample_energy(BASE, lambda x: torch.where(x[:, 0] > 0, torch.nan, 0.0), 10, SamplerConfig(proposals=64))
    with pytest.raises(DensityRatioError, match="NaN or infinite at 10 of 10 base samples"):   # MALA alone
        sample_energy(BASE, lambda x: x[:, 0] * torch.nan, 10, SamplerConfig(proposals=1, mala_steps=2))
    for bad in (dict(proposals=0), dict(mala_steps=-1), dict(step_size=-0.1), dict(step_size=math.inf)):
        with pytest.raises(DensityRatioError):
            SamplerConfig(**bad)


def test_sample_quality_puts_the_exact_sampler_at_the_floor_and_the_base_at_zero():
    held_out, real = TARGET.sample(800, seed=1), TARGET.sample(800, seed=2)
    exact = sample_quality(TARGET.sample(800, seed=3), BASE.sample(800, seed=4), real, held_out)
    assert exact.n == 800 and exact.base > 10 * exact.real
    assert abs(exact.gap_closed - 1) < 0.05
    none = sample_quality(BASE.sample(800, seed=5), BASE.sample(800, seed=4), real, held_out)
    assert abs(none.gap_closed) < 0.1
