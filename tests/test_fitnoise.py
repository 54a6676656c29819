"""The bootstrap standard error of a difference of held-out fits matches its true sampling spread."""
import torch

from otcore.fitnoise import (difference_noise, energy_distance_replicates, resampling_weights,
                             self_distance_replicates)
from otcore.metrics import energy_distance


def test_resampling_weights_are_multinomial_counts():
    w = resampling_weights(50, 16, torch.Generator().manual_seed(0))
    assert w.shape == (16, 50) and torch.all(w.sum(1) == 50) and torch.all(w >= 0)
    assert torch.equal(w, w.round())


def test_replicates_centre_on_the_energy_distance():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(300, 4, generator=g), torch.randn(300, 4, generator=g) + 0.5
    wx, wy = resampling_weights(300, 64, g), resampling_weights(300, 64, g)
    draws = energy_distance_replicates(x, y, wx, wy)
    assert torch.allclose(energy_distance_replicates(x, y, wx, wy, self_distance_replicates(y, wy)), draws)
    assert abs(float(draws.mean()) - energy_distance(x, y)) < 3 * float(draws.std())


def test_the_paired_standard_error_matches_the_spread_over_fresh_samples():
    """Two maps of the same held-out points: the spread of (fit A − fit B) over 120 fresh draws of
    the points against the bootstrap estimate from a single draw."""
    d, n = 6, 250
    g = torch.Generator().manual_seed(2)
    shift = torch.full((d,), 0.15)

    def fits(P, Q):
        return energy_distance(P + shift, Q), energy_distance(1.1 * P, Q)

    diffs = []
    for _ in range(120):
        a, b = fits(torch.randn(n, d, generator=g), torch.randn(n, d, generator=g))
        diffs.append(a - b)
    truth = float(torch.tensor(diffs).std())
    P, Q = torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)
    wP, wQ = resampling_weights(n, 64, g), resampling_weights(n, 64, g)
    estimate = difference_noise(energy_distance_replicates(P + shift, Q, wP, wQ),
                                energy_distance_replicates(1.1 * P, Q, wP, wQ))
    assert 0.6 * truth < estimate < 1.6 * truth, (estimate, truth)
