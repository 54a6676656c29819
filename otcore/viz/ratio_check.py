"""Estimated log-ratios against the true ones, one panel per estimator (the ratio lesson): points on
the diagonal are exact; a flattened cloud is an estimator that cannot represent a large ratio."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .clouds import COLORS


def ratio_check_figure(truth, estimates: Mapping[str, object], from_q, *, height: int = 380) -> go.Figure:
    """truth: (k,) exact log q − log p; estimates: name -> (k,) estimate; from_q: (k,) bool, the
    point was drawn from Q (drawn red) or from P (blue)."""
    truth = np.asarray(truth, dtype=float)
    from_q = np.asarray(from_q, dtype=bool)
    if not estimates:
        raise ValueError("nothing to draw: no estimates")
    names = list(estimates)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, shared_yaxes=True, horizontal_spacing=0.05)
    values = {n: np.asarray(estimates[n], dtype=float) for n in names}
    for n, v in values.items():
        if v.shape != truth.shape:
            raise ValueError(f"estimate {n!r} has shape {v.shape}, the truth {truth.shape}")
    every = np.concatenate([truth, *values.values()])
    lo, hi = float(np.nanmin(every)), float(np.nanmax(every))
    for i, n in enumerate(names):
        at = {"row": 1, "col": i + 1}
        for side, mask in (("P", ~from_q), ("Q", from_q)):
            fig.add_trace(go.Scattergl(x=truth[mask], y=values[n][mask], mode="markers", name=f"points of {side}",
                                       legendgroup=side, showlegend=i == 0,
                                       marker={"size": 4, "color": COLORS[side], "opacity": 0.5}), **at)
        fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="exact (y = x)", legendgroup="exact",
                                 showlegend=i == 0, line={"color": COLORS["reference"], "dash": "dash"}), **at)
        fig.update_xaxes(title_text="true log q − log p (nats)", range=[lo, hi], **at)
    fig.update_yaxes(title_text="estimate (nats)", range=[lo, hi], row=1, col=1)
    fig.update_layout(height=height, margin={"l": 40, "r": 10, "t": 40, "b": 40},
                      legend={"orientation": "h", "y": -0.25})
    return fig
