"""Trajectory data and animation: checked on a pure translation, whose OT paths are exact."""
import numpy as np
import pytest
import torch

import otcore
from otcore.projection import pca_view
from otcore.viz.trajectories import arrow_scale, lattice, trajectory_animation, trajectory_data


class Translation:
    """The exact OT flow between N(m, Σ) and N(m + s, Σ): x(t) = x(t₀) + (t − t₀) s, v = s.
    Has the two methods of otcore.OTFlow that the figure code uses."""

    def __init__(self, shift):
        self.shift = torch.as_tensor(shift, dtype=torch.float32)
        self.dim = len(self.shift)

    def trajectory(self, x, times):
        return x[None] + (times - times[0])[:, None, None] * self.shift

    def velocity(self, x, t):
        return self.shift.expand_as(x).clone()


@pytest.fixture
def gaussian_shift_pair():
    cov = np.array([[1.0, 0.3], [0.3, 0.5]])
    p = otcore.Gaussian(np.zeros(2), cov)
    q = otcore.Gaussian(np.array([3.0, -1.0]), cov)
    return p, q, Translation([3.0, -1.0])


@pytest.mark.parametrize("reverse", [False, True])
def test_translation_paths_match_the_closed_form_mccann_paths(gaussian_shift_pair, reverse):
    p, q, flow = gaussian_shift_pair
    x = (q if reverse else p).sample(200, seed=0)
    data = trajectory_data(flow, x, frames=11, reverse=reverse, background={"P": p.sample(300), "Q": q.sample(300)},
                           gaussians=(p, q))
    assert data.paths.shape == (11, 200, 2) and data.reference.shape == (11, 200, 2)
    np.testing.assert_allclose(data.times, np.linspace(1, 0, 11) if reverse else np.linspace(0, 1, 11), atol=1e-6)
    np.testing.assert_allclose(data.paths, data.reference, atol=1e-4)
    np.testing.assert_allclose(data.paths[0], x.numpy(), atol=1e-6)      # particles start where given
    end = x.numpy() + (-1 if reverse else 1) * np.array([3.0, -1.0])
    np.testing.assert_allclose(data.paths[-1], end, atol=1e-5)
    # arrows show the direction of motion: +s forward, −s backward, all equal, fastest 0.9 grid spacings
    direction = np.array([3.0, -1.0]) / np.hypot(3.0, -1.0) * (-1 if reverse else 1)
    unit = data.arrow_vectors / np.linalg.norm(data.arrow_vectors, axis=-1, keepdims=True)
    np.testing.assert_allclose(unit, np.broadcast_to(direction, unit.shape), atol=1e-6)
    assert data.arrow_bases.shape == (11, 15 * 15, 2)


def test_arrows_follow_the_particles_in_a_projected_view():
    rng = np.random.default_rng(0)
    shift = np.array([1.0, 0.0, 2.0, 0.0])
    flow = Translation(shift)
    x = torch.as_tensor(rng.standard_normal((300, 4)), dtype=torch.float32)
    view = pca_view(x, x + torch.as_tensor(shift, dtype=torch.float32))
    data = trajectory_data(flow, x, frames=5, view=view)
    np.testing.assert_allclose(data.paths, view.points(flow.trajectory(x, torch.linspace(0, 1, 5))), atol=1e-5)
    assert data.arrow_bases.shape == (5, 150, 2)
    np.testing.assert_allclose(data.arrow_bases, data.paths[:, :150], atol=1e-6)
    expected = view.vectors(shift) * data.arrow_scale
    np.testing.assert_allclose(data.arrow_vectors, np.broadcast_to(expected, data.arrow_vectors.shape), atol=1e-5)


def test_lattice_and_arrow_scale():
    grid = lattice(np.array([0.0, -1.0]), np.array([2.0, 1.0]), 3)
    assert grid.shape == (9, 2) and grid.min(0).tolist() == [0.0, -1.0] and grid.max(0).tolist() == [2.0, 1.0]
    v = np.array([[3.0, 4.0], [0.0, 1.0]])
    assert arrow_scale(v, 1.0) * 5.0 == pytest.approx(0.9)
    assert arrow_scale(np.zeros((3, 2)), 1.0) == 1.0


def test_animation_has_one_frame_per_time_with_play_pause_and_slider(gaussian_shift_pair):
    p, q, flow = gaussian_shift_pair
    data = trajectory_data(flow, p.sample(100), frames=8, background={"P: p": p.sample(50), "Q: q": q.sample(50)},
                           gaussians=(p, q))
    fig = trajectory_animation(data)
    names = [t.name for t in fig.data]
    assert names[:2] == ["P: p", "Q: q"] and "learned paths" in names and "closed-form paths" in names
    assert len(fig.frames) == 8
    animated = list(fig.frames[0].traces)
    assert [names[i] for i in animated] == ["particles", "velocity", "closed-form OT"]
    # each frame moves the particles to that frame's positions
    for k in (0, 7):
        np.testing.assert_allclose(np.asarray(fig.frames[k].data[0].x), data.paths[k, :, 0], atol=1e-6)
    labels = [s.label for s in fig.layout.sliders[0].steps]
    assert labels[0] == "0.00" and labels[-1] == "1.00"
    buttons = [b.label for b in fig.layout.updatemenus[0].buttons]
    assert any("Play" in b for b in buttons) and any("Pause" in b for b in buttons)


def test_options_remove_paths_arrows_and_reference(gaussian_shift_pair):
    p, q, flow = gaussian_shift_pair
    data = trajectory_data(flow, p.sample(20), frames=3, arrows=False)
    assert data.arrow_bases is None and data.reference is None and data.background == {}
    fig = trajectory_animation(data, show_paths=False)
    assert [t.name for t in fig.data] == ["particles"]
    assert all(len(f.data) == 1 for f in fig.frames)
