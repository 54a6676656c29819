"""Animated particle paths of a flow (plotly frames with play/pause and a time slider).

Two steps, both pure: :func:`trajectory_data` integrates a flow and projects everything into a
2-D view (numbers in, numbers out), :func:`trajectory_animation` draws those numbers. The GIF and
HTML exports (``otcore.viz.export``) reuse the same :class:`TrajectoryData`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch

from ..projection import View, make_view
from .animation import playback
from .clouds import COLORS, subsample

GRID = 15            # velocity arrows on a GRID × GRID lattice (2-D data)
ARROW_PARTICLES = 150  # velocity arrows at this many particles (d > 2)


@dataclass(frozen=True)
class TrajectoryData:
    """Everything an animation shows, in view coordinates.

    times: (m,) flow times of the frames (decreasing when ``reverse``); paths: (m, n, 2);
    arrow_bases, arrow_vectors: (m, k, 2) — where the arrows start and their (scaled) direction of
    motion; reference: (m, n, 2) closed-form OT paths of the same particles, or None;
    background: name -> (k, 2) clouds drawn faintly behind.
    """
    times: np.ndarray
    paths: np.ndarray
    arrow_bases: np.ndarray | None
    arrow_vectors: np.ndarray | None
    reference: np.ndarray | None
    background: dict[str, np.ndarray]
    labels: tuple[str, str]
    reverse: bool = False
    arrow_scale: float = 1.0      # view units per unit of speed

    @property
    def frames(self) -> int:
        return len(self.times)

    @property
    def particles(self) -> int:
        return self.paths.shape[1]


def lattice(lo: np.ndarray, hi: np.ndarray, k: int = GRID) -> np.ndarray:
    """k × k points filling the box [lo, hi] (each (2,)). -> (k², 2)."""
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], k), np.linspace(lo[1], hi[1], k))
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def arrow_scale(vectors: np.ndarray, spacing: float) -> float:
    """A length scale so the fastest arrow is 0.9 × ``spacing`` long. vectors: (..., 2)."""
    top = float(np.linalg.norm(vectors, axis=-1).max()) if vectors.size else 0.0
    return 0.9 * spacing / top if top > 0 else 1.0


def trajectory_data(flow, x: torch.Tensor, *, frames: int = 60, reverse: bool = False, view: View | None = None,
                    background: dict[str, torch.Tensor] | None = None, arrows: bool = True,
                    gaussians: tuple | None = None) -> TrajectoryData:
    """Integrate ``flow`` (an ``otcore.OTFlow``) from the particles x: (n, d) given at t = 0
    (t = 1 when ``reverse``) over ``frames`` equally spaced times, and project into ``view``.

    Arrows show the direction of motion at each frame's time: v(y, t) forward, −v(y, t) backward;
    on a lattice over the plot for 2-D data, at a subset of the particles otherwise. For a Gaussian
    pair ``gaussians = (p, q)`` the closed-form McCann paths of the same particles are included.
    """
    x = torch.as_tensor(x, dtype=torch.float32)
    background = background or {}
    view = view or make_view([x, *background.values()])
    times = torch.linspace(0.0, 1.0, frames)
    if reverse:
        times = times.flip(0)
    path = flow.trajectory(x, times)                      # (m, n, d)
    paths2 = view.points(path)
    bg = {name: view.points(subsample(c.detach().cpu().numpy() if isinstance(c, torch.Tensor) else c))
          for name, c in background.items()}
    bases = vecs = None
    scale = 1.0
    if arrows:
        sign = -1.0 if reverse else 1.0
        everything = np.concatenate([paths2.reshape(-1, 2), *bg.values()]) if bg else paths2.reshape(-1, 2)
        lo, hi = everything.min(0), everything.max(0)
        if view.is_identity:
            grid = lattice(lo, hi)
            base_list = [grid] * frames
            vel = [view.vectors(flow.velocity(torch.as_tensor(view.lift(grid), dtype=torch.float32), float(t)))
                   for t in times]
            spacing = float(min(hi - lo)) / (GRID - 1)
        else:
            k = min(ARROW_PARTICLES, x.shape[0])
            base_list = [paths2[i, :k] for i in range(frames)]
            vel = [view.vectors(flow.velocity(path[i, :k], float(t))) for i, t in enumerate(times)]
            spacing = 0.05 * float(max(hi - lo))
        bases = np.stack(base_list)
        raw = sign * np.stack(vel)
        scale = arrow_scale(raw, spacing)
        vecs = raw * scale
    reference = None
    if gaussians is not None:
        from ..gaussians import mccann_path

        p, q = gaussians
        ref = mccann_path(q, p, x, 1 - times) if reverse else mccann_path(p, q, x, times)
        reference = view.points(ref)
    return TrajectoryData(times.numpy(), paths2, bases, vecs, reference, bg, view.labels, reverse, scale)


# --- drawing ------------------------------------------------------------------------------------
def _segments(bases: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrows as one polyline with gaps: x, y of (base, tip, NaN) triples and marker sizes that
    show an arrow head at each tip only. bases, vectors: (k, 2)."""
    k = len(bases)
    xs = np.full(3 * k, np.nan)
    ys = np.full(3 * k, np.nan)
    xs[0::3], ys[0::3] = bases[:, 0], bases[:, 1]
    xs[1::3], ys[1::3] = bases[:, 0] + vectors[:, 0], bases[:, 1] + vectors[:, 1]
    sizes = np.zeros(3 * k)
    sizes[1::3] = 7
    return xs, ys, sizes


