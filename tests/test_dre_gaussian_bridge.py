"""The closed-form bridge (otcore.dre.gaussian_bridge) against the Gaussian OT closed forms."""
import numpy as np
import pytest
import torch

import otcore
from otcore.dre.gaussian_bridge import GaussianBridge, fit_gaussian
from otcore.gaussians import Gaussian, mccann_marginal, mccann_path


def test_the_path_is_the_mccann_path_and_ends_at_q():
    p, q = otcore.random_gaussian(5, seed=1), otcore.random_gaussian(5, seed=2)
    bridge = GaussianBridge(p, q)
    x = p.sample(20000, seed=3)
    times = torch.tensor([0.0, 0.3, 1.0])
    path = bridge.trajectory(x, times, solver="rk4", steps=7)        # solver arguments are ignored
    assert path.shape == (3, 20000, 5)
    assert torch.allclose(path, mccann_path(p, q, x, times).float(), atol=1e-4)
    assert torch.equal(path[0], x)
    # the pushed sample has q's moments (up to sampling error), and the t = 0.3 slice McCann's
    end = path[-1].double().numpy()
    assert np.abs(end.mean(0) - q.mean).max() < 0.08
    assert np.abs(np.cov(end.T) - q.cov).max() < 0.15 * np.abs(q.cov).max()
    mid = mccann_marginal(p, q, 0.3)
    assert np.abs(np.cov(path[1].double().numpy().T) - mid.cov).max() < 0.15 * np.abs(mid.cov).max()


def test_bad_points_are_refused():
    bridge = GaussianBridge(otcore.random_gaussian(3, seed=0), otcore.random_gaussian(3, seed=1))
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        bridge.trajectory(torch.zeros(4, 2), torch.linspace(0, 1, 3))
    with pytest.raises(ValueError, match="dimension"):
        GaussianBridge(otcore.random_gaussian(3, seed=0), otcore.random_gaussian(2, seed=1))


def test_fit_keeps_the_two_diagonal_blocks_for_the_product_and_survives_a_constant_column():
    z = otcore.correlated_pairs(4, 1.0).sample(5000, seed=0)
    joint, product = fit_gaussian(z), fit_gaussian(z, block=2)
    assert abs(joint.cov[0, 2]) > 0.5 and product.cov[0, 2] == 0.0 and product.cov[2, 0] == 0.0
    assert np.allclose(product.cov[:2, :2], joint.cov[:2, :2]) and np.allclose(product.cov[2:, 2:], joint.cov[2:, 2:])
    z[:, 1] = 3.0                                    # a constant column: still positive definite
    g = fit_gaussian(z)
    assert isinstance(g, Gaussian) and np.linalg.eigvalsh(g.cov).min() > 0
