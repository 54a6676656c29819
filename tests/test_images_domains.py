"""Image domains: built-in digits and photo patches, and safe loading of uploads (every bad file
is skipped with its reason; an unusable domain raises ImageLoadError)."""
import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from otcore.images import domains
from otcore.images.domains import (BUILTIN, ImageLoadError, decode_image, digits_domain, digits_split, load_domain,
                                   resolve_domain, split_gallery)


def png(size=(12, 9), mode="RGB", color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, format="PNG")
    return buf.getvalue()


def jpeg(size=(20, 20)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 200, 10)).save(buf, format="JPEG")
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that announces width × height pixels but holds almost no data (a decompression bomb's
    header: decoding it would allocate width × height pixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


def zipped(files: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_digits_are_8x8_in_unit_range_and_split_is_disjoint_and_stratified():
    d = digits_domain(3)
    assert d.images.shape[1:] == (1, 8, 8) and 170 < len(d) < 190
    assert d.images.min() >= 0 and d.images.max() <= 1 and d.images.max() > 0.9
    s = digits_split(0)
    parts = [set(s.judge.tolist()), set(s.train.tolist()), set(s.test.tolist())]
    assert sum(map(len, parts)) == len(s.images) == len(set().union(*parts))   # a partition
    for digit in range(10):
        share = float((s.labels[s.judge] == digit).sum()) / float((s.labels == digit).sum())
        assert abs(share - 0.35) < 0.02
    assert torch.equal(digits_split(0).test, s.test) and not torch.equal(digits_split(1).test, s.test)
    with pytest.raises(ImageLoadError):
        digits_domain(11)


def test_builtin_domains_hold_out_a_gallery():
    train, gallery = BUILTIN["digit 8"]()
    split = digits_split(0)
    assert torch.equal(gallery.images, split.part("test", 8)) and torch.equal(train.images, split.part("train", 8))
    a, g = BUILTIN["china patches (16×16 RGB)"]()
    assert a.images.shape[1:] == (3, 16, 16) and len(g) == 24 and len(a) + len(g) == 300
    t, g = split_gallery(digits_domain(1), share=0.1, max_n=5)
    assert len(g) == 5 and len(t) + 5 == len(digits_domain(1))


@pytest.mark.parametrize("mode, channels", [("grey", 1), ("rgb", 3)])
def test_decode_converts_any_size_and_mode(mode, channels):
    for data in (png((30, 10), "RGB"), png((7, 7), "L", 128), png((9, 40), "RGBA", (0, 0, 0, 255)), jpeg(),
                 png((5, 5), "P", 3), png((6, 6), "I;16", 1000)):
        arr = decode_image(data, 16, mode)
        assert arr.shape == (channels, 16, 16) and arr.dtype == np.float32
        assert 0 <= arr.min() <= arr.max() <= 1


def test_transparency_is_composited_onto_white_and_colour_is_kept():
    clear = decode_image(png((8, 8), "RGBA", (255, 0, 0, 0)), 8, "rgb")
    np.testing.assert_allclose(clear, 1.0)
    red = decode_image(png((8, 8), "RGB", (255, 0, 0)), 8, "rgb")
    np.testing.assert_allclose(red[:, 4, 4], [1.0, 0.0, 0.0])
    grey = decode_image(png((8, 8), "RGB", (255, 0, 0)), 8, "grey")
    np.testing.assert_allclose(grey[0, 4, 4], 76 / 255, atol=1 / 255)       # ITU-R 601 luma of pure red


def test_bad_files_raise_a_clear_error():
    with pytest.raises(ImageLoadError, match="not an image"):
        decode_image(b"hello, this is a text file\n", 8)
    with pytest.raises(ImageLoadError, match="corrupt or truncated"):
        decode_image(png((64, 64))[:60], 8)
    with pytest.raises(ImageLoadError, match="empty"):
        decode_image(b"", 8)
    with pytest.raises(ImageLoadError, match="decompression bomb"):
        decode_image(png_header_only(7000, 7000), 8)                   # over our 40-megapixel limit
    with pytest.raises(ImageLoadError, match="decompression bomb"):
        decode_image(png_header_only(100_000, 100_000), 8)             # over Pillow's own bomb limit
    with pytest.raises(ImageLoadError, match="colour mode"):
        decode_image(png(), 8, "cmyk")


def test_load_domain_skips_bad_files_with_reasons_and_keeps_good_ones():
    files = [(f"ok{i}.png", png((10 + i, 12))) for i in range(10)]
    files += [("notes.txt", b"just text"), ("broken.png", png()[:50]), ("bomb.png", png_header_only(9000, 9000))]
    d = load_domain(files, 8, "grey", name="A")
    assert len(d) == 10 and d.images.shape == (10, 1, 8, 8)
    reasons = dict(d.skipped)
    assert set(reasons) == {"notes.txt", "broken.png", "bomb.png"}
    assert "not an image" in reasons["notes.txt"] and "decompression bomb" in reasons["bomb.png"]
    assert d.sources == [f"ok{i}.png" for i in range(10)]


def test_too_few_images_and_empty_uploads_are_refused():
    with pytest.raises(ImageLoadError, match="only 3 usable images.*at least 10") as err:
        load_domain([(f"{i}.png", png()) for i in range(3)] + [("x.txt", b"x")], 8, name="B")
    assert "x.txt: not an image" in str(err.value)
    with pytest.raises(ImageLoadError, match="no usable images.*Nothing was uploaded"):
        load_domain([], 8)
    with pytest.raises(ImageLoadError, match="the zip is empty"):
        load_domain([("empty.zip", zipped({}))], 8)
    with pytest.raises(ImageLoadError, match="no usable images.*readme.txt: not an image file name"):
        load_domain([("docs.zip", zipped({"readme.txt": b"hello", "data.csv": b"1,2"}))], 8)
    with pytest.raises(ImageLoadError, match="not a readable zip"):
        load_domain([("fake.zip", b"PK\x03\x04 garbage")], 8)


def test_zips_are_read_entry_by_entry_with_bomb_guards(monkeypatch):
    images = {f"digits/{i}.png": png((8, 8), "L", 20 * i) for i in range(12)}
    images["__MACOSX/._0.png"] = b"resource fork"           # ignored silently
    images["digits/bomb.png"] = b"\x00" * (4 * 2**20)        # compresses > 200:1
    d = load_domain([("set.zip", zipped(images))], 8)
    assert len(d) == 12
    assert [r for f, r in d.skipped] == ["compressed more than 200:1 (a zip bomb?)"]
    monkeypatch.setattr(domains, "MAX_FILES", 2)
    with pytest.raises(ImageLoadError, match="holds 14 files; the limit is 2"):
        load_domain([("set.zip", zipped(images))], 8, min_images=1)
    monkeypatch.setattr(domains, "MAX_FILES", 2000)
    monkeypatch.setattr(domains, "MAX_ZIP_BYTES", 1000)
    with pytest.raises(ImageLoadError, match="zip bomb"):
        load_domain([("set.zip", zipped(images))], 8)


def test_paths_folders_and_image_limit(tmp_path):
    for i in range(11):
        (tmp_path / f"{i:02d}.png").write_bytes(png((8 + i, 8)))
    (tmp_path / "skip.md").write_text("hi")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    d = load_domain([tmp_path], 8, max_images=10)
    assert len(d) == 10 and ("10.png", "over the limit of 10 images per domain") in d.skipped
    assert [f for f, _ in d.skipped] == ["10.png", "skip.md"]                  # hidden files are ignored
    assert resolve_domain(str(tmp_path)).images.shape == (11, 1, 8, 8)
    assert len(resolve_domain("digit:4")) == len(digits_domain(4))
    with pytest.raises(ImageLoadError, match="neither"):
        resolve_domain(str(tmp_path / "missing"))


def test_image_modules_do_not_import_streamlit():
    import subprocess
    import sys

    code = ("import sys, otcore.images, otcore.cli.images, otcore.viz.images; "
            "assert 'streamlit' not in sys.modules, 'streamlit imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