def _path_lines(paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All particle paths (m, n, 2) as one polyline with NaN gaps between particles."""
    m, n, _ = paths.shape
    block = np.concatenate([paths.transpose(1, 0, 2), np.full((n, 1, 2), np.nan)], axis=1)  # (n, m + 1, 2)
    flat = block.reshape(-1, 2)
    return flat[:, 0], flat[:, 1]


def _arrow_trace(bases: np.ndarray, vectors: np.ndarray) -> dict:
    xs, ys, sizes = _segments(bases, vectors)
    return dict(type="scatter", x=xs, y=ys, mode="lines+markers", name="velocity", showlegend=True,
                line=dict(color=COLORS["arrows"], width=1.2), hoverinfo="skip",
                marker=dict(symbol="arrow", angleref="previous", size=sizes, color=COLORS["arrows"]))


def _particle_trace(pts: np.ndarray) -> dict:
    return dict(type="scatter", x=pts[:, 0], y=pts[:, 1], mode="markers", name="particles",
                marker=dict(size=4, color=COLORS["particles"], opacity=0.85), hoverinfo="skip")


def _reference_trace(pts: np.ndarray) -> dict:
    return dict(type="scatter", x=pts[:, 0], y=pts[:, 1], mode="markers", name="closed-form OT",
                marker=dict(size=5, color=COLORS["reference"], symbol="circle-open", opacity=0.8), hoverinfo="skip")


def trajectory_animation(data: TrajectoryData, *, show_paths: bool = True, show_arrows: bool = True,
                         show_reference: bool = True, frame_ms: int = 60, height: int = 560,
                         title: str | None = None) -> go.Figure:
    """Plotly animation: faint background clouds, optional path lines (static), then per frame the
    particles, the velocity arrows and the closed-form particles. Play/Pause buttons and a slider
    over the frame times ('t = 0.50')."""
    traces: list[dict] = []
    for name, pts in data.background.items():
        color = COLORS["P"] if name.startswith("P") else COLORS["Q"] if name.startswith("Q") else "#999999"
        traces.append(dict(type="scatter", x=pts[:, 0], y=pts[:, 1], mode="markers", name=name, hoverinfo="skip",
                           marker=dict(size=3, color=color, opacity=0.18)))
    if show_paths:
        px, py = _path_lines(data.paths)
        traces.append(dict(type="scatter", x=px, y=py, mode="lines", name="learned paths", hoverinfo="skip",
                           line=dict(color="rgba(60,60,60,0.18)", width=0.8)))
        if show_reference and data.reference is not None:
            rx, ry = _path_lines(data.reference)
            traces.append(dict(type="scatter", x=rx, y=ry, mode="lines", name="closed-form paths", hoverinfo="skip",
                               line=dict(color="rgba(44,160,44,0.25)", width=0.8, dash="dot")))
    animated: list[int] = []

    def frame_traces(i: int) -> list[dict]:
        out = [_particle_trace(data.paths[i])]
        if show_arrows and data.arrow_bases is not None:
            out.append(_arrow_trace(data.arrow_bases[i], data.arrow_vectors[i]))
        if show_reference and data.reference is not None:
            out.append(_reference_trace(data.reference[i]))
        return out

    first = frame_traces(0)
    animated = list(range(len(traces), len(traces) + len(first)))
    traces.extend(first)
    names = [f"{t:.2f}" for t in data.times]
    frames = [dict(name=names[i], data=frame_traces(i), traces=animated) for i in range(data.frames)]
    all_pts = np.concatenate([data.paths.reshape(-1, 2), *data.background.values()]) if data.background \
        else data.paths.reshape(-1, 2)
    lo, hi = np.nanmin(all_pts, 0), np.nanmax(all_pts, 0)
    pad = 0.05 * (hi - lo) + 1e-9
    direction = "Q → P (t from 1 to 0)" if data.reverse else "P → Q (t from 0 to 1)"
    layout = dict(
        title=dict(text=title if title is not None else f"Particles flowing {direction}"),
        height=height, plot_bgcolor="white", margin=dict(l=40, r=10, t=50, b=10),
        xaxis=dict(title=dict(text=data.labels[0]), range=[lo[0] - pad[0], hi[0] + pad[0]], zeroline=False),
        yaxis=dict(title=dict(text=data.labels[1]), range=[lo[1] - pad[1], hi[1] + pad[1]], zeroline=False,
                   scaleanchor="x", scaleratio=1),
        legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0),
        **playback(names, frame_ms=frame_ms, redraw=False),
    )
    return go.Figure(dict(data=traces, layout=layout, frames=frames))
