"""The high-dimensional bench's cases carry true OT maps: check the truths they rest on."""
import numpy as np
import pytest
import torch

import otcore
from bench.highdim_cases import best_affine_l2uvp, gauss_case, gaussian_pair, known_map_parts, l2_uvp, map_case


@pytest.mark.parametrize("dim", [4, 8])
def test_known_map_is_the_gradient_of_its_potential(dim):
    mixture, phi = known_map_parts(dim, seed=0)
    x = mixture.sample(64, np.random.default_rng(1)).double().requires_grad_(True)
    (auto,) = torch.autograd.grad(phi.value(x).sum(), x)
    assert torch.allclose(phi.grad(x.detach()), auto, atol=1e-10)


@pytest.mark.parametrize("dim", [4, 8])
def test_potential_is_strongly_convex_at_random_points(dim):
    mixture, phi = known_map_parts(dim, seed=0)
    floor = float(torch.linalg.eigvalsh(phi.A).min())   # the quadratic part alone
    for x in mixture.sample(5, np.random.default_rng(2)).double():
        hessian = torch.autograd.functional.hessian(lambda z: phi.value(z[None]).sum(), x)
        assert torch.allclose(hessian, hessian.T, atol=1e-10)
        assert float(torch.linalg.eigvalsh(hessian).min()) >= floor - 1e-9 > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_known_map_is_far_from_affine(seed):
    case = map_case(16, seed=seed, n=100, n_test=100, mc_points=20_000)
    assert best_affine_l2uvp(case, n=20_000) >= 5.0
    assert case.q_variance < 4 * float(case.P_test.double().var(0).sum())   # Q stays on P's scale


def test_gaussian_true_map_pushes_p_onto_q():
    p, q = gaussian_pair(16, seed=0)
    case = gauss_case(16, seed=0, n=100, n_test=20_000)
    y = case.true_map(case.P_test).double()
    assert np.allclose(y.mean(0).numpy(), q.mean, atol=0.06)   # std error ≤ √(3 / 20,000) ≈ 0.012
    cov = np.cov(y.numpy().T)
    assert np.linalg.norm(cov - q.cov) / np.linalg.norm(q.cov) < 0.06   # expected ≈ 0.03
    moved = ((y - case.P_test.double()) ** 2).sum(1).mean().item()
    assert moved == pytest.approx(case.w2_squared, rel=0.03)
    assert case.q_variance == pytest.approx(float(np.trace(q.cov)))
    assert best_affine_l2uvp(case, n=5000) < 1e-6


def test_cases_are_seeded_and_test_points_are_fresh():
    a, b, other = (map_case(4, seed=seed, n=50, n_test=50, mc_points=1000) for seed in (3, 3, 4))
    assert torch.equal(a.P_train, b.P_train) and a.w2_squared == b.w2_squared
    assert not torch.allclose(a.P_train, other.P_train) and a.w2_squared != other.w2_squared
    assert not torch.allclose(a.P_test, a.P_train) and not torch.allclose(a.Q_test, a.Q_test2)
    assert l2_uvp(a.true_map(a.P_test), a.true_map(a.P_test), a.q_variance) == 0.0
    g1, g2 = gauss_case(8, seed=0, n=10, n_test=10), gauss_case(8, seed=1, n=10, n_test=10)
    assert g1.w2_squared != g2.w2_squared
    assert otcore.w2_squared(*gaussian_pair(8, 0)) == g1.w2_squared
