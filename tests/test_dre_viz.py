"""Density-ratio maps (otcore.dre.maps) and their figures (otcore.viz.density)."""
import io
import math

import numpy as np
import pytest
import torch

import otcore
from otcore.dre import DensityRatio, DensityRatioConfig
from otcore.dre.maps import baseline_maps, closed_form_maps, errors_against, maps_npz, plane_grid, ratio_maps
from otcore.dre.ratio import build_network
from otcore.projection import identity_view, make_view
from otcore.scaling import Standardizer
from otcore.viz.density import (comparison_figure, mi_figure, ratio_animation, ratio_row, ratio_training_figure,
                                symmetric_range)
from otcore.dre.trainer import RatioStepMetrics, RatioValidation

P_GAUSS = otcore.Gaussian(np.zeros(2), np.eye(2))
Q_GAUSS = otcore.Gaussian(np.array([2.0, 0.0]), np.array([[0.5, 0.1], [0.1, 1.5]]))


def some_ratio(dim=2):
    torch.manual_seed(0)
    config = DensityRatioConfig(slices=4)
    return DensityRatio(build_network(dim, config), config, Standardizer.identity(dim))


def test_plane_grid_covers_the_clouds_and_lifts_into_the_data_space():
    P, Q = P_GAUSS.sample(300, seed=0), Q_GAUSS.sample(300, seed=1)
    grid = plane_grid(identity_view(), [P, Q], resolution=20)
    assert grid.shape == (20, 20) and grid.points.shape == (400, 2)
    assert grid.xs[0] < float(torch.cat([P, Q])[:, 0].min()) and grid.xs[-1] > float(torch.cat([P, Q])[:, 0].max())
    assert torch.allclose(grid.points[1], torch.tensor([grid.xs[1], grid.ys[0]], dtype=torch.float32))
    X = torch.randn(200, 5)
    view = make_view([X, X + 1])
    g5 = plane_grid(view, [X, X + 1], resolution=7)
    assert g5.points.shape == (49, 5)
    assert np.allclose(view.points(g5.points)[:7, 0], g5.xs, atol=1e-5)   # the lifted plane maps back onto the grid


def test_maps_match_the_estimator_and_the_closed_form():
    ratio = some_ratio()
    grid = plane_grid(identity_view(), [P_GAUSS.sample(100, seed=0), Q_GAUSS.sample(100, seed=1)], resolution=9)
    times = np.array([0.0, 0.5, 1.0])
    maps = ratio_maps(ratio, grid, times)
    assert maps.log_ratio.shape == (3, 9, 9) and maps.time_score.shape == (3, 9, 9)
    assert np.allclose(maps.log_ratio[0], 0.0)
    assert np.allclose(maps.log_ratio[2].ravel(), ratio.log_ratio(grid.points).numpy(), atol=1e-5)
    exact = closed_form_maps(P_GAUSS, Q_GAUSS, grid, times)
    assert np.allclose(exact[2].ravel(), (Q_GAUSS.log_prob(grid.points) - P_GAUSS.log_prob(grid.points)).numpy(), atol=1e-4)
    base = baseline_maps(grid, gaussians=(P_GAUSS, Q_GAUSS), samples=(P_GAUSS.sample(500, seed=2), Q_GAUSS.sample(500, seed=3)))
    assert set(base) == {"closed form", "kernel"} and base["kernel"].shape == (9, 9)
    with np.load(io.BytesIO(maps_npz(grid, maps, base)), allow_pickle=False) as saved:
        assert np.array_equal(saved["log_ratio"], maps.log_ratio) and np.array_equal(saved["times"], times)
        assert np.array_equal(saved["baseline_closed_form"], base["closed form"]) and saved["points"].shape == (81, 2)


