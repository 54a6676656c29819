import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment

import otcore
from otcore.metrics import energy_distance, exact_ot_cost, inversion_error


def test_exact_ot_cost_matches_an_assignment_solver():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(60, 3, generator=g), torch.randn(60, 3, generator=g) + 1
    cost = torch.cdist(x.double(), y.double()) ** 2
    r, c = linear_sum_assignment(cost.numpy())
    cost_value, method = exact_ot_cost(x, y)
    assert method == "exact"
    assert cost_value == pytest.approx(float(cost[r, c].mean()), rel=1e-9)


def test_large_samples_fall_back_to_a_labelled_subsample():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(1200, 2, generator=g), torch.randn(1200, 2, generator=g) * 0.5 + 2
    exact, _ = exact_ot_cost(x, y)
    approx, method = exact_ot_cost(x, y, max_exact=600)
    assert method == "subsample"
    assert approx == pytest.approx(exact, rel=0.05)


def test_energy_distance_is_zero_on_itself_and_grows_with_a_shift():
    x = otcore.sample("gaussian", 1500, seed=0)
    y = otcore.sample("gaussian", 1500, seed=1)
    same = energy_distance(x, x)
    floor = energy_distance(x, y)
    near, far = energy_distance(x, y + 0.3), energy_distance(x, y + 1.0)
    assert same == pytest.approx(0.0, abs=1e-9)
    assert 0 < floor < near < far
    # the energy distance is translation-invariant
    assert energy_distance(x + 5, y + 5) == pytest.approx(floor, rel=1e-6)


def test_inversion_error():
    x = torch.zeros(4, 2)
    assert inversion_error(x, x + torch.tensor([3.0, 4.0])) == pytest.approx(5.0)
    assert np.isclose(inversion_error(x, x), 0.0)
