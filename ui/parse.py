"""Reading numbers typed into text boxes (means, covariance matrices) with messages a person can act on."""
from __future__ import annotations

import numpy as np


class ParseError(ValueError):
    """Typed numbers could not be read; the message says what to fix."""


def _numbers(text: str, what: str) -> list[float]:
    cells = [c for c in text.replace(",", " ").split() if c]
    out = []
    for k, c in enumerate(cells, start=1):
        try:
            out.append(float(c))
        except ValueError:
            raise ParseError(f"{what}: entry {k} ({c!r}) is not a number") from None
    if not all(np.isfinite(out)):
        raise ParseError(f"{what}: entries must be finite numbers")
    return out


def parse_vector(text: str, dim: int, what: str = "mean") -> np.ndarray:
    """'1, 2, 3' -> array (dim,). A single number is repeated in every coordinate."""
    vals = _numbers(text, what)
    if len(vals) == 1:
        return np.full(dim, vals[0])
    if len(vals) != dim:
        raise ParseError(f"{what}: expected {dim} numbers (or one for all coordinates), got {len(vals)}")
    return np.asarray(vals, dtype=float)


def parse_matrix(text: str, dim: int, what: str = "covariance") -> np.ndarray:
    """Rows separated by ';' or new lines, entries by ',' or spaces -> (dim, dim) symmetric positive
    definite matrix. A single number s means s·I."""
    rows = [r for r in text.replace("\n", ";").split(";") if r.strip()]
    if len(rows) == 1 and len(_numbers(rows[0], what)) == 1:
        s = _numbers(rows[0], what)[0]
        mat = s * np.eye(dim)
    else:
        if len(rows) != dim:
            raise ParseError(f"{what}: expected {dim} rows separated by ';', got {len(rows)}")
        mat = np.asarray([_row(r, dim, i, what) for i, r in enumerate(rows, start=1)], dtype=float)
    if not np.allclose(mat, mat.T, atol=1e-9):
        raise ParseError(f"{what}: the matrix must be symmetric")
    if np.linalg.eigvalsh(mat).min() <= 0:
        raise ParseError(f"{what}: the matrix must be positive definite (all eigenvalues > 0)")
    return mat


def _row(text: str, dim: int, i: int, what: str) -> list[float]:
    vals = _numbers(text, f"{what} row {i}")
    if len(vals) != dim:
        raise ParseError(f"{what}: row {i} has {len(vals)} numbers, expected {dim}")
    return vals


def format_vector(v: np.ndarray) -> str:
    return ", ".join(f"{x:g}" for x in np.asarray(v).ravel())


def format_matrix(m: np.ndarray) -> str:
    return "; ".join(format_vector(r) for r in np.asarray(m))
