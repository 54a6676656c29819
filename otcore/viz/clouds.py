"""Scatter plots of 2-D point clouds (P, Q, pushed samples …), already in view coordinates."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

#: colours used everywhere: P at t = 0, Q at t = 1, particles in between, closed-form reference
COLORS = {"P": "#1f77b4", "Q": "#d62728", "particles": "#2b2b2b", "reference": "#2ca02c", "arrows": "#ff7f0e"}
MAX_POINTS = 4000


def subsample(x: np.ndarray, limit: int = MAX_POINTS, seed: int = 0) -> np.ndarray:
    """At most ``limit`` rows of x (a fixed random subset, so redraws do not flicker)."""
    x = np.asarray(x)
    if len(x) <= limit:
        return x
    idx = np.random.default_rng(seed).choice(len(x), limit, replace=False)
    return x[np.sort(idx)]


def clouds_figure(clouds: Mapping[str, np.ndarray], *, colors: Mapping[str, str] | None = None,
                  labels: Sequence[str] = ("x₁", "x₂"), title: str = "", opacity: float = 0.55,
                  marker_size: float = 4, height: int = 480, max_points: int = MAX_POINTS) -> go.Figure:
    """One scatter trace per named cloud, equal units on both axes. clouds: name -> (n, 2) points in
    view coordinates.

    The figure is built in one constructor call (traces and the whole layout at once): plotly's
    ``update_xaxes``/``update_yaxes`` walk and re-validate the layout and cost five times as much,
    which a page pays on every fresh session. The points are sent as float32: half the bytes, and a
    relative error of 6·10⁻⁸, invisible on screen."""
    palette = list(COLORS.values())
    traces = []
    for i, (name, pts) in enumerate(clouds.items()):
        pts = subsample(np.asarray(pts, dtype=float), max_points)
        if pts.ndim != 2 or pts.shape[1] != 2:
            raise ValueError(f"cloud {name!r} must be (n, 2) view coordinates, got {pts.shape}")
        pts = pts.astype(np.float32)
        color = (colors or {}).get(name, palette[i % len(palette)])
        traces.append(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=name,
                                 marker=dict(size=marker_size, color=color, opacity=opacity)))
    layout = dict(title=title, height=height, margin=dict(l=40, r=10, t=50 if title else 20, b=40),
                  legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0), plot_bgcolor="white",
                  xaxis=dict(title_text=labels[0], zeroline=False),     # equal units: a circle looks round
                  yaxis=dict(title_text=labels[1], zeroline=False, scaleanchor="x", scaleratio=1))
    return go.Figure(traces, layout=layout)
