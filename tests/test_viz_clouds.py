import numpy as np
import pytest

from otcore.viz.clouds import clouds_figure, subsample


def test_one_trace_per_cloud_with_equal_axis_units():
    rng = np.random.default_rng(0)
    fig = clouds_figure({"P": rng.standard_normal((30, 2)), "Q": rng.standard_normal((40, 2)) + 3},
                        colors={"P": "#000000"}, labels=("a", "b"))
    assert [t.name for t in fig.data] == ["P", "Q"]
    assert len(fig.data[0].x) == 30 and len(fig.data[1].x) == 40
    assert fig.data[0].marker.color == "#000000"
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.xaxis.title.text == "a"


def test_the_points_drawn_are_the_points_given_in_float32():
    x = np.random.default_rng(1).standard_normal((50, 2)) * 30 + 7
    trace = clouds_figure({"P": x}).data[0]
    assert trace.x.dtype == np.float32 and trace.y.dtype == np.float32      # half the bytes on the wire
    np.testing.assert_allclose(np.stack([trace.x, trace.y], 1), x, rtol=1e-6)


def test_large_clouds_are_thinned_to_a_fixed_subset():
    x = np.arange(20000, dtype=float).reshape(-1, 2)
    a, b = subsample(x, 500), subsample(x, 500)
    assert a.shape == (500, 2)
    np.testing.assert_array_equal(a, b)                       # deterministic: redraws do not flicker
    assert set(map(tuple, a)).issubset(set(map(tuple, x)))    # real rows, not interpolated
    assert len(clouds_figure({"P": x}, max_points=700).data[0].x) == 700


def test_refuses_points_that_are_not_in_view_coordinates():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        clouds_figure({"P": np.zeros((5, 3))})
