"""Figures of a training run, from its metrics flattened to rows (one dict of floats per step:
``ui.jobs.as_row`` of an ``otcore.StepMetrics``, or any dict with ``step``/``stage`` keys)."""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

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


def loss_figure(rows: Sequence[dict[str, Any]], title: str | None = None, height: int = 330) -> go.Figure:
    """Every loss term against the global step, one panel per stage (warm start, refinement …)."""
    names = stages(rows) or [""]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[n or "loss" for n in names],
                        horizontal_spacing=0.08)
    colour = {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(loss_terms(rows))}
    for col, stage in enumerate(names, start=1):
        stage_rows = [(i, r) for i, r in enumerate(rows) if str(r.get("stage", "")) == stage]
        for term in loss_terms([r for _, r in stage_rows]):
            pts = [(_x(r, i), r[term]) for i, r in stage_rows if isinstance(r.get(term), (int, float))
                   and math.isfinite(r[term])]
            keep = thin(len(pts))
            fig.add_trace(go.Scatter(x=[pts[k][0] for k in keep], y=[pts[k][1] for k in keep], mode="lines",
                                     name=term, legendgroup=term, line=dict(width=1.4, color=colour[term])),
                          row=1, col=col)
        fig.update_xaxes(title_text="step", row=1, col=col)
    step = int(_x(rows[-1], len(rows) - 1)) if rows else 0
    fig.update_layout(title=title if title is not None else f"Loss terms — step {step}", height=height,
                      margin=dict(l=40, r=10, t=60, b=40), legend=dict(orientation="h", y=-0.25),
                      uirevision="loss")
    return fig


def validation_figure(rows: Sequence[dict[str, Any]], exact_ot_cost: float | None = None,
                      height: int = 280) -> go.Figure:
    """Held-out transport cost (left axis) and fit (right axis) at the validated steps, with the
    exact discrete OT cost of the samples as a dashed reference line."""
    pts = [(_x(r, i), r) for i, r in enumerate(rows) if "val_transport_cost" in r]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=[x for x, _ in pts], y=[r["val_transport_cost"] for _, r in pts], mode="lines+markers",
                             name="transport cost", line=dict(color=PALETTE[0])), secondary_y=False)
    fig.add_trace(go.Scatter(x=[x for x, _ in pts], y=[r.get("val_fit") for _, r in pts], mode="lines+markers",
                             name="fit (energy distance)", line=dict(color=PALETTE[1], dash="dot")), secondary_y=True)
    if exact_ot_cost is not None:
        fig.add_hline(y=exact_ot_cost, line=dict(color="black", dash="dash", width=1),
                      annotation_text="exact discrete OT cost", annotation_position="bottom right")
    fig.update_yaxes(title_text="cost (W₂² scale)", secondary_y=False)
    fig.update_yaxes(title_text="fit", secondary_y=True)
    fig.update_layout(title="Held-out validation", height=height, margin=dict(l=40, r=40, t=50, b=40),
                      legend=dict(orientation="h", y=-0.3), uirevision="validation")
    return fig


def progress(rows: Iterable[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """stage -> (steps done, steps planned) from the latest row of each stage that has
    ``step`` and ``stage_steps`` (or ``total``)."""
    out: dict[str, tuple[int, int]] = {}
    for r in rows:
        total = r.get("stage_steps", r.get("total"))
        if "step" in r and total:
            out[str(r.get("stage", ""))] = (int(r["step"]), int(total))
    return out
