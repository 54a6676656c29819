"""Mutual information through the bridge (otcore.dre.estimate_mutual_information)."""
import pytest
import torch

import otcore
from otcore.dre import DensityRatioConfig, DensityRatioError, estimate_mutual_information
from otcore.dre.config import BRIDGE_FLOW
from otcore.dre.mutual_information import MI_RATIO


def test_bad_inputs_raise_the_clear_error():
    x = torch.randn(200, 2)
    with pytest.raises(DensityRatioError, match="paired row by row"):
        estimate_mutual_information(x, torch.randn(150, 2))
    with pytest.raises(DensityRatioError, match="NaN"):
        estimate_mutual_information(x, torch.full((200, 2), float("nan")))
    with pytest.raises(DensityRatioError, match=r"\(n, d\)"):
        estimate_mutual_information(x, torch.randn(200))
    with pytest.raises(DensityRatioError, match="at least 50"):
        estimate_mutual_information(x[:20], x[:20])


@pytest.mark.slow
def test_correlated_gaussians_d4_one_nat_within_five_percent():
    truth = 1.0
    z = otcore.correlated_pairs(4, truth).sample(20000, seed=3)
    result = estimate_mutual_information(z[:, :2], z[:, 2:], seed=0)
    assert abs(result.estimate - truth) < 0.05 * truth
    assert result.one_step is not None and result.n_test == 4000 and result.stderr < 0.03
    # the pointwise log-ratio averages to the estimate on the held-out pairs it was measured on
    fresh = otcore.correlated_pairs(4, truth).sample(20000, seed=11)
    assert abs(float(result.pointwise(fresh[:, :2], fresh[:, 2:]).mean()) - truth) < 0.1 * truth


@pytest.mark.slow
def test_d20_five_nats_within_five_percent():
    truth = 5.0
    z = otcore.correlated_pairs(20, truth).sample(20000, seed=1017)    # a data seed the bench does not use
    result = estimate_mutual_information(z[:, :10], z[:, 10:], seed=4, one_step=False)
    assert abs(result.estimate / truth - 1) < 0.05


@pytest.mark.slow
def test_skewed_heavy_tailed_marginals_do_not_change_the_estimate():
    """MI is unchanged by an increasing map of each coordinate, and so is the estimate: the normal
    scores see only ranks."""
    z = otcore.correlated_pairs(4, 1.0).sample(8000, seed=5)
    small = dict(seed=0, one_step=False, config=MI_RATIO.replace(steps=150))
    plain = estimate_mutual_information(z[:, :2], z[:, 2:], **small)
    warped_x, warped_y = z[:, :2] ** 3 + z[:, :2], torch.exp(z[:, 2:])
    warped = estimate_mutual_information(warped_x, warped_y, **small)
    assert warped.estimate == pytest.approx(plain.estimate, abs=1e-5) and abs(plain.estimate - 1.0) < 0.1
    standardized = estimate_mutual_information(warped_x, warped_y, marginals="standardize", **small)
    assert standardized.estimate < 0.9 * plain.estimate     # without them the Gaussian bridge misses the warp


def test_the_bridge_direction_is_checked_and_both_directions_give_the_same_sign():
    z = otcore.correlated_pairs(4, 1.0).sample(600, seed=0)
    for bad in (dict(direction="sideways"), dict(bridge="straight"), dict(marginals="ranks")):
        with pytest.raises(DensityRatioError, match=next(iter(bad))):
            estimate_mutual_information(z[:, :2], z[:, 2:], **bad)
    small = dict(config=DensityRatioConfig(steps=40, batch=64, slices=4), one_step=False,
                 flow_config=BRIDGE_FLOW.replace(warm_steps=40, hidden=32))
    for direction, bridge in (("joint-to-product", "flow"), ("product-to-joint", "flow"), ("joint-to-product", "gaussian")):
        r = estimate_mutual_information(z[:, :2], z[:, 2:], direction=direction, bridge=bridge, **small)
        assert r.direction == direction and r.estimate > 0.2       # positive either way (truth 1 nat)
        pts = r.pointwise(z[:50, :2], z[:50, 2:])
        assert pts.shape == (50,) and torch.isfinite(pts).all()
