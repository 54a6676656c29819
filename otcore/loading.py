"""Loading user samples from CSV, ``.npy`` and ``.npz`` files — safely.

Every problem raises :class:`SampleLoadError` with a message a person can act on. Nothing is ever
unpickled, and nothing is allocated before its size is known to fit the file: a CSV is parsed in
chunks into a float32 table sized from a first pass over its lines, and a ``.npy`` header's shape
is checked against the bytes that follow it. Row numbers in CSV messages are the file's line
numbers (1-based, the header being line 1).
"""
from __future__ import annotations

import codecs
import csv
import io
import math
import re
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import torch

Source = Union[str, Path, bytes, BinaryIO]

#: Default ceiling on a file's size (bytes); uploads larger than this are refused unread.
MAX_BYTES = 200 * 1024 * 1024
FORMATS = (".csv", ".txt", ".npy", ".npz")
#: a CSV is parsed this many bytes (whole lines) at a time
CHUNK_BYTES = 1 << 18
#: the first of these found in the first non-blank line separates the columns; else runs of spaces
DELIMITERS = ("\t", ";", ",")
#: the smallest magnitude that rounds to infinity in float32 (float32's largest is about 3.4e38)
FLOAT32_OVERFLOW = 2.0 ** 128 - 2.0 ** 103
DECIMAL_COMMA_HINT = " (decimal commas? use a dot as the decimal separator)"


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


# --- CSV -----------------------------------------------------------------------------------------
def _parse_csv(data: bytes) -> np.ndarray:
    """CSV bytes -> (n, d) float32. The first non-blank line picks the delimiter and the number of
    columns, and is a header unless all its cells are numbers; blank lines are skipped.

    Each chunk of lines goes through NumPy's fast reader; a chunk it refuses, or that holds NaN,
    infinite or float32-overflowing values, is read again cell by cell to name the line and column
    (that reader defines what is accepted; the fast one accepts a subset of it)."""
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")                    # classic Mac line ends
    first, line_no, begin, end = _first_line(data, len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
    delimiter = next((d for d in DELIMITERS if d in first), None)
    cells = _cells(first, delimiter, line_no)
    width = len(cells)
    header = not all(_is_number(c) for c in cells)
    start, start_line = (end, line_no + 1) if header else (begin, line_no)
    # A data row of ``width`` cells takes at least 2 * width bytes (one character a cell, one
    # delimiter or line end after each), so this bounds the table by the file's size.
    capacity = min(data.count(b"\n", start) + 1, (len(data) - start + 1) // (2 * width) + 1)
    out = np.empty((capacity, width), dtype=np.float32)
    filled = 0
    for text, chunk_line in _chunks(data, start, start_line):
        block = _fast_block(text, delimiter, width)
        if block is None:
            block = _checked_block(text, chunk_line, delimiter, width)
        if filled + len(block) > capacity:                   # cannot happen (see the bound above)
            raise SampleLoadError("the file has more rows than its size allows; it is not a plain table")
        out[filled:filled + len(block)] = block
        filled += len(block)
    if filled == 0:
        hint = DECIMAL_COMMA_HINT if all(_decimal_comma(c) for c in cells) else ""
        raise SampleLoadError(f"the file has a header but no data rows{hint}")
    return out[:filled] if filled > 0.75 * capacity else out[:filled].copy()


_LEADING_SPACE = re.compile(rb"[ \t\n\r\f\v]*")


def _first_line(data: bytes, skip: int) -> tuple[str, int, int, int]:
    """The first non-blank line after ``skip`` bytes (a byte-order mark): (its text, its line
    number, its offset, the offset after it)."""
    pos = _LEADING_SPACE.match(data, skip).end()             # skip leading ASCII white space at once
    pos = max(data.rfind(b"\n", skip, pos) + 1, skip)
    line_no = data.count(b"\n", 0, pos) + 1
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        text = _decode(data[pos:end], line_no).rstrip("\r")
        if text.strip():
            return text, line_no, pos, end + 1
        pos, line_no = end + 1, line_no + 1
    raise SampleLoadError("the file is empty: expected one sample per row, one number per column")


def _chunks(data: bytes, start: int, line_no: int):
    """(text, line number of its first line) for successive runs of whole lines from ``start``."""
    pos = start
    while pos < len(data):
        end = data.find(b"\n", min(pos + CHUNK_BYTES, len(data)) - 1)
        end = len(data) if end < 0 else end + 1
        chunk = data[pos:end]
        yield _decode(chunk, line_no), line_no
        line_no += chunk.count(b"\n")
        pos = end


def _decode(chunk: bytes, line_no: int) -> str:
    try:
        return chunk.decode("utf-8")
    except UnicodeDecodeError as err:
        line = line_no + chunk.count(b"\n", 0, err.start)
        raise SampleLoadError(f"the file is not UTF-8 text (line {line}); expected comma-separated numbers") from None


def _fast_block(text: str, delimiter: str | None, width: int) -> np.ndarray | None:
    """The chunk's rows as float32 (r, width), or None if anything needs a closer look."""
    if not text.strip():
        return np.empty((0, width), dtype=np.float32)
    quoted = delimiter is not None and '"' in text
    try:
        block = np.loadtxt(io.StringIO(text), dtype=np.float64, delimiter=delimiter, comments=None,
                           quotechar='"' if quoted else None, ndmin=2)
    except ValueError:
        return None
    if block.shape[0] == 0 or block.shape[1] != width:
        return None
    if quoted and block.shape[0] != sum(1 for line in text.split("\n") if line.strip()):
        return None                                          # a quoted cell spanning lines
    with np.errstate(over="ignore"):
        block = block.astype(np.float32)
    return block if np.isfinite(block).all() else None


def _checked_block(text: str, line_no: int, delimiter: str | None, width: int) -> np.ndarray:
    """The chunk read cell by cell; raises SampleLoadError naming the line and column of a problem."""
    rows = []
    for k, line in enumerate(text.split("\n")):
        line = line[:-1] if line.endswith("\r") else line
        if not line.strip():
            continue
        cells = _cells(line, delimiter, line_no + k)
        if len(cells) != width:
            raise SampleLoadError(f"row {line_no + k} has {len(cells)} columns but the first row has {width}")
        rows.append([_value(c, line_no + k, j) for j, c in enumerate(cells, start=1)])
    return np.asarray(rows, dtype=np.float32).reshape(-1, width)


def _cells(line: str, delimiter: str | None, line_no: int) -> list[str]:
    if delimiter is None:
        return line.split()
    if "\r" in line:
        raise SampleLoadError(f"row {line_no} has a carriage return (\\r) inside it; save the file with "
                              "ordinary line ends")
    try:
        return next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])
    except csv.Error as err:
        raise SampleLoadError(f"row {line_no} could not be read as CSV ({err})") from None


