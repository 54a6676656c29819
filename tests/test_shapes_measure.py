"""Measuring shape translations against known truth: drawn images are read back exactly, the
judge names the drawn shape and refuses what is no single shape, a perfect translation (the same
attributes redrawn as the other shape) scores perfectly, and known errors are reported as such."""
import numpy as np
import pytest
import torch

from otcore.images import diversity, draw_shapes, judge_shapes, mean_pairwise_distance, measure_direction, measure_shapes
from otcore.images.shape_measure import estimate
from otcore.images.shapes import SHAPES, ShapeSet, render


def redraw(s: ShapeSet, shape: str, shift=(0.0, 0.0), scale=1.0, colours=None) -> torch.Tensor:
    return render(shape, s.centres + torch.tensor(shift), s.sizes * scale,
                  s.colours if colours is None else colours, s.side)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_drawn_images_are_read_back(shape):
    s = draw_shapes(shape, 300, seed=7)
    est = estimate(s.images, shape)
    assert float((est.centres - s.centres).norm(dim=1).max()) < 0.15
    assert float(((est.sizes - s.sizes).abs() / s.sizes).max()) < 0.015
    assert float((est.colours - s.colours).norm(dim=1).max()) < 0.03
    assert (judge_shapes(s.images) == shape).all()


def test_the_judge_refuses_what_is_not_one_shape():
    circles, squares = draw_shapes("circle", 20, seed=1), draw_shapes("square", 20, seed=2)
    g = torch.Generator().manual_seed(0)
    dark = 0.1 * torch.rand(5, 3, 32, 32, generator=g)
    haze = 0.5 * torch.rand(5, 3, 32, 32, generator=g)
    two = render("circle", torch.tensor([[7.0, 7.0]]), torch.tensor([4.0]), torch.ones(1, 3)) + \
        render("square", torch.tensor([[24.0, 24.0]]), torch.tensor([4.0]), torch.ones(1, 3))
    assert (judge_shapes(torch.cat([dark, haze, two])) == "none").all()
    mixed = torch.cat([circles.images, squares.images])
    np.testing.assert_array_equal(judge_shapes(mixed), np.array(["circle"] * 20 + ["square"] * 20, dtype=object))


def test_a_perfect_translation_and_known_errors():
    circles = draw_shapes("circle", 100, seed=3)
    perfect = measure_shapes(circles, redraw(circles, "square"), "square")
    assert perfect.judged_target == 1.0 and perfect.n == 100
    assert perfect.position_error < 0.05 and perfect.size_error < 0.005 and perfect.colour_error < 0.01
    identity = measure_shapes(circles, circles.images, "square")
    assert identity.judged_target == 0.0                          # still circles: not translated
    shifted = measure_shapes(circles, redraw(circles, "square", shift=(1.5, -2.0)), "square")
    assert shifted.position_error == pytest.approx(2.5, abs=0.05)
    bigger = measure_shapes(circles, redraw(circles, "square", scale=1.2), "square")
    assert bigger.size_error == pytest.approx(0.2, abs=0.01)
    grey = torch.full((100, 3), 0.5)
    recoloured = measure_shapes(circles, redraw(circles, "square", colours=grey), "square")
    expected = float((grey - circles.colours).norm(dim=1).mean())
    assert recoloured.colour_error == pytest.approx(expected, abs=0.01)
    with pytest.raises(ValueError, match="outputs"):
        measure_shapes(circles, circles.images[:3], "square")


def test_spread_is_a_ratio_of_mean_pairwise_distances():
    x = torch.zeros(3, 1, 2, 2)
    x[1, 0, 0, 0], x[2, 0, 0, 0] = 1.0, 3.0                     # distances 1, 3, 2
    assert mean_pairwise_distance(x) == pytest.approx(2.0)
    assert diversity(x, x) == pytest.approx(1.0) and diversity(x, 2 * x) == pytest.approx(0.5)
    assert diversity(x[:1].expand(3, -1, -1, -1), x) == 0.0        # one prototype repeated
    with pytest.raises(ValueError):
        mean_pairwise_distance(x[:1])


class Redrawing:
    """A stand-in translator that redraws each source as the other shape from its true attributes,
    with an identity autoencoder: the measure of a perfect translation."""
    class Identity(torch.nn.Module):
        def forward(self, x):
            return x

    def __init__(self, sources: dict[str, ShapeSet]):
        self.autoencoder, self.sources = self.Identity(), sources

    def translate(self, images, reverse=False):
        src = self.sources["square" if reverse else "circle"]
        assert torch.equal(images, src.images)
        return redraw(src, "circle" if reverse else "square")


def test_measure_direction_on_a_perfect_translator():
    circles, squares = draw_shapes("circle", 120, seed=5), draw_shapes("square", 120, seed=6)
    tr = Redrawing({"circle": circles, "square": squares})
    for rev, (src, tgt) in ((False, (circles, squares)), (True, (squares, circles))):
        r = measure_direction(tr, src, tgt, rev)
        assert r.shapes.judged_target == 1.0 and r.ceiling == 1.0
        assert r.shapes.position_error < 0.05 and r.shapes.colour_error < 0.01
        assert r.reconstruction_error == 0.0 and r.reconstruction_diversity == pytest.approx(1.0)
        assert r.diversity == pytest.approx(1.0, abs=0.1)        # as varied as real targets (other draws)
