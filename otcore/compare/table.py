"""The comparison table: one row per method, and its CSV (written atomically, read back exactly)."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Iterable

from ..files import write_text
from .result import MethodResult

#: the table's columns, in order
COLUMNS = ("method", "label", "cost", "exact_cost", "cost_ratio", "fit", "straightness", "inversion_error",
           "seconds", "note")
TEXT_COLUMNS = ("method", "label", "note")
#: how a missing number (a static map's inversion error) is written
MISSING = "n/a"


def table_rows(results: Iterable[MethodResult]) -> list[dict[str, float | str]]:
    """One row per result: {column: value}; numbers as floats, NaN where a readout does not apply."""
    return [{"method": r.method, "label": r.label, "cost": r.cost, "exact_cost": r.exact_cost,
             "cost_ratio": r.cost_ratio, "fit": r.fit, "straightness": r.straightness,
             "inversion_error": r.inversion_error, "seconds": r.seconds, "note": r.note} for r in results]


def _cell(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return MISSING if math.isnan(value) else repr(float(value))


def table_csv(rows: Iterable[dict[str, float | str]]) -> str:
    """The rows as CSV text with a header; numbers written exactly (repr), NaN as 'n/a'."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def read_table_csv(text: str) -> list[dict[str, float | str]]:
    """Rows of a CSV written by :func:`table_csv` ('n/a' read as NaN)."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ValueError(f"not a comparison table: expected the columns {', '.join(COLUMNS)}")
    return [{c: row[c] if c in TEXT_COLUMNS else float("nan") if row[c] == MISSING else float(row[c])
             for c in COLUMNS} for row in reader]


def write_table_csv(path: str | Path, results: Iterable[MethodResult]) -> Path:
    """Write the table of ``results`` to ``path`` as CSV, atomically. Returns the path."""
    return write_text(path, table_csv(table_rows(results)))
