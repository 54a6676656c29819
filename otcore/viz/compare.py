"""Small multiples of compared methods (:mod:`otcore.compare`): one panel per method, the same
particles at the same time in every panel, on common axes."""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..compare.result import MethodResult
from ..projection import View
from .clouds import COLORS, subsample

#: background points drawn per cloud in each panel
BACKGROUND_POINTS = 400


def _segments(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y of polylines a_i → b_i separated by NaN (one trace for all). a, b: (n, 2)."""
    gap = np.full((len(a), 1), np.nan)
    xs = np.hstack([a[:, :1], b[:, :1], gap]).ravel()
    ys = np.hstack([a[:, 1:], b[:, 1:], gap]).ravel()
    return xs, ys


def _paths(paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y of every particle's path, NaN-separated. paths: (m, n, 2)."""
    gap = np.full((1, paths.shape[1], 2), np.nan)
    flat = np.concatenate([paths, gap]).transpose(1, 0, 2).reshape(-1, 2)
    return flat[:, 0], flat[:, 1]


def compare_figure(results: Sequence[MethodResult], frame: int, *, view: View | None = None,
                   background: Mapping[str, np.ndarray] | None = None, columns: int = 4,
                   panel_height: int = 300) -> go.Figure:
    """One panel per result: faint paths, the particles at ``times[frame]`` (dark), and for the exact
    plan the segments joining matched pairs. ``view`` maps d-dimensional points to the plane
    (None: the data are 2-D); ``background``: name ('P …' / 'Q …') -> (n, d) points drawn faintly."""
    if not results:
        raise ValueError("nothing to draw: no results")
    project = (lambda x: np.asarray(x, dtype=float)) if view is None else view.points
    cols = min(columns, len(results))
    rows = math.ceil(len(results) / cols)
    t = float(results[0].times[frame])
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[r.label for r in results], shared_xaxes="all",
                        shared_yaxes="all", horizontal_spacing=0.02, vertical_spacing=0.08)
    clouds = {name: subsample(project(x), BACKGROUND_POINTS) for name, x in (background or {}).items()}
    for i, r in enumerate(results):
        at = {"row": i // cols + 1, "col": i % cols + 1}
        first = i == 0
        for name, pts in clouds.items():
            colour = COLORS["P"] if name.startswith("P") else COLORS["Q"]
            fig.add_trace(go.Scattergl(x=pts[:, 0], y=pts[:, 1], mode="markers", name=name, legendgroup=name,
                                       showlegend=first, marker={"size": 3, "color": colour, "opacity": 0.25},
                                       hoverinfo="skip"), **at)
        path = project(r.paths)
        if r.pairs is not None:
            xs, ys = _segments(path[0], path[-1])
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="matched pairs", legendgroup="pairs",
                                     showlegend=True, line={"width": 0.8, "color": COLORS["arrows"]},
                                     hoverinfo="skip"), **at)
        else:
            xs, ys = _paths(path)
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="paths", legendgroup="paths", showlegend=first,
                                     line={"width": 0.6, "color": "rgba(80,80,80,0.35)"}, hoverinfo="skip"), **at)
        fig.add_trace(go.Scatter(x=path[frame, :, 0], y=path[frame, :, 1], mode="markers", name=f"particles at t = {t:.2f}",
                                 legendgroup="particles", showlegend=first,
                                 marker={"size": 4, "color": COLORS["particles"]}), **at)
    fig.update_yaxes(scaleanchor="x", scaleratio=1, showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    # the top margin holds the figure's title above the panels' own titles (which sit just above each panel)
    fig.update_layout(height=panel_height * rows + 90, margin={"l": 10, "r": 10, "t": 70, "b": 10},
                      legend={"orientation": "h", "y": -0.02},
                      title={"text": f"t = {t:.2f}", "x": 0.5, "y": 1, "yref": "container", "yanchor": "top",
                             "pad": {"t": 10}})
    return fig
