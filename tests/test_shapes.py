"""Drawn shape domains: every image shows one shape with the attributes it reports, anti-aliased
(its coverage integrates to the shape's area), in [0, 1], the same for the same seed; the colours
are HSV converted as the standard library converts them; the built-ins need no download."""
import colorsys

import pytest
import torch

from otcore.images import BUILTIN, draw_shapes, resolve_domain, shape_parts
from otcore.images.shapes import HALF_WIDTH, SHAPES, coverage, hsv_to_rgb, render


@pytest.mark.parametrize("shape", list(SHAPES))
def test_images_hold_one_shape_with_the_reported_attributes(shape):
    s = draw_shapes(shape, 64, side=32, seed=4)
    assert s.images.shape == (64, 3, 32, 32) and s.images.dtype == torch.float32
    assert s.centres.shape == (64, 2) and s.sizes.shape == (64,) and s.colours.shape == (64, 3)
    assert 0 <= s.images.min() and s.images.max() <= 1
    lo, hi = HALF_WIDTH
    assert (s.sizes >= lo * 32).all() and (s.sizes <= hi * 32).all()
    assert (s.centres - s.sizes[:, None] >= 1 - 1e-5).all() and (s.centres + s.sizes[:, None] <= 31 + 1e-5).all()
    # the pixel under the centre shows the colour; the corner pixels are background
    col, row = s.centres.floor().long().unbind(1)
    centre_px = s.images[torch.arange(64), :, row, col]
    torch.testing.assert_close(centre_px, s.colours)
    assert float(s.images[:, :, [0, -1]][:, :, :, [0, -1]].abs().max()) == 0.0
    # anti-aliased: the coverage integrates to the shape's area, and edges hold partial pixels
    alpha = coverage(shape, s.centres, s.sizes, 32)
    area = SHAPES[shape][1] * s.sizes ** 2
    torch.testing.assert_close(alpha.flatten(1).sum(1), area, rtol=1e-5 if shape == "square" else 0.02, atol=0.0)
    assert ((alpha > 0.05) & (alpha < 0.95)).any(dim=(1, 2)).all()


def test_a_seed_draws_the_same_images_and_another_seed_others():
    a, b, c = draw_shapes("circle", 10, seed=1), draw_shapes("circle", 10, seed=1), draw_shapes("circle", 10, seed=2)
    assert torch.equal(a.images, b.images) and torch.equal(a.centres, b.centres)
    assert not torch.equal(a.images, c.images)
    state = torch.random.get_rng_state()
    draw_shapes("square", 5, seed=0)
    assert torch.equal(state, torch.random.get_rng_state())            # no global RNG touched
    assert draw_shapes("square", 3, side=16).images.shape == (3, 3, 16, 16)
    with pytest.raises(ValueError, match="unknown shape"):
        draw_shapes("triangle", 3)


def test_a_square_is_exact_on_the_pixel_grid():
    img = render("square", torch.tensor([[8.0, 8.0]]), torch.tensor([3.0]), torch.tensor([[1.0, 0.5, 0.0]]), side=16)
    alpha = img[0, 0]
    assert float(alpha.sum()) == 36.0 and float(alpha[5:11, 5:11].min()) == 1.0    # pixels 5 … 10 exactly
    half = render("square", torch.tensor([[8.5, 8.5]]), torch.tensor([3.0]), torch.ones(1, 3), side=16)[0, 0]
    assert float(half.sum()) == pytest.approx(36.0) and float(half[8, 5]) == 0.5 and float(half[5, 5]) == 0.25


def test_hsv_matches_the_standard_library():
    g = torch.Generator().manual_seed(0)
    hsv = torch.rand(200, 3, generator=g)
    expected = torch.tensor([colorsys.hsv_to_rgb(*map(float, row)) for row in hsv])
    torch.testing.assert_close(hsv_to_rgb(hsv), expected, atol=1e-6, rtol=0)


def test_builtin_shapes_need_no_download_and_hold_out_a_gallery():
    for name, shape in (("circles (32×32 RGB)", "circle"), ("squares (32×32 RGB)", "square")):
        train, gallery = BUILTIN[name]()
        assert train.images.shape[1:] == (3, 32, 32) and len(train) == 400 and len(gallery) == 24
        assert train.name == gallery.name == f"{shape}s"
        assert torch.equal(train.images, shape_parts(shape)[0].images)
        assert torch.cdist(gallery.images.flatten(1), train.images.flatten(1)).min() > 0   # no shared image
    assert resolve_domain("squares").images.shape == (400, 3, 32, 32)
    assert resolve_domain("circles", size=16).images.shape == (400, 3, 16, 16)
