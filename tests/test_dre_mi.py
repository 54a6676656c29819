"""Mutual information through the bridge (otcore.dre.estimate_mutual_information)."""
import pytest
import torch

import otcore
from otcore.dre import DensityRatioConfig, DensityRatioError, estimate_mutual_information
from otcore.dre.config import BRIDGE_FLOW


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
def test_correlated_gaussians_d4_one_nat_within_ten_percent():
    torch.manual_seed(0)
    truth = 1.0
    z = otcore.correlated_pairs(4, truth).sample(20000, seed=3)
    result = estimate_mutual_information(z[:, :2], z[:, 2:], flow_config=BRIDGE_FLOW.replace(warm_steps=400, hidden=128),
                                         seed=0)
    assert abs(result.estimate - truth) < 0.1 * truth
    assert result.one_step is not None and result.n_test == 4000 and result.stderr < 0.03
    # the pointwise log-ratio averages to the estimate on the held-out pairs it was measured on
    fresh = otcore.correlated_pairs(4, truth).sample(20000, seed=11)
    assert abs(float(result.pointwise(fresh[:, :2], fresh[:, 2:]).mean()) - truth) < 0.1 * truth


def test_the_bridge_direction_is_checked_and_both_directions_give_the_same_sign():
    z = otcore.correlated_pairs(4, 1.0).sample(600, seed=0)
    with pytest.raises(DensityRatioError, match="direction"):
        estimate_mutual_information(z[:, :2], z[:, 2:], direction="sideways")
    small = dict(config=DensityRatioConfig(steps=40, batch=64, slices=4), one_step=False,
                 flow_config=BRIDGE_FLOW.replace(warm_steps=40, hidden=32))
    for direction in ("joint-to-product", "product-to-joint"):
        r = estimate_mutual_information(z[:, :2], z[:, 2:], direction=direction, **small)
        assert r.direction == direction and r.estimate > 0.2       # positive either way (truth 1 nat)
        pts = r.pointwise(z[:50, :2], z[:50, 2:])
        assert pts.shape == (50,) and torch.isfinite(pts).all()
