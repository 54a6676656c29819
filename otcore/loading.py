"""Loading user samples from CSV, ``.npy`` and ``.npz`` files — safely.

Every problem raises :class:`SampleLoadError` with a message a person can act on.
Nothing is ever unpickled.
"""
from __future__ import annotations

import csv
import io
import math
import zipfile
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import torch

Source = Union[str, Path, bytes, BinaryIO]

#: Default ceiling on a file's size (bytes); uploads larger than this are refused unread.
MAX_BYTES = 200 * 1024 * 1024
FORMATS = (".csv", ".txt", ".npy", ".npz")


class SampleLoadError(ValueError):
    """A sample file could not be turned into an (n, d) float array; the message says why."""


def _read_bytes(source: Source, max_bytes: int) -> bytes:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise SampleLoadError(f"{path} does not exist or is not a file")
        if path.stat().st_size > max_bytes:
            raise SampleLoadError(f"the file is {path.stat().st_size / 2**20:.1f} MiB; the limit is {max_bytes / 2**20:.0f} MiB")
        return path.read_bytes()
    data = source if isinstance(source, bytes) else source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SampleLoadError(f"the file is larger than the {max_bytes / 2**20:.0f} MiB limit")
    return data


def _parse_csv(data: bytes) -> np.ndarray:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SampleLoadError("the file is not UTF-8 text; expected comma-separated numbers") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t ")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True) if any(c.strip() for c in r)]
    if not rows:
        raise SampleLoadError("the file is empty: expected one sample per row, one number per column")
    start = 0
    if any(not _is_number(c) for c in rows[0]):
        start = 1  # a header row
    values = []
    width = len(rows[0])
    for i, row in enumerate(rows[start:], start=start + 1):
        if len(row) != width:
            raise SampleLoadError(f"row {i} has {len(row)} columns but the first row has {width}")
        parsed = []
        for j, cell in enumerate(row, start=1):
            if not _is_number(cell):
                raise SampleLoadError(f"row {i}, column {j} is not a number: {cell.strip()[:30]!r}")
            parsed.append(float(cell))
        values.append(parsed)
    if not values:
        raise SampleLoadError("the file has a header but no data rows")
    return np.asarray(values, dtype=np.float64)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _from_npy(data: bytes) -> np.ndarray:
    if not data.startswith(b"\x93NUMPY"):
        raise SampleLoadError("not a valid .npy file (no NumPy header); save it with numpy.save")
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as err:
        if "pickle" in str(err).lower() or "object" in str(err).lower():
            raise SampleLoadError("the array holds Python objects (a pickle); save plain numbers instead") from None
        raise SampleLoadError(f"not a valid .npy file: {err}") from None
    except Exception as err:  # noqa: BLE001 - any parse failure is the user's file
        raise SampleLoadError(f"not a valid .npy file: {err}") from None


def _from_npz(data: bytes, key: str | None, max_bytes: int) -> np.ndarray:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile:
        raise SampleLoadError("not a valid .npz file (it is not a zip archive)") from None
    if total > max_bytes:
        raise SampleLoadError(f"the .npz unpacks to {total / 2**20:.0f} MiB; the limit is {max_bytes / 2**20:.0f} MiB")
    try:
        archive = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as err:  # noqa: BLE001
        raise SampleLoadError(f"not a valid .npz file: {err}") from None
    names = list(archive.files)
    if not names:
        raise SampleLoadError("the .npz archive holds no arrays")
    if key is None:
        if len(names) > 1:
            preferred = [k for k in ("samples", "x", "X", "data", "arr_0") if k in names]
            if not preferred:
                raise SampleLoadError(f"the .npz holds several arrays ({', '.join(names)}); name one 'samples'")
            key = preferred[0]
        else:
            key = names[0]
    if key not in names:
        raise SampleLoadError(f"the .npz has no array {key!r}; it holds {', '.join(names)}")
    try:
        return archive[key]
    except ValueError:
        raise SampleLoadError(f"array {key!r} holds Python objects (a pickle); save plain numbers instead") from None


def validate_samples(arr: np.ndarray) -> np.ndarray:
    """Check an array is a finite numeric (n, d) sample set with n ≥ 2; return it as float64.
    A 1-D array is read as n samples of one dimension."""
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise SampleLoadError(f"expected numbers, found values of type {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise SampleLoadError("complex numbers are not supported")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise SampleLoadError(f"expected a table of shape (samples, dimensions); got an array of shape {arr.shape}")
    n, d = arr.shape
    if n < 2:
        raise SampleLoadError(f"need at least 2 samples (rows); got {n}")
    if d < 1:
        raise SampleLoadError("the samples have no columns")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        what = "NaN" if math.isnan(arr[i, j]) else "infinite"
        raise SampleLoadError(f"row {i + 1}, column {j + 1} is {what}; remove or fill missing values ({int(bad.sum())} such cells)")
    return arr


def load_samples(source: Source, *, name: str | None = None, key: str | None = None, max_bytes: int = MAX_BYTES) -> torch.Tensor:
    """Read samples from a CSV (header optional), ``.npy`` or ``.npz`` file.

    source: a path, raw bytes or a binary file object (``name`` then gives the file name, whose
    suffix picks the format). ``key`` picks the array of a multi-array ``.npz``.
    Returns an (n, d) float32 tensor. Raises :class:`SampleLoadError` on any bad input.
    """
    label = name or (str(source) if isinstance(source, (str, Path)) else getattr(source, "name", ""))
    suffix = Path(label).suffix.lower()
    if suffix not in FORMATS:
        raise SampleLoadError(f"unsupported file type {suffix or '(none)'!r}; use one of {', '.join(FORMATS)}")
    data = _read_bytes(source, max_bytes)
    if not data:
        raise SampleLoadError("the file is empty")
    if suffix == ".npy":
        arr = _from_npy(data)
    elif suffix == ".npz":
        arr = _from_npz(data, key, max_bytes)
    else:
        arr = _parse_csv(data)
    return torch.as_tensor(validate_samples(arr), dtype=torch.float32)
