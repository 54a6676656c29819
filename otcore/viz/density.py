"""Figures of the density-ratio estimator (data in, plotly figure out): animated heatmaps of
log p_t − log p_0 and of the time score with the particles on top, baselines side by side, the
ratio network's training chart and the mutual-information comparison."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go

from .animation import playback
from .rows import as_row

CHANCE = 2 * math.log(2)          # logistic loss of a classifier that cannot tell the slices apart
DIVERGING = "RdBu_r"              # blue: log-ratio < 0, red: > 0
SEQUENTIAL = "Viridis"            # log-densities
DENSITY_SPAN = 12.0               # nats of log-density shown below the highest (e^-12 of the peak)
PARTICLES = "rgba(20,20,20,0.55)"


def symmetric_range(values: np.ndarray, quantile: float = 0.98, focus: np.ndarray | None = None) -> float:
    """Colour limit ±c: the ``quantile`` of |values| over the finite entries; with ``focus``, a
    boolean mask over the last two axes (the cells where the data are), over those cells only, so
    that a ratio extrapolated to hundreds of nats far from the data does not wash out the rest."""
    v = np.abs(np.asarray(values, dtype=np.float64))
    if focus is not None and np.any(focus):
        v = v[..., np.asarray(focus, dtype=bool)]
    v = v[np.isfinite(v)]
    c = float(np.quantile(v, quantile)) if v.size else 0.0
    return c if c > 0 else 1.0


def _heatmap(xs, ys, z, limit: float | tuple[float, float], colorbar: str | None, **extra: Any) -> dict:
    """A heatmap trace: ``limit`` c gives the diverging scale ±c around 0, a pair (lo, hi) a sequential one."""
    # plain lists: 2-D numpy arrays travel as typed arrays with a shape, which the Plotly.js bundled
    # with Streamlit and plotly's offline HTML do not all decode (the heatmap came out blank)
    trace = dict(type="heatmap", x=np.asarray(xs, dtype=float).round(5).tolist(),
                 y=np.asarray(ys, dtype=float).round(5).tolist(),
                 z=np.asarray(z, dtype=float).round(4).tolist(),
                 hovertemplate="x=%{x:.2f}<br>y=%{y:.2f}<br>%{z:.2f}<extra></extra>")
    if isinstance(limit, tuple):
        trace.update(colorscale=SEQUENTIAL, zmin=limit[0], zmax=limit[1])
    else:
        trace.update(colorscale=DIVERGING, zmin=-limit, zmax=limit, zmid=0.0)
    if colorbar is None:
        trace["showscale"] = False
    else:
        trace["colorbar"] = dict(title=dict(text=colorbar))
    trace.update(extra)
    return trace


def ratio_animation(xs: np.ndarray, ys: np.ndarray, maps: np.ndarray, times: Sequence[float], *,
                    particles: np.ndarray | None = None, title: str = "", colorbar: str = "nats",
                    labels: tuple[str, str] = ("x₁", "x₂"), frame_ms: int = 120, height: int = 520,
                    focus: np.ndarray | None = None) -> go.Figure:
    """Heatmaps maps: (m, H, W) over the grid xs: (W,), ys: (H,) at ``times`` (m,), one frame per time,
    with the particles (m, n, 2) at the same times drawn on top; a slider 't = …' and Play/Pause.
    One colour scale for all frames, symmetric around 0, set by the cells in ``focus`` (H, W) if given."""
    maps = np.asarray(maps)
    if maps.ndim != 3 or maps.shape[1:] != (len(ys), len(xs)) or len(maps) != len(times):
        raise ValueError(f"maps must be (m, {len(ys)}, {len(xs)}) for {len(times)} times, got {maps.shape}")
    limit = symmetric_range(maps, focus=focus)
    names = [f"{t:.2f}" for t in times]

    def frame(i: int) -> list[dict]:
        out = [_heatmap(xs, ys, maps[i], limit, colorbar)]
        if particles is not None:
            out.append(dict(type="scatter", x=particles[i][:, 0], y=particles[i][:, 1],
                            mode="markers", name="particles at t", hoverinfo="skip",
                            marker=dict(size=3, color=PARTICLES)))
        return out

    first = frame(0)
    frames = [dict(name=names[i], data=frame(i), traces=list(range(len(first)))) for i in range(len(times))]
    layout = dict(
        title=dict(text=title), height=height, margin=dict(l=40, r=10, t=50, b=10), plot_bgcolor="white",
        xaxis=dict(title=dict(text=labels[0]), range=[float(xs[0]), float(xs[-1])], zeroline=False, constrain="domain"),
        yaxis=dict(title=dict(text=labels[1]), range=[float(ys[0]), float(ys[-1])], zeroline=False,
                   scaleanchor="x", scaleratio=1, constrain="domain"),
        showlegend=False,
        **playback(names, frame_ms=frame_ms, redraw=True))
    return go.Figure(dict(data=first, layout=layout, frames=frames))


def comparison_figure(xs: np.ndarray, ys: np.ndarray, panels: dict[str, np.ndarray], *,
                      subtitles: dict[str, str] | None = None, points: np.ndarray | None = None,
                      labels: tuple[str, str] = ("x₁", "x₂"), height: int = 360,
                      focus: np.ndarray | None = None, title: str = "log q(x) − log p(x)",
                      log_density: bool = False) -> go.Figure:
    """log q − log p on the same grid by several estimators, side by side with one colour scale (that
    of the first panel over the cells in ``focus`` (H, W) if given, so a baseline exploding far from
    the data does not wash the others out). panels: name -> (H, W); ``subtitles`` (e.g. the error) go
    under each name; ``points`` (n, 2) on top. ``log_density``: the panels are log-densities, drawn on
    one sequential scale from the highest value down by DENSITY_SPAN nats."""
    if not panels:
        raise ValueError("nothing to compare: no panels")
    names = list(panels)
    k = len(names)
    if log_density:
        top = max(float(np.nanmax(np.where(np.isfinite(v), v, -np.inf))) for v in panels.values())
        limit: float | tuple[float, float] = (top - DENSITY_SPAN, top)
    else:
        limit = symmetric_range(panels[names[0]], focus=focus)
    gap = 0.04
    width = (1 - gap * (k - 1)) / k
    traces, layout = [], dict(annotations=[])
    for i, name in enumerate(names, start=1):
        xa, ya = ("x", "y") if i == 1 else (f"x{i}", f"y{i}")
        x0 = (i - 1) * (width + gap)
        layout["xaxis" if i == 1 else f"xaxis{i}"] = dict(domain=[x0, x0 + width], anchor=ya, title=dict(text=labels[0]),
                                                          range=[float(xs[0]), float(xs[-1])], constrain="domain")
        layout["yaxis" if i == 1 else f"yaxis{i}"] = dict(anchor=xa, range=[float(ys[0]), float(ys[-1])],
                                                          scaleanchor=xa, scaleratio=1, constrain="domain",
                                                          title=dict(text=labels[1] if i == 1 else ""))
        traces.append(_heatmap(xs, ys, panels[name], limit, ("log density" if log_density else "nats") if i == k else None,
                               xaxis=xa, yaxis=ya, name=name))
        if points is not None:
            traces.append(dict(type="scatter", x=points[:, 0], y=points[:, 1], mode="markers", xaxis=xa, yaxis=ya,
                               hoverinfo="skip", showlegend=False, marker=dict(size=2, color=PARTICLES)))
        text = f"<b>{name}</b>" + (f"<br>{subtitles[name]}" if subtitles and subtitles.get(name) else "")
        layout["annotations"].append(dict(text=text, x=x0 + width / 2, y=1.0, xref="paper", yref="paper",
                                          xanchor="center", yanchor="bottom", showarrow=False))
    layout.update(height=height, margin=dict(l=40, r=10, t=70, b=40), plot_bgcolor="white",
                  title=dict(text=title, y=0.99))
    return go.Figure(dict(data=traces, layout=layout))


def ratio_row(m: Any) -> dict[str, Any]:
    """One chart row from an ``otcore.dre.RatioStepMetrics`` (the contract of ``otcore.viz.rows``)."""
    return as_row(m)


def ratio_training_figure(rows: Sequence[dict[str, Any]], height: int = 320) -> go.Figure:
    """Training loss per interval (line), held-out loss (markers) with the chance level 2·log 2,
    and the held-out KL estimates (right axis) of the ratio network."""
    steps = [r["step"] for r in rows if "loss" in r]
    losses = [r["loss"] for r in rows if "loss" in r]
    val = [r for r in rows if "val_loss" in r]
    traces = [dict(type="scatter", x=steps, y=losses, mode="lines", name="training loss / interval",
                   line=dict(color="#1f77b4", width=1.2)),
              dict(type="scatter", x=[r["step"] for r in val], y=[r["val_loss"] for r in val], mode="lines+markers",
                   name="held-out loss / interval", line=dict(color="#d62728", dash="dot")),
              dict(type="scatter", x=[r["step"] for r in val], y=[r["val_kl_qp"] for r in val], mode="lines+markers",
                   name="KL(Q‖P) estimate", yaxis="y2", line=dict(color="#2ca02c")),
              dict(type="scatter", x=[r["step"] for r in val], y=[r["val_kl_pq"] for r in val], mode="lines+markers",
                   name="KL(P‖Q) estimate", yaxis="y2", line=dict(color="#9467bd"))]
    last = steps[-1] if steps else 0
    layout = dict(title=dict(text=f"Ratio network — step {last}"), height=height, margin=dict(l=40, r=50, t=50, b=40),
                  xaxis=dict(title=dict(text="step")), yaxis=dict(title=dict(text="logistic loss")),
                  yaxis2=dict(title=dict(text="nats"), overlaying="y", side="right", showgrid=False),
                  legend=dict(orientation="h", y=-0.3), uirevision="ratio",
                  shapes=[dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=CHANCE, y1=CHANCE,
                               line=dict(color="black", dash="dash", width=1))],
                  annotations=[dict(text="chance (2 log 2)", xref="paper", x=1, yref="y", y=CHANCE, xanchor="right",
                                    yanchor="bottom", showarrow=False)])
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def mi_figure(truth: float | None, estimate: float, one_step: float | None, stderr: float | None = None,
              height: int = 260) -> go.Figure:
    """Horizontal bars: the infinitesimal estimate (± 2 standard errors), the one-step classifier
    and the truth (dashed line) in nats."""
    names, values, colors, errs = ["infinitesimal (bridge)"], [estimate], ["#1f77b4"], [2 * (stderr or 0.0)]
    if one_step is not None:
        names.append("one-step classifier")
        values.append(one_step)
        colors.append("#ff7f0e")
        errs.append(0.0)
    bars = dict(type="bar", orientation="h", y=names, x=values, marker=dict(color=colors),
                error_x=dict(type="data", array=errs, visible=True), text=[f"{v:.2f}" for v in values],
                textposition="inside", insidetextanchor="end", textfont=dict(color="white"), name="estimate")
    layout: dict[str, Any] = dict(title=dict(text="Mutual information (nats)"), height=height,
                                  margin=dict(l=40, r=30, t=50, b=40), xaxis=dict(title=dict(text="nats"), rangemode="tozero"),
                                  shapes=[], annotations=[], showlegend=False)
    if truth is not None:
        layout["shapes"].append(dict(type="line", x0=truth, x1=truth, yref="paper", y0=0, y1=1,
                                     line=dict(color="black", dash="dash", width=2)))
        layout["annotations"].append(dict(text=f"truth {truth:.2f}", x=truth, yref="paper", y=1.0, showarrow=False,
                                          yanchor="bottom"))
    return go.Figure(dict(data=[bars], layout=layout))


def bits_figure(bits: dict[str, float], names: dict[str, str] | None = None, height: int = 240) -> go.Figure:
    """Horizontal bars of held-out bits per dimension per density model (lower is better)."""
    keys = list(bits)
    labels = [names.get(k, k) if names else k for k in keys]
    values = [bits[k] for k in keys]
    bars = dict(type="bar", orientation="h", y=labels, x=values, text=[f"{v:.3f}" for v in values],
                textposition="inside", insidetextanchor="end", textfont=dict(color="white"),
                marker=dict(color=["#7f7f7f", "#ff7f0e", "#1f77b4"][:len(keys)]))
    layout = dict(title=dict(text="Held-out bits per dimension (lower is better)"), height=height, showlegend=False,
                  margin=dict(l=40, r=30, t=50, b=40), xaxis=dict(title=dict(text="bits / dimension")))
    return go.Figure(dict(data=[bars], layout=layout))