def test_errors_against_the_truth():
    t = torch.linspace(-3, 3, 50)
    err = errors_against(t, {"same": t.clone(), "shifted": t + 0.5, "halved": t / 2})
    assert err["same"].mae == pytest.approx(0) and err["same"].corr == pytest.approx(1)
    assert err["shifted"].bias == pytest.approx(0.5) and err["shifted"].mae == pytest.approx(0.5)
    assert err["halved"].corr == pytest.approx(1) and err["halved"].bias == pytest.approx(0, abs=1e-6)


def test_ratio_animation_has_a_frame_per_time_and_one_symmetric_colour_scale():
    xs, ys = np.linspace(-1, 1, 5), np.linspace(0, 2, 4)
    maps = np.stack([k * np.ones((4, 5)) for k in (0.0, 1.0, -3.0)])
    parts = np.random.default_rng(0).normal(size=(3, 10, 2))
    fig = ratio_animation(xs, ys, maps, [0.0, 0.5, 1.0], particles=parts, title="demo")
    assert [f.name for f in fig.frames] == ["0.00", "0.50", "1.00"]
    heat = fig.frames[2].data[0]
    assert heat.zmin == -heat.zmax and heat.zmax == pytest.approx(symmetric_range(maps))
    assert np.allclose(heat.z, -3.0) and np.allclose(fig.frames[1].data[1].x, parts[1][:, 0])
    assert fig.layout.sliders[0].steps[-1].label == "1.00"
    with pytest.raises(ValueError):
        ratio_animation(xs, ys, maps[:, :3], [0.0, 0.5, 1.0])


def test_comparison_training_and_mi_figures():
    xs, ys = np.linspace(0, 1, 3), np.linspace(0, 1, 3)
    fig = comparison_figure(xs, ys, {"bridge": np.ones((3, 3)), "one step": -np.ones((3, 3))},
                            subtitles={"one step": "MAE 0.30"})
    assert len(fig.data) == 2 and "MAE 0.30" in fig.layout.annotations[1].text
    metrics = [RatioStepMetrics(k, 3, 1.38 - 0.01 * k, 1e-3, 0.1 * k, 10.0,
                                RatioValidation(1.37, [1.37], 0.4, 0.5) if k == 3 else None) for k in (1, 2, 3)]
    rows = [ratio_row(m) for m in metrics]
    assert rows[-1]["val_kl_qp"] == 0.5 and "val_loss" not in rows[0]
    tf = ratio_training_figure(rows)
    assert list(tf.data[0].x) == [1, 2, 3] and tf.layout.shapes[0].y0 == pytest.approx(2 * math.log(2))
    mf = mi_figure(10.0, 9.8, 7.1, 0.05)
    assert list(mf.data[0].x) == [9.8, 7.1] and mf.layout.shapes[0].x0 == 10.0


def test_near_marks_the_cells_by_the_points_and_focus_sets_the_colour_scale():
    grid = plane_grid(identity_view(), [torch.tensor([[0.0, 0.0], [10.0, 10.0]])], resolution=11, pad=0.0)
    mask = grid.near(np.array([[0.0, 0.0]]), reach=1)          # the bottom-left cell and its 4 neighbours
    assert mask.shape == (11, 11) and mask.sum() == 3 and mask[0, 0] and mask[1, 0] and mask[0, 1]
    assert grid.near(np.array([[5.0, 5.0]]), reach=2).sum() == 13
    values = np.ones((11, 11))
    values[-1, -1] = 500.0                                    # extrapolation far from the data …
    assert symmetric_range(values, quantile=1.0) == 500.0
    assert symmetric_range(values, quantile=1.0, focus=mask) == 1.0   # … ignored where the data are
    fig = ratio_animation(grid.xs, grid.ys, np.stack([values, -2 * values]), [0.0, 1.0], focus=mask)
    assert fig.frames[0].data[0].zmax == pytest.approx(symmetric_range(np.stack([values, -2 * values]), focus=mask))
    assert fig.frames[0].data[0].zmax == pytest.approx(2.0)
    cmp = comparison_figure(grid.xs, grid.ys, {"a": values}, focus=mask)
    assert cmp.data[0].zmax == pytest.approx(1.0)
