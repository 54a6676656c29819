import math

import pytest
import torch

import otcore


@pytest.mark.parametrize("name", otcore.toy_names())
def test_toy_is_seeded_finite_and_in_its_documented_box(name):
    a = otcore.sample(name, 2000, seed=3)
    b = otcore.sample(name, 2000, seed=3)
    c = otcore.sample(name, 2000, seed=4)
    assert a.shape == (2000, 2) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.isfinite(a).all()
    # "most mass inside [-4, 4]²" (module docstring)
    assert (a.abs().max(1).values < 4).float().mean() > 0.97


def test_transformations_rotate_scale_and_shift():
    base = otcore.sample("moons", 500, seed=0)
    moved = otcore.sample("moons", 500, seed=0, rotation=90, scale=2.0, shift=(1.0, -3.0))
    expected = 2.0 * torch.stack([-base[:, 1], base[:, 0]], 1) + torch.tensor([1.0, -3.0])
    assert torch.allclose(moved, expected, atol=1e-5)


def test_eight_gaussians_centres_on_documented_circle():
    x = otcore.sample("8gaussians", 8000, seed=0, noise=0.0)
    radii = x.norm(dim=1)
    assert torch.allclose(radii, torch.full_like(radii, 2.8), atol=1e-5)
    angles = torch.atan2(x[:, 1], x[:, 0]) % (2 * math.pi)
    assert len(torch.unique((angles / (2 * math.pi / 8)).round() % 8)) == 8


def test_unknown_toy_and_bad_n_are_refused():
    with pytest.raises(ValueError, match="unknown toy"):
        otcore.sample("banana", 10)
    with pytest.raises(ValueError, match="at least one"):
        otcore.sample("moons", 0)