def _value(cell: str, line_no: int, column: int) -> float:
    text = cell.strip()
    where = f"row {line_no}, column {column}"
    try:
        value = float(text)
    except ValueError:
        hint = DECIMAL_COMMA_HINT if _decimal_comma(text) else ""
        raise SampleLoadError(f"{where} is not a number: {text[:30]!r}{hint}") from None
    if math.isnan(value):
        raise SampleLoadError(f"{where} is NaN; remove or fill missing values")
    if math.isinf(value) and text.lstrip("+-").lower() in ("inf", "infinity"):
        raise SampleLoadError(f"{where} is infinite; remove or fill missing values")
    if abs(value) >= FLOAT32_OVERFLOW:
        raise SampleLoadError(f"{where}: {text[:30]} is too large for 32-bit floats (largest about "
                              "±3.4e38); rescale that column")
    return value


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _decimal_comma(cell: str) -> bool:
    """'1,5' or '1.234,5': a number written with a decimal comma."""
    text = cell.strip()
    return "," in text and (_is_number(text.replace(",", ".")) or _is_number(text.replace(".", "").replace(",", ".")))


# --- NumPy files -----------------------------------------------------------------------------------
_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _from_npy(data: bytes, what: str = "the file") -> np.ndarray:
    """Check the header (version, dtype, shape against the bytes that follow), then read the array."""
    if not data.startswith(b"\x93NUMPY"):
        raise SampleLoadError(f"{what} is not a valid .npy file (no NumPy header); save it with numpy.save")
    handle = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(handle)
        if version not in _NPY_HEADERS:
            raise ValueError(f"unsupported format version {version}")
        shape, _, dtype = _NPY_HEADERS[version](handle)
    except Exception as err:  # noqa: BLE001 - any header failure is the user's file
        raise SampleLoadError(f"{what} is not a valid .npy file: {err}") from None
    if dtype.hasobject:
        raise SampleLoadError(f"{what} holds Python objects (a pickle); save plain numbers instead")
    if any(n < 0 for n in shape):
        raise SampleLoadError(f"{what} is not a valid .npy file: negative shape {shape}")
    needed, available = math.prod(shape) * dtype.itemsize, len(data) - handle.tell()
    if needed > available:
        raise SampleLoadError(f"{what} is truncated: its header announces an array of shape {shape} "
                              f"({needed:,} bytes) but only {available:,} bytes follow")
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as err:  # noqa: BLE001
        raise SampleLoadError(f"{what} is not a valid .npy file: {err}") from None


def _from_npz(data: bytes, key: str | None, max_bytes: int) -> np.ndarray:
    """Read one array of a zip of .npy files, each member checked like a .npy file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise SampleLoadError("not a valid .npz file (it is not a zip archive)") from None
    total = sum(info.file_size for info in infos)
    if total > max_bytes:
        raise SampleLoadError(f"the .npz unpacks to {total / 2**20:.0f} MiB; the limit is {max_bytes / 2**20:.0f} MiB")
    members = {(i.filename[:-4] if i.filename.endswith(".npy") else i.filename): i for i in infos}
    names = list(members)
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
    if key not in members:
        raise SampleLoadError(f"the .npz has no array {key!r}; it holds {', '.join(names)}")
    info = members[key]
    try:
        with archive.open(info) as handle:
            raw = handle.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError, zlib.error) as err:
        raise SampleLoadError(f"array {key!r} of the .npz could not be unpacked ({err})") from None
    if len(raw) != info.file_size:
        raise SampleLoadError(f"array {key!r} of the .npz could not be unpacked (its size does not match the archive's)")
    return _from_npy(raw, f"array {key!r} of the .npz")


# --- checks and the front door -------------------------------------------------------------------
def validate_samples(arr: np.ndarray) -> np.ndarray:
    """Check an array is a finite numeric (n, d) sample set with n ≥ 2 whose values fit float32;
    return it as float32 (n, d). A 1-D array is read as n samples of one dimension."""
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
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.ascontiguousarray(arr, dtype=np.float32)
    bad = ~np.isfinite(out)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        value = float(arr[i, j])
        where = f"row {i + 1}, column {j + 1}"
        if math.isnan(value) or math.isinf(value):
            what = "NaN" if math.isnan(value) else "infinite"
            raise SampleLoadError(f"{where} is {what}; remove or fill missing values ({int(bad.sum())} such cells)")
        raise SampleLoadError(f"{where}: {value:.4g} is too large for 32-bit floats (largest about ±3.4e38); "
                              "rescale that column")
    return out


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
    return torch.from_numpy(validate_samples(arr))
