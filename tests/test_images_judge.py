"""The digit judge and the measures of a translation (issue 5), checked on real digits whose
classes are known, and a short real training judged well above chance."""
import numpy as np
import pytest
import torch

from otcore.images import AEConfig, DigitJudge, digits_split, fit_translator, judge_direction, latent_flow_config
from otcore.images.judge import judged, third_class
from otcore.images.translate import crossfade


@pytest.fixture(scope="module")
def split():
    return digits_split(0)


@pytest.fixture(scope="module")
def judge(split):
    return DigitJudge.from_split(split)


@pytest.mark.parametrize("kind, floor", [("svc", 0.97), ("knn", 0.95)])
def test_judges_read_held_out_digits(split, kind, floor):
    j = DigitJudge.from_split(split, kind)
    acc = float((j.predict(split.images[split.test]) == split.labels[split.test].numpy()).mean())
    assert acc >= floor
    with pytest.raises(ValueError, match="unknown judge"):
        DigitJudge.from_split(split, "oracle")


def test_shares_on_images_of_known_class(split, judge):
    threes, fives = split.part("test", 3), split.part("test", 5)
    assert judged(judge, threes, 3) >= 0.9 and judged(judge, threes, 8) <= 0.1
    assert third_class(judge, threes, 3, 8) <= 0.1            # a 3 is one of the pair (3, 8)
    assert third_class(judge, fives, 3, 8) >= 0.9             # a 5 is a third class
    pred = judge.predict(torch.cat([threes, fives]))
    assert third_class(judge, torch.cat([threes, fives]), 3, 8) == pytest.approx(float(((pred != 3) & (pred != 8)).mean()))
    assert np.isnan(judged(judge, threes[:0], 3))


@pytest.mark.slow
def test_short_training_translates_well_above_chance(split, judge):
    """A short training on a digits subset (0 ↔ 6): the held-out translations are judged the
    target class far above chance (10% for ten classes, 50% for the pair) in both directions."""
    a, b = split.part("train", 0), split.part("train", 6)
    tr = fit_translator(a, b, AEConfig(latent=4, width=16, steps=400, lr=3e-3, seed=0),
                        latent_flow_config(4, warm_steps=300))
    knn = DigitJudge.from_split(split, "knn")
    for rev in (False, True):
        src, tgt_test, tgt_train = ((split.part("test", 6), split.part("test", 0), a) if rev
                                    else (split.part("test", 0), split.part("test", 6), b))
        r = judge_direction(tr, judge, knn, src, tgt_test, tgt_train, (0, 6), rev)
        assert r.judged_target >= 0.75, r
        assert r.n == len(src) and 0 <= r.third_class_half <= 1 and 0 <= r.judged_source_half <= 1
        assert r.crossfade_third_half == third_class(judge, crossfade(src, tgt_train, 0.5), 0, 6)
        assert r.cycle_latent < 0.05                          # the ODE runs back to where it started
        assert r.transport_cost > 0 and r.exact_ot_cost > 0
