"""The static maps of otcore.compare against exact answers: POT's exact plan, the Gaussian closed form."""
import numpy as np
import ot
import pytest
import torch

import otcore
from otcore.compare import CompareConfig, Comparison, barycentric_map, exact_pairs, make_problem, run_method, straight_paths


def _clouds(n, seed, shift=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=g, dtype=torch.float64), torch.randn(n, 2, generator=g, dtype=torch.float64) * 0.5 + shift


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_pairs_cost_equals_emd2_and_pairs_are_a_permutation(seed):
    x, y = _clouds(60, seed)
    pairs = exact_pairs(x, y)
    a = np.full(60, 1 / 60)
    emd2 = ot.emd2(a, a, ot.dist(x.numpy(), y.numpy()))
    assert pairs.cost == pytest.approx(emd2, rel=1e-10)
    assert ((pairs.source - pairs.target) ** 2).sum(1).mean().item() == pytest.approx(emd2, rel=1e-10)
    assert torch.equal(pairs.source, x)
    assert torch.equal(pairs.target[torch.argsort(pairs.target[:, 0])], y[torch.argsort(y[:, 0])])  # every y once


def test_entropic_barycentric_map_tends_to_the_exact_matching_as_eps_goes_to_zero():
    x, y = _clouds(16, 0)
    target = exact_pairs(x, y).target
    errors = [float((barycentric_map(x, y, eps, iters=1000) - target).norm(dim=1).max())
              for eps in (0.1, 0.01, 0.001, 0.0001)]
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 1e-4 * float(y.std())
    # and a very blurred plan sends every point to the mean of y
    assert torch.allclose(barycentric_map(x, y, 1e3), y.mean(0).expand_as(x), atol=1e-3)


def test_closed_form_agrees_with_exact_discrete_ot_on_a_gaussian_pair():
    p, q = otcore.random_gaussian(2, seed=3), otcore.random_gaussian(2, seed=4)
    P, Q = p.sample(3000, seed=0), q.sample(3000, seed=1)
    problem = make_problem(P, Q, CompareConfig(exact_points=1500, particles=50), gaussians=(p, q))
    closed, exact = run_method("closed-form", problem), run_method("exact", problem)
    w2 = otcore.w2_squared(p, q)
    assert exact.cost == pytest.approx(problem.exact_cost, rel=1e-9)
    # both estimate W₂²(p, q) from 1,500 points: the closed-form map's cost and POT's plan cost agree
    assert closed.cost == pytest.approx(w2, rel=0.05)
    assert closed.cost_ratio == pytest.approx(1.0, abs=0.05)
    # the map sends the points where POT's matching sends them, up to the matching's sampling noise
    gap = ((closed.paths[-1] - exact.paths[-1]) ** 2).sum(1).mean().item()
    assert gap < 0.03 * float(np.trace(q.cov))
    assert closed.fit < 3 * exact.fit + 1e-3   # both at the noise floor of the held-out Q


def test_fitted_gaussians_are_offered_only_when_asked():
    P, Q = otcore.sample("moons", 500, seed=0), otcore.sample("8gaussians", 500, seed=1)
    assert make_problem(P, Q).gaussians is None
    fitted = make_problem(P, Q, fit_gaussians=True)
    assert fitted.gaussians_fitted and np.allclose(fitted.gaussians[0].mean, P.double().mean(0).numpy())
    assert "fitted" in run_method("closed-form", fitted).note


def test_static_paths_are_mccann_straight_lines_with_nan_inversion():
    P, Q = otcore.sample("moons", 400, seed=0), otcore.sample("8gaussians", 400, seed=1)
    problem = make_problem(P, Q, CompareConfig(particles=40, frames=5, exact_points=200))
    for name in ("exact", "entropic"):
        r = run_method(name, problem)
        assert r.paths.shape == (5, 40, 2) and torch.equal(r.paths[0], problem.drawn)
        assert torch.allclose(r.paths, straight_paths(r.paths[0], r.paths[-1], problem.times), atol=1e-6)
        assert r.straightness == 1.0 and np.isnan(r.inversion_error) and not r.is_flow
    assert run_method("exact", problem).pairs.source.shape == (200, 2)


def test_redo_moves_only_the_entropic_map_to_a_new_eps():
    P, Q = otcore.sample("moons", 400, seed=0), otcore.sample("8gaussians", 400, seed=1)
    comparison = Comparison(make_problem(P, Q, CompareConfig(exact_points=150, particles=20, eps=1.0)),
                            ["exact", "entropic"])
    list(comparison.run())
    exact, blurred = comparison.results["exact"], comparison.results["entropic"]
    sharp = comparison.redo("entropic", eps=0.001)
    assert comparison.results["exact"] is exact and comparison.results["entropic"] is sharp
    assert "0.001" in sharp.label and torch.equal(sharp.paths[0], blurred.paths[0])   # same particles
    # a sharper plan: cost closer to the exact one, the map closer to the matching
    assert abs(sharp.cost_ratio - 1) < abs(blurred.cost_ratio - 1)
    assert ((sharp.paths[-1] - exact.paths[-1]) ** 2).sum(1).mean() < ((blurred.paths[-1] - exact.paths[-1]) ** 2).sum(1).mean()
    with pytest.raises(ValueError):
        comparison.redo("entropic", particles=5)   # would change the particles
