"""Normal scores (otcore.dre.normal_scores): ranks, ties, the range, and the marginals they give."""
import math

import pytest
import torch

from otcore.dre.normal_scores import NormalScores


def test_training_values_get_their_mid_ranks_and_points_between_interpolate():
    ns = NormalScores.fit(torch.tensor([[3.0], [1.0], [2.0], [2.0], [5.0]]))
    ranks = ns.ranks(torch.tensor([[1.0], [2.0], [3.0], [5.0], [4.0], [1.5], [-9.0], [9.0]]))[:, 0]
    # sorted 1, 2, 2, 3, 5: knots at k + ½; the tied 2s share 2.0; 4 lies halfway from 3 (3.5) to 5 (4.5)
    assert ranks.tolist() == [0.5, 2.0, 3.5, 4.5, 4.0, 1.0, 0.5, 4.5]


def test_scores_are_monotone_and_standard_normal_whatever_the_marginal():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(20000, 3, generator=gen)
    x = torch.stack([x[:, 0] ** 3, x[:, 1].exp(), torch.sigmoid(4 * x[:, 2])], 1)   # heavy, skewed, bounded
    z = NormalScores.fit(x).forward(x)
    assert z.dtype == torch.float32 and torch.isfinite(z).all()
    assert z.mean(0).abs().max() < 1e-3 and (z.std(0) - 1).abs().max() < 0.01
    for j in range(3):
        order = x[:, j].argsort()
        assert (z[order, j].diff() >= 0).all()
    # the normal quantile of the extreme knot, also beyond the range
    edge = math.sqrt(2) * torch.erfinv(torch.tensor(1 - 1 / 20000.0)).item()
    assert NormalScores.fit(x).forward(torch.tensor([[1e9, 1e9, 2.0]]))[0].tolist() == pytest.approx([edge] * 3, rel=1e-5)


def test_too_few_samples_are_refused():
    with pytest.raises(ValueError, match="n ≥ 2"):
        NormalScores.fit(torch.zeros(1, 3))


def test_the_weight_average_is_what_is_validated_and_kept():
    import otcore
    from otcore.dre import DensityRatioConfig, DensityRatioError
    from otcore.dre.gaussian_bridge import GaussianBridge
    from otcore.dre.trainer import DensityRatioTrainer
    with pytest.raises(DensityRatioError, match="ema"):
        DensityRatioConfig(ema=1.0)
    p, q = otcore.random_gaussian(3, seed=1), otcore.random_gaussian(3, seed=2)
    cfg = DensityRatioConfig(ema=0.9, steps=30, validate_every=30, batch=64)
    trainer = DensityRatioTrainer(GaussianBridge(p, q), p.sample(2000, seed=0), q.sample(2000, seed=1), cfg)
    for _ in trainer.run():
        pass
    trained = dict(trainer.net.named_parameters())
    kept = trainer.ratio.net.state_dict()
    averaged = dict(trainer._avg.named_parameters())
    assert all(torch.equal(kept[k], averaged[k]) for k in averaged)
    assert any(not torch.equal(kept[k], trained[k]) for k in trained)
