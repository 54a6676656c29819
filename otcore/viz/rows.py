"""The step-metrics contract: every trainer's per-step metrics become one flat chart row.

Each trainer yields its own small metrics dataclass (``otcore.StepMetrics`` for the flow and the
autoencoder, ``otcore.dre.RatioStepMetrics`` for the ratio network, ``otcore.dre.StageStep`` for
staged runs). :func:`as_row` turns any of them (or a plain dict) into the row that every figure of
``otcore.viz`` reads:

* ``stage`` (str), ``step`` (steps done in the stage), ``stage_steps`` (steps the stage will take),
  ``global_step`` and ``elapsed`` (seconds) — always present (stage ``""``, ``elapsed`` absent only
  when the item carries no clock);
* every loss term of the step under its own name (``loss``, ``flow_matching``, ``kl_qp`` …);
* held-out measurements of the step as ``val_<name>``;
* readouts carried from earlier steps (a flow's latest KL estimate …) as ``latest_<name>``.

A metrics type whose fields do not follow the ``losses`` / ``validation`` layout registers its own
converter in :data:`CONVERTERS` (by class name, so this module imports no trainer).
"""
from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any, Callable, Iterable

#: columns that describe where a step is, not what it measured
BOOKKEEPING = frozenset({"stage", "step", "stage_steps", "global_step", "elapsed", "steps_per_s", "gamma", "total",
                         "lr"})
#: the columns every row has (``elapsed`` when the item carries a clock)
REQUIRED = ("stage", "step", "stage_steps", "global_step")


def _ratio_row(m: Any) -> dict[str, Any]:
    """``otcore.dre.RatioStepMetrics``: the time score's loss per interval and, when validated,
    the held-out loss and KL estimates."""
    row: dict[str, Any] = {"stage": "ratio", "step": m.step, "stage_steps": m.steps, "loss": m.loss,
                           "lr": m.lr, "elapsed": m.elapsed, "steps_per_s": m.steps_per_s}
    if m.validation is not None:
        row.update(val_loss=m.validation.loss, val_kl_pq=m.validation.kl_pq, val_kl_qp=m.validation.kl_qp)
    for k, v in (m.extras or {}).items():
        if _number(v):
            row[f"latest_{k}"] = float(v)
    return row


def _stage_row(m: Any) -> dict[str, Any]:
    """``otcore.dre.StageStep``: one step of a staged run (bridge flow, ratio, one-step baseline)."""
    row: dict[str, Any] = {"stage": m.stage, "step": m.step, "stage_steps": m.stage_steps, "loss": m.loss,
                           "elapsed": m.elapsed}
    if m.estimate is not None:
        row["latest_estimate"] = float(m.estimate)
    return row


#: metrics class name -> its converter (types without the ``losses`` layout)
CONVERTERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "RatioStepMetrics": _ratio_row,
    "StageStep": _stage_row,
}


def as_row(m: Any, index: int | None = None) -> dict[str, Any]:
    """One metrics item (any trainer's, or a dict) as a flat row ``{name: float | str}``.

    ``index`` is the item's position in its history: ``step`` and ``global_step`` default to
    ``index + 1`` and ``stage_steps`` to ``step`` when the item does not say."""
    convert = CONVERTERS.get(type(m).__name__)
    if convert is not None:
        row = convert(m)
    else:
        row = _generic_row(m)
    row.setdefault("stage", "")
    if "step" not in row and index is not None:
        row["step"] = index + 1
    if "global_step" not in row and index is not None:
        row["global_step"] = index + 1
    if "global_step" not in row and "step" in row:
        row["global_step"] = row["step"]
    if "stage_steps" not in row and "step" in row:
        row["stage_steps"] = row.get("total", row["step"])
    return row


def _generic_row(m: Any) -> dict[str, Any]:
    """Dataclasses with a ``losses`` dict (``otcore.StepMetrics``) and plain dicts of numbers."""
    if is_dataclass(m) and not isinstance(m, type):
        raw = asdict(m)
    elif isinstance(m, dict):
        raw = dict(m)
    else:
        raw = {"value": m}
    has_losses = isinstance(raw.get("losses"), dict)
    row: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            prefix = "val_" if key == "validation" else "" if key == "losses" else "latest_"
            for k, v in value.items():
                if _number(v):
                    row[prefix + k] = float(v)
        elif _number(value):
            name = key if not has_losses or key in BOOKKEEPING else f"latest_{key}"
            row[name] = float(value) if isinstance(value, float) else value
        elif isinstance(value, str):
            row[key] = value
    return row


def rows(history: Iterable[Any]) -> list[dict[str, Any]]:
    """:func:`as_row` of every item, indexed by position."""
    return [as_row(m, i) for i, m in enumerate(history)]


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
