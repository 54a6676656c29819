"""Energy-based density of a data set: Gaussian base × ∫ time score (otcore.dre.energy)."""
import math

import numpy as np
import pytest
import torch

import otcore
from otcore.dre import DensityRatioConfig, DensityRatioError, fit_energy_density, load_digits_dequantized
from otcore.dre.config import BRIDGE_FLOW
from otcore.dre.energy import fit_gaussian


def test_digits_are_dequantized_levels():
    x = load_digits_dequantized(seed=0)
    assert x.shape == (1797, 64) and x.dtype == torch.float32
    assert float(x.min()) >= 0.0 and float(x.max()) < 17.0
    assert torch.equal(x, load_digits_dequantized(seed=0)) and not torch.equal(x, load_digits_dequantized(seed=1))
    frac = x - x.floor()
    assert abs(float(frac.mean()) - 0.5) < 0.01      # uniform dequantisation noise


def test_fitted_gaussian_matches_the_sample_moments():
    g = otcore.Gaussian(np.array([1.0, -2.0]), np.array([[2.0, 0.5], [0.5, 1.0]]))
    fit = fit_gaussian(g.sample(20000, seed=0))
    assert np.allclose(fit.mean, g.mean, atol=0.05) and np.allclose(fit.cov, g.cov, atol=0.06)


def test_bad_data_raise_the_clear_error():
    with pytest.raises(DensityRatioError, match="at least 20"):
        fit_energy_density(torch.randn(5, 2))
    with pytest.raises(DensityRatioError, match="dimension"):
        fit_energy_density(torch.randn(100, 2), test=torch.randn(10, 3))


@pytest.mark.slow
def test_energy_density_of_moons_beats_the_gaussian_alone():
    data = otcore.sample("moons", 3000, seed=0)
    result = fit_energy_density(data, config=DensityRatioConfig(steps=300, batch=128),
                                flow_config=BRIDGE_FLOW.replace(warm_steps=400, hidden=64, depth=2), seed=0)
    assert set(result.nll) == {"gaussian", "one_step", "infinitesimal"}
    assert result.nll["infinitesimal"] < result.nll["gaussian"] - 0.3
    assert result.bits_per_dim["gaussian"] == pytest.approx(result.nll["gaussian"] / (2 * math.log(2)))
    x = data[:50]
    assert torch.allclose(result.log_prob(x), result.base.log_prob(x) + result.ratio.log_ratio(x))
