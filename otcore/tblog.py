"""Training metrics as TensorBoard scalars: every number of every step, where researchers look.

>>> with TensorBoardLogger("runs/x") as log:
...     for m in trainer.run():
...         log(m)                     # then: tensorboard --logdir runs/

The app's Train page and the CLI (``--log tensorboard``) call the same object; it knows nothing of
either. ``torch.utils.tensorboard`` (and so the ``tensorboard`` package) is imported only when a
TensorBoard logger is made, so ``import otcore`` stays light.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .trainer import StepMetrics

#: the per-step fields that are numbers (None on steps where they are unknown)
_FIELDS = ("steps_per_s", "gamma", "kl_pq", "kl_qp", "transport_cost", "fit")
_VALIDATION = ("fit", "fit_reverse", "transport_cost", "kl_pq", "kl_qp")


def metric_scalars(m: StepMetrics) -> dict[str, float]:
    """Every number of one step's metrics, by TensorBoard tag (``stage/loss`` for the loss terms,
    ``validation/…`` on validated steps, ``train/…`` for the rest). Unknown values are left out;
    non-finite ones are kept (a diverging run should show it)."""
    out = {f"{m.stage}/{name}": float(v) for name, v in m.losses.items()}
    out.update({f"train/{name}": float(getattr(m, name)) for name in _FIELDS if getattr(m, name) is not None})
    out.update({f"train/{name}": float(v) for name, v in m.extras.items()})
    out["train/elapsed_s"] = float(m.elapsed)
    out["train/stage_step"] = float(m.step)
    if m.validation is not None:
        out.update({f"validation/{name}": float(getattr(m.validation, name)) for name in _VALIDATION
                    if getattr(m.validation, name) is not None})
    return out


class NullLogger:
    """Logs nothing (``--log none``)."""

    def __call__(self, m: StepMetrics) -> None:
        pass

    def summary(self, values: dict[str, float | None], step: int) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class TensorBoardLogger(NullLogger):
    """Writes :func:`metric_scalars` of every step to TensorBoard event files in ``folder``, at the
    step's ``global_step``. ``flush_s``: seconds between flushes to disk (a live reader sees the run
    that far behind). A resumed run appends a new event file to the same folder; its steps continue."""

    def __init__(self, folder: str | Path, flush_s: float = 5.0):
        from torch.utils.tensorboard import SummaryWriter

        self.folder = Path(folder)
        self._writer = SummaryWriter(log_dir=str(self.folder), flush_secs=max(1, round(flush_s)))

    def __call__(self, m: StepMetrics) -> None:
        for tag, value in metric_scalars(m).items():
            self._writer.add_scalar(tag, value, global_step=m.global_step)

    def summary(self, values: dict[str, float | None], step: int) -> None:
        """Numbers of the final report as ``report/…`` scalars at ``step`` (non-numbers left out)."""
        for name, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                self._writer.add_scalar(f"report/{name}", float(value), global_step=step)

    def close(self) -> None:
        self._writer.close()


#: ``--log`` choices: name -> logger factory of a run folder
LOGGERS: dict[str, Callable[[Path], NullLogger]] = {
    "none": lambda folder: NullLogger(),
    "tensorboard": TensorBoardLogger,
}


def open_logger(kind: str, folder: str | Path) -> NullLogger:
    """The logger ``kind`` ('none' | 'tensorboard') writing into ``folder``."""
    if kind not in LOGGERS:
        raise ValueError(f"unknown log {kind!r}; choose one of {', '.join(LOGGERS)}")
    return LOGGERS[kind](Path(folder))
