"""Saving and reading the project's files: plain dicts of tensors and Python values, written with
``torch.save`` and read back with ``weights_only=True`` — nothing is ever unpickled."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from .scaling import Standardizer


def save_state(state: dict[str, Any], path: str | Path) -> Path:
    """Write ``state`` to ``path`` (parent folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path


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
    if int(state.get("version", 0)) > version:
        raise error(f"this {what.split(' ', 1)[-1]} was saved by a newer version (format {state['version']}); "
                    f"this version reads format ≤ {version}: please upgrade")


def network_state(fmt: str, version: int, dim: int, config: dict[str, Any], standardizer: Standardizer,
                  network: torch.nn.Module, meta: dict[str, Any]) -> dict[str, Any]:
    """The saved form of a network that works in standardised units (flows, density ratios): its
    format, the data dimension, its configuration, the standardisation and the weights on the CPU."""
    return {"format": fmt, "version": version, "dim": dim, "config": config,
            "mean": standardizer.mean.detach().cpu(), "scale": float(standardizer.scale),
            "weights": {k: v.detach().cpu() for k, v in network.state_dict().items()}, "meta": meta}


def read_standardizer(state: dict[str, Any]) -> Standardizer:
    """The standardisation stored by :func:`network_state`."""
    return Standardizer(state["mean"].float(), float(state["scale"]))
