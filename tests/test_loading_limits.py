"""Bounded uploads and faithful values: CSVs parsed in chunks into a float32 table sized before it is
allocated, values that float32 cannot hold refused with their line and column, file line numbers in
every message, decimal commas explained, ``.npy`` headers checked against their data, 16-bit PNGs
kept at 16 bits and zip entries that climb out of the archive skipped."""
import io
import tracemalloc
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from otcore import loading
from otcore.images.domains import decode_image, load_domain
from otcore.loading import SampleLoadError, load_samples


def csv_bytes(arr: np.ndarray, delimiter: str = ",", header: str | None = None) -> bytes:
    buf = io.StringIO()
    np.savetxt(buf, arr, fmt="%.9g", delimiter=delimiter, header=header or "", comments="")
    return (buf.getvalue() if header else buf.getvalue().lstrip("\n")).encode()


def test_values_survive_exactly_across_chunks_and_dialects(monkeypatch):
    monkeypatch.setattr(loading, "CHUNK_BYTES", 257)               # many chunks, boundaries mid-file
    x = np.random.default_rng(0).normal(size=(500, 3)).astype(np.float32) * 1e3
    for delimiter in (",", ";", "\t", " "):
        got = load_samples(csv_bytes(x, delimiter, header=delimiter.join("abc")), name="x.csv")
        assert got.dtype == torch.float32 and torch.equal(got, torch.from_numpy(x))
    quoted = b"\r\n".join(b",".join(b'"%.9g"' % float(v) for v in row) for row in x) + b"\r\n"
    assert torch.equal(load_samples(quoted, name="q.csv"), torch.from_numpy(x))


def test_byte_order_mark_blank_lines_and_old_mac_line_ends():
    expected = torch.tensor([[1.0, 2.0], [3.0, 4.5]])
    for data in (b"\xef\xbb\xbf\n \nx,y\n1,2\n\n3,4.5", b"1;2\r3;4.5\r", b"  1  2 \n\t3 4.5\n"):
        assert torch.equal(load_samples(data, name="a.csv"), expected)


@pytest.mark.parametrize("content,match", [
    ("1,2\n1e39,3\n", r"row 2, column 1: 1e39 is too large for 32-bit floats"),
    ("x,y\n1,2\n3,-1e400\n", r"row 3, column 2: -1e400 is too large for 32-bit floats"),
    ("1,2\n3,inf\n", "row 2, column 2 is infinite"),
    ("x,y\n\n\n1,2\n\n3,abc\n", r"row 6, column 2 is not a number: 'abc'"),           # blank lines count
    ("\n\nx,y\n1,2\n3,4,5\n", "row 5 has 3 columns but the first row has 2"),
    ("x;y\n1,5;2,3\n4,0;1,25\n", r"row 2, column 1 is not a number: '1,5' \(decimal commas\? use a dot"),
    ('"x","y"\n"1,5","2,3"\n', r"row 2, column 1 is not a number: '1,5' \(decimal commas\?"),
    ("1,2\n3,4\r5,6\n", r"row 2 has a carriage return"),
    ("1,2\n3,\xff\n", "not UTF-8 text"),
])
def test_errors_name_the_file_line_and_column(content, match):
    data = content.encode("latin-1") if "\xff" in content else content.encode()
    with pytest.raises(SampleLoadError, match=match):
        load_samples(data, name="bad.csv")


def test_the_largest_float32_is_kept_and_line_numbers_hold_in_late_chunks(monkeypatch):
    top = float(np.finfo(np.float32).max)
    assert load_samples(f"{top!r},1\n{-top!r},2\n".encode(), name="m.csv")[:, 0].abs().eq(top).all()
    monkeypatch.setattr(loading, "CHUNK_BYTES", 64)
    lines = ["a,b"] + [f"{i},{i}" for i in range(1, 400)] + ["7,1e39"]
    with pytest.raises(SampleLoadError, match=r"^row 401, column 2: 1e39"):
        load_samples("\n".join(lines).encode(), name="late.csv")


