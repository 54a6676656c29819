"""Keep-best selection: the warm start's cheapest flow within tolerance of its best fit, the
refinement's latest flow that costs less at the fit it started from; nothing non-finite is kept."""
import math

from torch import nn

from otcore.validation import KeepBest, Validation


def _v(fit: float, cost: float) -> Validation:
    return Validation(fit=fit / 2, fit_reverse=fit / 2, transport_cost=cost)


def _weights(value: float) -> nn.Module:
    layer = nn.Linear(1, 1)
    nn.init.constant_(layer.weight, value)
    return layer


def test_the_warm_start_keeps_the_cheapest_flow_within_tolerance_of_its_best_fit():
    keeper = KeepBest(tolerance=0.05)
    # an early flow is cheap but fits badly; later ones fit alike and cost more (detours)
    for i, (fit, cost) in enumerate([(0.060, 8.0), (0.041, 9.5), (0.040, 10.0), (0.050, 9.0), (0.042, 11.0)]):
        keeper.consider(_v(fit, cost), _weights(i))
    assert math.isclose(keeper.best.total_fit, 0.041) and keeper.best.transport_cost == 9.5
    assert float(keeper.state["weight"]) == 1.0
    keeper.consider(_v(0.030, 12.0), _weights(5))   # a clearly better fit: the old choice is out of bounds
    assert keeper.best.transport_cost == 12.0 and float(keeper.state["weight"]) == 5.0


def test_the_refinement_keeps_its_latest_weights_that_cost_less_at_the_fit_it_started_from():
    keeper = KeepBest(tolerance=0.05)
    keeper.consider(_v(0.039, 9.0), _weights(0))
    keeper.consider(_v(0.040, 8.5), _weights(1))   # the warm start keeps 0.040 at 8.5 (within 5 % of 0.039)
    assert float(keeper.state["weight"]) == 1.0
    assert not keeper.consider(_v(0.050, 6.0), _weights(2), refining=True)   # cheaper, but fit given up
    assert keeper.consider(_v(0.041, 7.0), _weights(3), refining=True)       # within 5 % of 0.040, cheaper
    assert keeper.consider(_v(0.0419, 7.5), _weights(4), refining=True)      # later, still within: kept
    assert not keeper.consider(_v(0.041, 8.6), _weights(5), refining=True)   # dearer than the start
    assert keeper.best.transport_cost == 7.5 and float(keeper.state["weight"]) == 4.0


def test_the_refinement_has_a_slack_of_its_own():
    keeper = KeepBest(tolerance=0.01, refine_tolerance=0.05)
    keeper.consider(_v(0.0675, 91.6), _weights(0))
    assert not keeper.consider(_v(0.0690, 80.0), _weights(1))                 # a warm start: 1 % only
    assert keeper.consider(_v(0.0685, 82.4), _weights(2), refining=True)      # 1.5 % above: within 5 %
    assert not keeper.consider(_v(0.0710, 81.0), _weights(3), refining=True)  # 5.2 % above


def test_non_finite_measures_are_never_kept_and_the_state_round_trips():
    keeper = KeepBest(tolerance=0.01)
    assert not keeper.consider(_v(float("nan"), 1.0), _weights(0))
    assert keeper.best is None
    keeper.consider(_v(0.04, 10.0), _weights(1))
    assert keeper.consider(_v(0.0401, 9.0), _weights(2), refining=True)
    again = KeepBest(tolerance=0.01)
    again.load_state_dict(keeper.state_dict())
    assert again.best == keeper.best
    assert not again.consider(_v(0.0406, 8.0), _weights(3), refining=True)   # the same start after reload
    assert not again.consider(_v(0.0401, 10.5), _weights(3), refining=True)
    assert again.consider(_v(0.0403, 9.5), _weights(3), refining=True)


def test_a_fit_within_its_noise_of_the_best_is_as_good():
    import torch
    keeper = KeepBest(tolerance=0.01, noise_z=1.0)
    noise = torch.linspace(-1, 1, 64)               # replicates: std ≈ 0.58 per unit
    early = 0.0307 + 0.002 * noise                    # cheap early weights
    later = 0.0303 + 0.002 * noise.flip(0)          # a 1.3 % better fit, dearer: well inside the noise
    assert keeper.consider(_v(0.0307, 8.1), _weights(0), draws=early)
    assert not keeper.consider(_v(0.0303, 8.8), _weights(1), draws=later)
    assert float(keeper.state["weight"]) == 0.0     # a 1 % slack alone would have moved to the dearer weights
    precise = 0.0250 + 1e-5 * noise                  # a clearly better fit (far outside the noise)
    assert keeper.consider(_v(0.0250, 9.5), _weights(2), draws=precise)
    assert float(keeper.state["weight"]) == 2.0
    again = KeepBest(tolerance=0.01, noise_z=1.0)
    again.load_state_dict(keeper.state_dict())
    assert not again.consider(_v(0.0302, 7.0), _weights(3), draws=later)   # cheap, but far worse than 0.0250
