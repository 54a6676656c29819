"""Field types of the config dataclasses, checked when a config is built (from widgets, flags or
an untrusted file): each field must hold a value of its default's type, finite, of sane size."""
from __future__ import annotations

import math
import numbers
from dataclasses import MISSING, fields
from typing import Any

#: the largest whole number any config field may hold
MAX_INT = 2**31 - 1


def check_field_types(config: Any, error: type[Exception] = ValueError, caps: dict[str, int] | None = None) -> None:
    """Raise ``error`` unless every field of the dataclass ``config`` holds a bool / whole number /
    finite number / string like its default, whole numbers within ±MAX_INT and within ``caps``
    (field -> largest value: e.g. network depths, so that no file can ask for a billion layers)."""
    for f in fields(config):
        if f.default is MISSING:
            continue
        value, kind = getattr(config, f.name), type(f.default)
        name = f"{type(config).__name__}.{f.name}"
        if kind is bool:
            ok = isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, numbers.Integral) and not isinstance(value, bool) and abs(value) <= MAX_INT
        elif kind is float:
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
        else:
            ok = isinstance(value, kind)
        if not ok:
            what = {bool: "true or false", int: f"whole number of size at most {MAX_INT:,}", float: "finite number",
                    str: "text"}.get(kind, kind.__name__)
            raise error(f"{name} must be a {what}, got {str(value)[:40]!r}")
        cap = (caps or {}).get(f.name)
        if cap is not None and value > cap:
            raise error(f"{name} must be at most {cap:,}, got {value:,}")
