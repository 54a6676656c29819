"""Quadrature and telescoping loss of the time score (otcore.dre.time_score): exact on polynomials."""
import math

import pytest
import torch

from otcore.dre.time_score import integrate, interval_knots, panel_integrals, telescoping_loss


def cubic(s, x):
    """r(x, s) = x₀ s³ − 2 x₁ s + 1, so ∫_a^b r ds = x₀(b⁴ − a⁴)/4 − x₁(b² − a²) + (b − a)."""
    return x[:, 0] * s ** 3 - 2 * x[:, 1] * s + 1


def exact(x, a, b):
    return x[:, 0] * (b ** 4 - a ** 4) / 4 - x[:, 1] * (b ** 2 - a ** 2) + (b - a)


@pytest.mark.parametrize("a,b", [(0.0, 1.0), (0.2, 0.35), (0.9, 0.1)])
def test_simpson_three_eighths_is_exact_on_cubics(a, b):
    x = torch.randn(50, 2, dtype=torch.float64)
    got = panel_integrals(cubic, x, torch.tensor([a, b], dtype=torch.float64))[0]
    assert torch.allclose(got, exact(x, a, b), atol=1e-12)


def test_panels_add_up_and_reverse_to_the_negative():
    x = torch.randn(20, 2, dtype=torch.float64)
    knots = torch.tensor([0.0, 0.1, 0.45, 0.5, 1.0], dtype=torch.float64)
    whole = integrate(cubic, x, knots)
    assert torch.allclose(whole, exact(x, 0.0, 1.0), atol=1e-12)
    assert torch.allclose(integrate(cubic, x, knots.flip(0)), -whole, atol=1e-12)


def test_interval_knots_follow_the_grid():
    grid = torch.linspace(0, 1, 5)
    assert interval_knots(grid, 0.0, 1.0).tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1])
    assert interval_knots(grid, 0.3, 0.6).tolist() == pytest.approx([0.3, 0.5, 0.6])
    assert interval_knots(grid, 0.6, 0.3).tolist() == pytest.approx([0.6, 0.5, 0.3])


def test_chance_level_and_the_true_log_ratio_is_better():
    """With r ≡ 0 each interval costs 2·log 2; the exact time score of a 1-D Gaussian path
    p_s = N(2s, 1) (∂_s log p_s = 2(x − 2s)) scores lower."""
    torch.manual_seed(0)
    times = torch.linspace(0, 1, 5)
    slices = [2 * t + torch.randn(4000, 1) for t in times]
    zero = telescoping_loss(lambda s, x: torch.zeros(len(x)), slices, times)
    assert zero.total.item() == pytest.approx(4 * 2 * math.log(2), rel=1e-6)
    true = telescoping_loss(lambda s, x: 2 * (x[:, 0] - 2 * s), slices, times)
    assert true.total.item() < zero.total.item() - 0.1
    assert true.per_interval.shape == (4,)
