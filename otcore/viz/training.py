"""Figures of a training run, from its metrics flattened to rows (one dict of floats per step:
``otcore.viz.rows.as_row`` of any trainer's step metrics)."""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import plotly.graph_objects as go

#: columns of a row that are bookkeeping, not loss terms (nor are columns starting with NOT_PREFIXES)
NOT_LOSSES = frozenset({"stage", "step", "stage_steps", "global_step", "elapsed", "steps_per_s", "gamma", "lr",
                        "total", "epoch", "time"})
NOT_PREFIXES = ("val_", "latest_")
MAX_POINTS = 1500   # per trace; longer histories are thinned evenly (the last point always kept)
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"]


def loss_terms(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The loss-term columns present in ``rows``, in order of first appearance."""
    seen: dict[str, None] = {}
    for r in rows:
        for k, v in r.items():
            if k not in NOT_LOSSES and not k.startswith(NOT_PREFIXES) and isinstance(v, (int, float)):
                seen.setdefault(k, None)
    return list(seen)


def stages(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Stage names in order of appearance ('' when the rows carry no stage)."""
    seen: dict[str, None] = {}
    for r in rows:
        seen.setdefault(str(r.get("stage", "")), None)
    return list(seen)


def thin(n: int, limit: int = MAX_POINTS) -> list[int]:
    """Indices of at most ``limit`` evenly spread items of a length-n sequence, the last included."""
    if n <= limit:
        return list(range(n))
    stride = math.ceil(n / limit)
    idx = list(range(0, n, stride))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    return idx


def _x(r: dict[str, Any], i: int) -> float:
    return r.get("global_step", r.get("step", i + 1))


def _figure(spec: dict) -> go.Figure:
    """A Figure from a plain dict without plotly's per-property validation (these builders run a few
    times a second while training; the dicts they build are checked by the tests)."""
    return go.Figure(spec, _validate=False)


def _axis_id(k: int, letter: str) -> str:
    return letter if k == 1 else f"{letter}{k}"


def loss_figure(rows: Sequence[dict[str, Any]], title: str | None = None, height: int = 330) -> go.Figure:
    """Every loss term against the global step, one panel per stage (warm start, refinement …)."""
    names = stages(rows) or [""]
    colour = {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(loss_terms(rows))}
    gap, n = 0.08, len(names)
    width = (1 - gap * (n - 1)) / n
    layout: dict[str, Any] = {"annotations": []}
    traces = []
    shown: set[str] = set()
    for col, stage in enumerate(names, start=1):
        x0 = (col - 1) * (width + gap)
        xa, ya = _axis_id(col, "x"), _axis_id(col, "y")
        layout[xa.replace("x", "xaxis")] = dict(domain=[x0, x0 + width], anchor=ya, title=dict(text="step"))
        layout[ya.replace("y", "yaxis")] = dict(anchor=xa)
        layout["annotations"].append(dict(text=stage or "loss", x=x0 + width / 2, y=1.0, xref="paper", yref="paper",
                                          xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=14)))
        stage_rows = [(i, r) for i, r in enumerate(rows) if str(r.get("stage", "")) == stage]
        for term in loss_terms([r for _, r in stage_rows]):
            pts = [(_x(r, i), r[term]) for i, r in stage_rows if isinstance(r.get(term), (int, float))
                   and math.isfinite(r[term])]
            keep = thin(len(pts))
            traces.append(dict(type="scatter", x=[pts[k][0] for k in keep], y=[pts[k][1] for k in keep], mode="lines",
                               name=term, legendgroup=term, showlegend=term not in shown, xaxis=xa, yaxis=ya,
                               line=dict(width=1.4, color=colour[term])))
            shown.add(term)
    step = int(_x(rows[-1], len(rows) - 1)) if rows else 0
    layout.update(title=dict(text=title if title is not None else f"Loss terms — step {step}"), height=height,
                  margin=dict(l=40, r=10, t=60, b=40), legend=dict(orientation="h", y=-0.25), uirevision="loss")
    return _figure(dict(data=traces, layout=layout))


def validation_figure(rows: Sequence[dict[str, Any]], exact_ot_cost: float | None = None,
                      height: int = 280) -> go.Figure:
    """Held-out transport cost (left axis) and fit (right axis) at the validated steps, with the
    exact discrete OT cost of the samples as a dashed reference line."""
    pts = [(_x(r, i), r) for i, r in enumerate(rows) if "val_transport_cost" in r]
    xs = [x for x, _ in pts]
    traces = [dict(type="scatter", x=xs, y=[r["val_transport_cost"] for _, r in pts], mode="lines+markers",
                   name="transport cost", line=dict(color=PALETTE[0]), yaxis="y"),
              dict(type="scatter", x=xs, y=[r.get("val_fit") for _, r in pts], mode="lines+markers",
                   name="fit (energy distance)", line=dict(color=PALETTE[1], dash="dot"), yaxis="y2")]
    layout: dict[str, Any] = dict(
        title=dict(text="Held-out validation"), height=height, margin=dict(l=40, r=40, t=50, b=40),
        legend=dict(orientation="h", y=-0.3), uirevision="validation", xaxis=dict(title=dict(text="step")),
        yaxis=dict(title=dict(text="cost (W₂² scale)")),
        yaxis2=dict(title=dict(text="fit"), overlaying="y", side="right", showgrid=False), shapes=[], annotations=[])
    if exact_ot_cost is not None:
        layout["shapes"].append(dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=exact_ot_cost, y1=exact_ot_cost,
                                     line=dict(color="black", dash="dash", width=1)))
        layout["annotations"].append(dict(text="exact discrete OT cost", xref="paper", x=1, yref="y", y=exact_ot_cost,
                                          xanchor="right", yanchor="top", showarrow=False))
    return _figure(dict(data=traces, layout=layout))


def progress(rows: Iterable[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """stage -> (steps done, steps planned) from the latest row of each stage that has
    ``step`` and ``stage_steps`` (or ``total``)."""
    out: dict[str, tuple[int, int]] = {}
    for r in rows:
        total = r.get("stage_steps", r.get("total"))
        if "step" in r and total:
            out[str(r.get("stage", ""))] = (int(r["step"]), int(total))
    return out
