"""2-D views: the projections are the linear maps they claim to be."""
import numpy as np
import pytest
import torch

from otcore.projection import ProjectionError, coordinate_view, identity_view, make_view, pca_view, slice_through


def test_identity_view_leaves_2d_points_alone():
    x = np.random.default_rng(0).standard_normal((50, 2))
    view = make_view([x, x + 1])
    assert view.is_identity and view.note() == ""
    np.testing.assert_allclose(view.points(x), x)
    np.testing.assert_allclose(view.vectors(x), x)


def test_pca_finds_the_long_axis_of_an_elongated_cloud():
    rng = np.random.default_rng(1)
    d = 5
    axis = np.zeros(d)
    axis[3] = 1.0
    second = np.zeros(d)
    second[1] = 1.0
    x = 10 * rng.standard_normal((4000, 1)) * axis + 2 * rng.standard_normal((4000, 1)) * second \
        + 0.1 * rng.standard_normal((4000, d)) + 7.0
    view = pca_view(torch.as_tensor(x[:2000]), x[2000:])
    np.testing.assert_allclose(np.abs(view.basis[:, 0]), axis, atol=0.01)
    np.testing.assert_allclose(np.abs(view.basis[:, 1]), second, atol=0.02)
    np.testing.assert_allclose(view.basis.T @ view.basis, np.eye(2), atol=1e-12)   # orthonormal columns
    # variance shares: 100 / (100 + 4 + 5·0.01) and 4 / (…)
    total = 100 + 4 + d * 0.01
    assert view.explained[0] == pytest.approx(100 / total, rel=0.05)
    assert view.explained[1] == pytest.approx(4 / total, rel=0.1)
    y = view.points(x)
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-9)   # centred on the pooled mean
    assert "5-dimensional" in view.note()


def test_views_are_linear_vectors_are_not_centred_and_lift_is_a_right_inverse():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((100, 4)) + 3
    for view in (pca_view(x), coordinate_view(4, 2, 0)):
        a, b = x[:10], x[10:20]
        np.testing.assert_allclose(view.points(a) - view.points(b), view.vectors(a - b), atol=1e-12)
        y = rng.standard_normal((7, 2))
        np.testing.assert_allclose(view.points(view.lift(y)), y, atol=1e-12)


def test_coordinate_view_picks_the_coordinates():
    x = np.arange(12.0).reshape(3, 4)
    view = coordinate_view(4, 2, 0)
    np.testing.assert_allclose(view.points(x), x[:, [2, 0]])
    assert view.labels == ("x₃", "x₁")
    with pytest.raises(ProjectionError, match="two different coordinates"):
        coordinate_view(4, 1, 1)
    with pytest.raises(ProjectionError):
        coordinate_view(4, 0, 4)


def test_one_dimensional_data_lie_on_the_horizontal_axis_and_bad_requests_are_refused():
    x = np.linspace(-1, 1, 5)[:, None]
    view = make_view([x])
    np.testing.assert_allclose(view.points(x), np.c_[x, np.zeros(5)])
    with pytest.raises(ProjectionError, match="unknown view"):
        make_view([np.zeros((5, 3))], "tsne")
    with pytest.raises(ProjectionError, match="3-D points"):
        pca_view(np.random.default_rng(0).standard_normal((10, 3))).points(np.zeros((2, 2)))
    with pytest.raises(ProjectionError):
        identity_view(3)


def test_slice_through_a_point_keeps_the_coordinates_and_moves_the_plane():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 5)) + 3.0
    mean = x.mean(0)
    for view in (coordinate_view(5, 1, 3), pca_view(x, x + 1)):
        moved = slice_through(view, mean)
        assert np.allclose(moved.points(x), view.points(x))                # same picture of the points
        lifted = moved.lift(moved.points(mean[None]))[0]
        assert np.allclose(lifted, mean)                                    # the plane passes through the mean
        y = np.array([[0.5, -2.0]])
        assert np.allclose(moved.points(moved.lift(y)), y)
    off = slice_through(coordinate_view(5, 1, 3), mean).lift(np.array([[7.0, 9.0]]))[0]
    assert np.allclose(off[[0, 2, 4]], mean[[0, 2, 4]]) and np.allclose(off[[1, 3]], [7.0, 9.0])
    with pytest.raises(ProjectionError):
        slice_through(coordinate_view(5), np.zeros(4))
