"""A training run's folder on disk: what it trains on, its latest checkpoint, and its flow once done.

The layout is the CLI's (``python -m otcore train --out RUN``), so either side can list the other's runs::

    RUN/config.json     the FlowConfig
    RUN/samples.npz     P and Q (the exact samples, so a resumed run trains on the same data)
    RUN/checkpoint.pt   Trainer.checkpoint(), rewritten every so often (atomically)
    RUN/status.json     stage and step of that checkpoint (read without loading it)
    RUN/app.json        labels of P and Q (runs started in the app)
    RUN/flow.pt         the trained flow: present once the run has finished
    RUN/live.json       the steps so far, while the CLI trains (``otcore.livelog``)
    RUN/job.json …      a run started as a job by the app (``ui.cli_job``)

A folder with a checkpoint and samples but no flow is *unfinished*: :func:`unfinished` lists
them, :func:`load` reads one back for ``Trainer.resume``. Every write goes through
``otcore.files`` (temporary file, then rename).
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import FlowConfig
from .files import read_state, save_state, write_atomic, write_text

CHECKPOINT, SAMPLES, CONFIG, STATUS, INFO, FLOW = (
    "checkpoint.pt", "samples.npz", "config.json", "status.json", "app.json", "flow.pt")


class RunFolderError(ValueError):
    """A run folder that cannot be read back (missing or malformed files)."""


@dataclass(frozen=True)
class RunInfo:
    """An unfinished run found on disk."""
    folder: Path
    title: str                 # "moons → 8gaussians" (or the folder's name)
    stage: str | None          # stage of its latest checkpoint ('warm-start', 'refine' …)
    global_step: int | None
    saved: float               # time.time() of its latest checkpoint


@dataclass
class Resumable:
    """What :func:`load` reads back: the samples, the checkpoint and the labels."""
    P: torch.Tensor
    Q: torch.Tensor
    checkpoint: dict
    info: dict[str, Any]


def create(root: str | Path, stem: str, P: torch.Tensor, Q: torch.Tensor, config: FlowConfig,
           info: dict[str, Any] | None = None) -> Path:
    """A new, uniquely named folder ``root/stem-YYYYmmdd-HHMMSS[-k]`` with the run's config, samples
    and labels (mkdir is exclusive: two runs started in the same second get two folders)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem)[:60] or "run"
    base = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    for k in range(10_000):
        folder = root / f"{base}{'' if k == 0 else f'-{k}'}"
        try:
            folder.mkdir()
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free run folder name for {base} in {root}")
    write_text(folder / CONFIG, json.dumps(config.to_dict(), indent=2))
    write_atomic(folder / SAMPLES, lambda h: np.savez(h, P=np.asarray(P, dtype=np.float32),
                                                      Q=np.asarray(Q, dtype=np.float32)))
    write_text(folder / INFO, json.dumps(info or {}, indent=2))
    return folder


def save_checkpoint(folder: str | Path, checkpoint: dict) -> Path:
    """Write ``checkpoint`` (a ``Trainer.checkpoint()``) and its status line."""
    folder = Path(folder)
    path = save_state(checkpoint, folder / CHECKPOINT)
    write_text(folder / STATUS, json.dumps({"stage": checkpoint.get("stage"),
                                            "global_step": checkpoint.get("global_step"), "saved": time.time()}))
    return path


def finished(folder: str | Path) -> bool:
    return (Path(folder) / FLOW).is_file()


def unfinished(root: str | Path, exclude: set[Path] | frozenset = frozenset()) -> list[RunInfo]:
    """Run folders under ``root`` with a checkpoint and samples but no flow yet, newest first;
    folders in ``exclude`` (runs training right now) are left out."""
    root = Path(root)
    if not root.is_dir():
        return []
    skip = {Path(p).resolve() for p in exclude}
    found = []
    for folder in root.iterdir():
        if not folder.is_dir() or folder.resolve() in skip or finished(folder):
            continue
        ck = folder / CHECKPOINT
        if not (ck.is_file() and (folder / SAMPLES).is_file()):
            continue
        status = read_json(folder / STATUS)
        info = read_json(folder / INFO)
        title = _title(info) or folder.name
        step = status.get("global_step")
        found.append(RunInfo(folder, title, status.get("stage"), step if isinstance(step, int) else None,
                             os.path.getmtime(ck)))
    return sorted(found, key=lambda r: r.saved, reverse=True)


def load(folder: str | Path) -> Resumable:
    """The samples, checkpoint and labels of a run folder (RunFolderError when it cannot be read)."""
    folder = Path(folder)
    for name in (CHECKPOINT, SAMPLES):
        if not (folder / name).is_file():
            raise RunFolderError(f"the run folder {folder.name} has no {name}: it cannot be resumed")
    P, Q = samples(folder)
    checkpoint = read_state(folder / CHECKPOINT, RunFolderError, "a training checkpoint")
    if not isinstance(checkpoint, dict):
        raise RunFolderError(f"the checkpoint of run {folder.name} is not a training checkpoint")
    return Resumable(P, Q, checkpoint, read_json(folder / INFO))


def samples(folder: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """P and Q of a run folder (read without pickles; RunFolderError when they cannot be read)."""
    folder = Path(folder)
    try:
        with np.load(folder / SAMPLES, allow_pickle=False) as data:
            P, Q = torch.as_tensor(data["P"], dtype=torch.float32), torch.as_tensor(data["Q"], dtype=torch.float32)
    except (KeyError, ValueError, OSError) as err:
        raise RunFolderError(f"the samples of run {folder.name} cannot be read ({type(err).__name__})") from None
    if P.ndim != 2 or Q.ndim != 2 or P.shape[1] != Q.shape[1]:
        raise RunFolderError(f"the samples of run {folder.name} are not two (n, d) arrays of the same d")
    return P, Q


def read_info(folder: str | Path) -> dict[str, Any]:
    """The labels a run folder's app.json holds ({} when it has none)."""
    return read_json(Path(folder) / INFO)


def run_title(folder: str | Path) -> str:
    """The run's title: "P → Q" from its labels, else the folder's name."""
    return _title(read_info(folder)) or Path(folder).name


def _title(info: dict) -> str | None:
    p, q = info.get("label_p"), info.get("label_q")
    return f"{p} → {q}" if isinstance(p, str) and isinstance(q, str) else None


def read_json(path: Path) -> dict:
    """The JSON object in ``path``, or {} when it is missing, unreadable or not an object."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
