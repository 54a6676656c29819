"""Saving and reading the project's files: plain dicts of tensors and Python values, written with
``torch.save`` and read back with ``weights_only=True`` — nothing is ever unpickled."""
from __future__ import annotations

import io
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from .scaling import Standardizer

#: the largest network a file may describe (parameters and buffers), checked before allocating
MAX_PARAMETERS = 50_000_000
#: the largest data dimension a file may declare
MAX_DIM = 1_000_000


def write_atomic(path: str | Path, write: Callable[[Any], None]) -> Path:
    """Write a file so that a reader (or a crash) sees either the old file or the whole new one:
    ``write(handle)`` fills a temporary file in the same folder, which is flushed to disk and then
    renamed over ``path``. Parent folders are created. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def reserve_path(folder: str | Path, stem: str, suffix: str) -> Path:
    """A new file name ``stem-YYYYmmdd-HHMMSS[-k]suffix`` in ``folder``, created empty and exclusively
    (O_EXCL), so two writers in the same second never get the same name. Write it with
    :func:`write_atomic` or :func:`save_state`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    base = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    for k in range(10_000):
        path = folder / f"{base}{'' if k == 0 else f'-{k}'}{suffix}"
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free name for {base}{suffix} in {folder}")


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return write_atomic(path, lambda handle: handle.write(data))


def save_state(state: dict[str, Any], path: str | Path) -> Path:
    """Write ``state`` to ``path`` atomically (parent folders created); returns the path."""
    return write_atomic(path, lambda handle: torch.save(state, handle))


def state_bytes(state: dict[str, Any]) -> bytes:
    """``state`` as the bytes of a file (for downloads)."""
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def read_state(source: str | Path | bytes, error: type[Exception], what: str) -> Any:
    """Read a file written by :func:`save_state` (a path or its bytes) with ``weights_only=True``.
    A missing path raises FileNotFoundError; anything unreadable raises ``error`` naming ``what``."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        return torch.load(handle, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # noqa: BLE001 - any unreadable file is "not a ..."
        raise error(f"this file is not {what} saved by OT Flow Studio ({type(err).__name__})") from None


def check_format(state: Any, fmt: str, version: int, error: type[Exception], what: str) -> None:
    """Refuse states of another format, or written by a newer version of the format."""
    if not isinstance(state, dict) or state.get("format") != fmt:
        raise error(f"this file is not {what} saved by OT Flow Studio")
    found = state.get("version", 0)
    if isinstance(found, bool) or not isinstance(found, int):
        raise error(f"this file is not {what} saved by OT Flow Studio (its format version {str(found)[:40]!r} "
                    "is not a whole number)")
    if found > version:
        raise error(f"this {what.split(' ', 1)[-1]} was saved by a newer version (format {found}); "
                    f"this version reads format ≤ {version}: please upgrade")
    meta = state.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise error(f"this file is not {what} saved by OT Flow Studio (its 'meta' is not a mapping)")


def network_state(fmt: str, version: int, dim: int, config: dict[str, Any], standardizer: Standardizer,
                  network: torch.nn.Module, meta: dict[str, Any]) -> dict[str, Any]:
    """The saved form of a network that works in standardised units (flows, density ratios): its
    format, the data dimension, its configuration, the standardisation and the weights on the CPU."""
    return {"format": fmt, "version": version, "dim": dim, "config": config,
            "mean": standardizer.mean.detach().cpu(), "scale": float(standardizer.scale),
            "weights": {k: v.detach().cpu() for k, v in network.state_dict().items()}, "meta": meta}


def read_dim(state: dict[str, Any]) -> int:
    """The data dimension stored by :func:`network_state`, checked to be a sane whole number."""
    dim = state["dim"]
    if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= MAX_DIM:
        raise ValueError(f"'dim' must be a whole number from 1 to {MAX_DIM}, got {str(dim)[:40]!r}")
    return dim


def read_standardizer(state: dict[str, Any], dim: int) -> Standardizer:
    """The standardisation stored by :func:`network_state`: a finite (dim,) mean, a finite scale > 0."""
    mean, scale = state["mean"], state["scale"]
    if not isinstance(mean, torch.Tensor) or tuple(mean.shape) != (dim,) or not torch.isfinite(mean).all():
        shape = tuple(mean.shape) if isinstance(mean, torch.Tensor) else type(mean).__name__
        raise ValueError(f"'mean' must be {dim} finite numbers, got {shape}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"'scale' must be a finite number > 0, got {str(scale)[:40]!r}")
    return Standardizer(mean.float(), float(scale))


def check_weights(build: Callable[[], nn.Module], weights: Any) -> None:
    """Check saved ``weights`` against the network ``build()`` describes, before allocating it: the
    network is built on the meta device (no memory), its size is bounded by MAX_PARAMETERS, and
    the saved tensors must have exactly its names and shapes, and finite values. Raises ValueError."""
    with torch.device("meta"):
        expected = build().state_dict()
    size = sum(t.numel() for t in expected.values())
    if size > MAX_PARAMETERS:
        raise ValueError(f"the network it describes has {size:,} parameters; at most {MAX_PARAMETERS:,} are allowed")
    if not isinstance(weights, dict):
        raise ValueError("'weights' is not a mapping of tensors")
    if set(weights) != set(expected):
        missing, extra = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
        raise ValueError(f"the weights do not match the network (missing {missing[:3]}, unexpected {extra[:3]})")
    for name, tensor in weights.items():
        if not isinstance(tensor, torch.Tensor) or tensor.shape != expected[name].shape:
            raise ValueError(f"weight {name!r} has the wrong shape")
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ValueError(f"weight {name!r} holds NaN or infinite values")