def test_a_quoted_cell_spanning_lines_is_not_read_as_one_row():
    with pytest.raises(SampleLoadError, match="row 2"):
        load_samples(b'"1\n",2\n3,4\n', name="q.csv")


def test_the_table_is_sized_from_the_file_before_allocating():
    wide = b",".join([b"1"] * 100_000) + b"\n" + b"1\n" * 100_000       # 100k columns, then short rows
    with pytest.raises(SampleLoadError, match="row 2 has 1 columns but the first row has 100000"):
        load_samples(wide, name="wide.csv")                             # (100k × 100k float32 would be 40 GB)
    x = np.random.default_rng(1).normal(size=(60_000, 4))
    data = csv_bytes(x.astype(np.float32))
    tracemalloc.start()
    try:
        got = load_samples(data, name="big.csv")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got.shape == (60_000, 4)
    assert peak < 3 * len(data), f"peak {peak / len(data):.2f} × the file's size"


def test_npy_headers_are_checked_against_their_data():
    buf = io.BytesIO()
    np.save(buf, np.zeros((1000, 3)))
    raw = buf.getvalue()
    with pytest.raises(SampleLoadError, match=r"truncated: its header announces an array of shape \(1000, 3\)"):
        load_samples(raw[:400], name="cut.npy")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**11, 3)})
    lying = header.getvalue() + raw[-800:]                         # announces 2.4 TB, holds 800 bytes
    with pytest.raises(SampleLoadError, match="truncated"):
        load_samples(lying, name="lie.npy")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("samples.npy", lying)
    with pytest.raises(SampleLoadError, match="array 'samples' of the .npz is truncated"):
        load_samples(archive.getvalue(), name="lie.npz")
    buf = io.BytesIO()
    np.save(buf, np.array([[1.0, 2.0], [3.0, 1e39]]))
    with pytest.raises(SampleLoadError, match=r"row 2, column 2: 1e\+39 is too large for 32-bit floats"):
        load_samples(buf.getvalue(), name="big.npy")


def png16(levels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(levels.astype(np.uint16)).save(buf, format="PNG")
    return buf.getvalue()


def test_16_bit_pngs_keep_their_grey_levels():
    levels = np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000 + 7          # up to 63007, far above 255
    grey = decode_image(png16(levels), 8, "grey")
    np.testing.assert_allclose(grey[0], levels / 65535, atol=1e-6)
    rgb = decode_image(png16(levels), 8, "rgb")
    assert rgb.shape == (3, 8, 8) and np.array_equal(rgb[0], rgb[2])
    np.testing.assert_allclose(rgb[1], levels / 65535, atol=1e-6)
    half = decode_image(png16(np.full((16, 16), 32768)), 4, "grey")           # resized: still mid-grey
    np.testing.assert_allclose(half, 32768 / 65535, atol=1e-4)


def test_zip_entries_that_leave_the_archive_are_skipped_with_the_reason():
    good = io.BytesIO()
    Image.new("L", (8, 8), 90).save(good, format="PNG")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(3):
            z.writestr(f"ok/{i}.png", good.getvalue())
        for name in ("../up.png", "/etc/abs.png", "a/../../deep.png", "..\\win.png", "C:/drive.png"):
            z.writestr(zipfile.ZipInfo(name), good.getvalue())
    d = load_domain([("set.zip", archive.getvalue())], 8, min_images=1)
    assert len(d) == 3 and d.sources == [f"set.zip/ok/{i}.png" for i in range(3)]
    reasons = dict(d.skipped)
    assert set(reasons) == {f"set.zip/{n}" for n in ("../up.png", "/etc/abs.png", "a/../../deep.png", "..\\win.png",
                                                   "C:/drive.png")}
    assert all("unsafe path" in r for r in reasons.values())
