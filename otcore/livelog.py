"""A run's live metrics file: the step metrics of a training run while it trains, for a reader in
another process (the app's Train page following a ``python -m otcore train`` job).

>>> with LiveLog("runs/x") as live:          # the CLI's train command does this on rank 0
...     for m in trainer.run():
...         live(m)
>>> read_live("runs/x").items               # the page, any time: the steps so far, oldest first

``RUN/live.json`` is rewritten atomically (``otcore.files``) at the first step, then at most every
``every_s`` seconds, and when the log closes, so a reader sees the previous whole file or the new
one, never half of one. Each item is ``dataclasses.asdict`` of one ``otcore.StepMetrics`` (the
library's own metrics; ``otcore.viz.rows.as_row`` reads it like the dataclass). The file stays
small on long runs: at most ``keep`` steps evenly spread over the run (every stride-th step, the
stride doubling when the list is full), as many validated steps spread alike, and the latest step.
A resumed run (``train --resume``) continues the file: steps repeated after its checkpoint replace
the old ones.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any

from .files import write_text
from .tblog import NullLogger

LIVE = "live.json"
FORMAT, VERSION = "otflow-live", 1


class Thinned:
    """At most ``keep`` items evenly spread over everything added: every ``stride``-th arrival is
    kept, and the stride doubles (dropping every other kept item) when the list overflows."""

    def __init__(self, keep: int):
        self.keep, self.stride, self.count = max(2, keep), 1, 0
        self.items: list[tuple[int, dict]] = []         # (arrival index, item)

    def add(self, item: dict) -> None:
        if self.count % self.stride == 0:
            self.items.append((self.count, item))
            if len(self.items) > self.keep:
                self.stride *= 2
                self.items = [(i, it) for i, it in self.items if i % self.stride == 0]
        self.count += 1

    def drop_from(self, global_step: int) -> None:
        """Forget the items at ``global_step`` and later (a resumed run repeats them)."""
        self.items = [(i, it) for i, it in self.items if it.get("global_step", 0) < global_step]

    def values(self) -> list[dict]:
        return [it for _, it in self.items]


class LiveLog(NullLogger):
    """Writes ``folder/live.json`` as the steps come (a logger like ``otcore.TensorBoardLogger``)."""

    def __init__(self, folder: str | Path, every_s: float = 1.0, keep: int = 2000):
        self.path = Path(folder) / LIVE
        self.every_s = every_s
        self.steps, self.validated = Thinned(keep), Thinned(keep)
        self.latest: dict | None = None
        self.count = 0
        self._resumed = read_live(folder)
        if self._resumed is not None:                   # replay the old file (already thinned) into this one
            for item in self._resumed.items:
                (self.validated if item.get("validation") is not None else self.steps).add(item)
        self._written = 0.0
        self._dirty = False

    def __call__(self, m: Any) -> None:
        item = _plain(asdict(m) if is_dataclass(m) and not isinstance(m, type) else dict(m))
        if self._resumed is not None:
            for part in (self.steps, self.validated):
                part.drop_from(int(item.get("global_step", 0)))
            self._resumed = None
        (self.validated if item.get("validation") is not None else self.steps).add(item)
        self.latest, self.count, self._dirty = item, self.count + 1, True
        if self.count == 1 or time.monotonic() - self._written >= self.every_s:
            self.flush()

    def flush(self) -> None:
        """Write the file now (nothing to do when no step came since the last write)."""
        if not self._dirty:
            return
        body = {"format": FORMAT, "version": VERSION, "updated": time.time(), "latest": self.latest,
                "steps": self.steps.values(), "validated": self.validated.values()}
        write_text(self.path, json.dumps(body, separators=(",", ":")))
        self._written, self._dirty = time.monotonic(), False

    def close(self) -> None:
        self.flush()


@dataclass(frozen=True)
class Live:
    """What :func:`read_live` finds: the kept steps and the latest one, oldest first by global step."""
    items: list[dict]
    latest: dict | None
    updated: float                 # time.time() of the write


def read_live(folder: str | Path) -> Live | None:
    """The live metrics of run ``folder``, or None when it has none (yet) or they cannot be read."""
    try:
        body = json.loads((Path(folder) / LIVE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or body.get("format") != FORMAT or not isinstance(body.get("version"), int) \
            or body["version"] > VERSION:
        return None
    latest = body.get("latest") if isinstance(body.get("latest"), dict) else None
    found = [it for key in ("steps", "validated") for it in body.get(key) or [] if isinstance(it, dict)]
    if latest is not None:
        found.append(latest)
    by_step = {int(it.get("global_step", 0)): it for it in found if isinstance(it.get("global_step", 0), (int, float))}
    updated = body.get("updated")
    return Live([by_step[k] for k in sorted(by_step)], latest, float(updated) if isinstance(updated, (int, float)) else 0.0)


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready Python: dicts, lists, str, bool, int, float (numpy and torch
    scalars become floats) and None; anything else is left out."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        out = {str(k): _plain(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _SKIP}
    if isinstance(value, (list, tuple)):
        return [v for v in (_plain(x) for x in value) if v is not _SKIP]
    try:
        number = float(value)                        # numpy / torch scalars
    except (TypeError, ValueError):
        return _SKIP
    return number


_SKIP = object()
