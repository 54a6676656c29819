"""What the density-ratio page draws, computed without any UI: log p_t − log p_0 and the time score
on a 2-D grid (the plane of a view through the data, for d > 2), baselines on the same grid, and
their errors on samples where a closed form exists."""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch

from ..gaussians import Gaussian
from ..projection import View
from .baselines import OneStepRatio, gaussian_log_ratio, kernel_log_ratio
from .config import DensityRatioError
from .ratio import DensityRatio

KDE_MAX_DIM = 3


@dataclass
class PlaneGrid:
    xs: np.ndarray        # (W,) view coordinates of the columns
    ys: np.ndarray        # (H,) view coordinates of the rows
    points: torch.Tensor  # (H·W, d): the grid lifted into R^d (row-major: y outer, x inner)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.ys), len(self.xs)

    def near(self, points: np.ndarray, reach: int = 1) -> np.ndarray:
        """(H, W) mask of the cells within ``reach`` cells of any of ``points`` (n, 2, view coordinates):
        where the data are, so colour scales can ignore far-off extrapolation."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        mask = np.zeros(self.shape, dtype=bool)
        col = np.clip(np.rint(np.interp(points[:, 0], self.xs, np.arange(len(self.xs)))), 0, len(self.xs) - 1)
        row = np.clip(np.rint(np.interp(points[:, 1], self.ys, np.arange(len(self.ys)))), 0, len(self.ys) - 1)
        mask[row.astype(int), col.astype(int)] = True
        for _ in range(reach):
            grown = mask.copy()
            grown[1:] |= mask[:-1]
            grown[:-1] |= mask[1:]
            grown[:, 1:] |= mask[:, :-1]
            grown[:, :-1] |= mask[:, 1:]
            mask = grown
        return mask


def plane_grid(view: View, clouds: list[torch.Tensor], resolution: int = 60, pad: float = 0.15) -> PlaneGrid:
    """A resolution × resolution grid covering the clouds (each (n, d)) in the view's plane, padded by
    ``pad`` of the range on each side, lifted to R^d (for d > 2: the plane through the view's centre)."""
    if resolution < 2:
        raise DensityRatioError(f"the grid needs at least 2 points a side, got {resolution}")
    pts = np.concatenate([view.points(c) for c in clouds])
    lo, hi = pts.min(0), pts.max(0)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad * span, hi + pad * span
    xs, ys = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    plane = np.stack([gx.ravel(), gy.ravel()], 1)
    return PlaneGrid(xs, ys, torch.as_tensor(view.lift(plane), dtype=torch.float32))


@dataclass
class RatioMaps:
    times: np.ndarray       # (m,)
    log_ratio: np.ndarray   # (m, H, W): log p_t − log p_0 on the grid
    time_score: np.ndarray  # (m, H, W): r(x, t) on the grid


def ratio_maps(ratio: DensityRatio, grid: PlaneGrid, times: np.ndarray) -> RatioMaps:
    """The estimator's maps at each of ``times`` (m,) in [0, 1]."""
    times = np.asarray(times, dtype=np.float64)
    h, w = grid.shape
    path = ratio.log_ratio_path(grid.points, torch.as_tensor(times, dtype=torch.float32)).numpy()
    score = np.stack([ratio.time_score(grid.points, float(t)).numpy() for t in times])
    return RatioMaps(times, path.reshape(len(times), h, w), score.reshape(len(times), h, w))


def closed_form_maps(p: Gaussian, q: Gaussian, grid: PlaneGrid, times: np.ndarray) -> np.ndarray:
    """Exact log p_t − log p_0 on the McCann path, (m, H, W)."""
    h, w = grid.shape
    return np.stack([gaussian_log_ratio(p, q, grid.points, 0.0, float(t)).numpy().reshape(h, w) for t in times])


def baseline_maps(grid: PlaneGrid, *, one_step: OneStepRatio | None = None,
                  gaussians: tuple[Gaussian, Gaussian] | None = None,
                  samples: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict[str, np.ndarray]:
    """log q − log p on the grid by each available baseline: 'one step', 'closed form' (Gaussian
    pairs), 'kernel' (d ≤ 3, from ``samples`` = (P, Q)). name -> (H, W)."""
    h, w = grid.shape
    out: dict[str, np.ndarray] = {}
    if one_step is not None:
        out["one step"] = one_step.log_ratio(grid.points).numpy().reshape(h, w)
    if gaussians is not None:
        out["closed form"] = gaussian_log_ratio(*gaussians, grid.points).numpy().reshape(h, w)
    if samples is not None and grid.points.shape[1] <= KDE_MAX_DIM:
        out["kernel"] = kernel_log_ratio(*samples, grid.points).numpy().reshape(h, w)
    return out


@dataclass
class RatioError:
    mae: float      # mean |estimate − truth| on the samples, nats
    bias: float     # mean (estimate − truth), nats
    corr: float     # Pearson correlation with the truth


def errors_against(truth: torch.Tensor, estimates: dict[str, torch.Tensor]) -> dict[str, RatioError]:
    """Each estimate (n,) against the truth (n,) on the same points."""
    t = truth.double()
    out = {}
    for name, e in estimates.items():
        e = e.double()
        diff = e - t
        corr = float(np.corrcoef(e.numpy(), t.numpy())[0, 1]) if len(t) > 1 and float(t.std()) > 0 else float("nan")
        out[name] = RatioError(float(diff.abs().mean()), float(diff.mean()), corr)
    return out


def maps_npz(grid: PlaneGrid, maps: RatioMaps, baselines: dict[str, np.ndarray]) -> bytes:
    """An .npz (no pickles) of everything the maps show: the grid (xs, ys and the lifted points), the
    times, log p_t − log p_0 and r(x, t) at each time, and each baseline's log q − log p
    (key 'baseline_<name>', spaces as underscores)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, xs=grid.xs, ys=grid.ys, points=grid.points.numpy(), times=maps.times,
                        log_ratio=maps.log_ratio, time_score=maps.time_score,
                        **{"baseline_" + k.replace(" ", "_"): v for k, v in baselines.items()})
    return buf.getvalue()
