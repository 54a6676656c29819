import numpy as np
import ot
import pytest
import torch

import otcore
from otcore.gaussians import log_ratio_along_path, ot_map_matrix


@pytest.mark.parametrize("dim", [1, 2, 5])
def test_w2_matches_pot_bures_wasserstein(dim):
    p, q = otcore.random_gaussian(dim, seed=1), otcore.random_gaussian(dim, seed=2)
    ref = float(ot.gaussian.bures_wasserstein_distance(p.mean, q.mean, p.cov, q.cov)) ** 2
    assert otcore.w2_squared(p, q) == pytest.approx(ref, rel=1e-6)


def test_ot_map_pushes_p_onto_q_and_is_a_symmetric_psd_gradient():
    p, q = otcore.random_gaussian(3, seed=5), otcore.random_gaussian(3, seed=6)
    A = ot_map_matrix(p, q)
    assert np.allclose(A, A.T, atol=1e-8) and np.linalg.eigvalsh(A).min() > 0  # gradient of a convex map
    assert np.allclose(A @ p.cov @ A.T, q.cov, atol=1e-8)
    x = p.sample(20000, seed=0)
    y = otcore.ot_map(p, q, x)
    assert np.allclose(y.double().mean(0).numpy(), q.mean, atol=0.08)
    # transport cost of the map is W₂²
    assert ((y - x) ** 2).sum(1).double().mean().item() == pytest.approx(otcore.w2_squared(p, q), rel=0.03)


def test_mccann_velocity_is_the_time_derivative_of_the_path():
    p, q = otcore.random_gaussian(2, seed=1), otcore.random_gaussian(2, seed=2)
    x = p.sample(50, seed=0).double()
    t, h = 0.4, 1e-4
    path = otcore.mccann_path(p, q, x, torch.tensor([t - h, t, t + h], dtype=torch.float64))
    fd = (path[2] - path[0]) / (2 * h)
    assert torch.allclose(otcore.mccann_velocity(p, q, path[1], t), fd, atol=1e-6)


def test_mccann_marginal_matches_pushed_samples_and_log_ratio_telescopes():
    p, q = otcore.random_gaussian(2, seed=3), otcore.random_gaussian(2, seed=4)
    x = p.sample(40000, seed=0).double()
    xt = otcore.mccann_path(p, q, x, torch.tensor([0.3], dtype=torch.float64))[0]
    m = otcore.mccann_marginal(p, q, 0.3)
    assert np.allclose(np.cov(xt.numpy().T), m.cov, atol=0.05 * np.abs(m.cov).max())
    y = q.sample(10, seed=1).double()
    whole = log_ratio_along_path(p, q, y, 0.0, 1.0)
    parts = log_ratio_along_path(p, q, y, 0.0, 0.5) + log_ratio_along_path(p, q, y, 0.5, 1.0)
    assert torch.allclose(whole, parts, atol=1e-9)
    assert torch.allclose(whole, q.log_prob(y) - p.log_prob(y), atol=1e-8)


@pytest.mark.parametrize("dim,mi", [(4, 1.0), (40, 10.0)])
def test_correlated_pairs_has_the_requested_mutual_information(dim, mi):
    g = otcore.correlated_pairs(dim, mi)
    half = dim // 2
    logdet = lambda c: np.linalg.slogdet(c)[1]  # noqa: E731
    exact = 0.5 * (logdet(g.cov[:half, :half]) + logdet(g.cov[half:, half:]) - logdet(g.cov))
    assert exact == pytest.approx(mi, rel=1e-9)


def test_bad_covariances_are_refused():
    with pytest.raises(ValueError, match="positive definite"):
        otcore.Gaussian(np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="2×2"):
        otcore.Gaussian(np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="even"):
        otcore.correlated_pairs(3, 1.0)
