"""Fuzzing every reader of a user's file (hypothesis): for any bytes, and for valid small files with
bytes flipped, overwritten, inserted, deleted or cut off, each reader returns a valid result or
raises its documented error — never another exception — within a deadline. Also: the fast CSV
reader agrees with the cell-by-cell one, and file names shown in the app stay literal text."""
import html
import io
import re
import zipfile
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from otcore import DensityRatio, DensityRatioConfig, DensityRatioError, FlowConfig, FlowFileError, OTFlow, loading
from otcore.dre.ratio import build_network
from otcore.images.autoencoder import AEConfig, AutoencoderFileError, ImageAutoencoder
from otcore.images.domains import ImageDomain, ImageLoadError, decode_image, load_domain
from otcore.loading import SampleLoadError, load_samples
from otcore.scaling import Standardizer
from ui.literal import ACTIVE, INTRAWORD, literal

FUZZ = settings(max_examples=60, deadline=2000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def mutated(draw, valid: bytes) -> bytes:
    """``valid`` with one to eight random edits."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "flip", "set", "insert", "delete", "truncate"]))
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 16))]
        elif op == "truncate":
            del data[i:]
    return bytes(data)


def any_bytes(prefixes: tuple[bytes, ...] = ()) -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, some starting with a format's magic number to get past the first check."""
    return st.one_of(st.binary(max_size=600),
                     st.tuples(st.sampled_from(prefixes or (b"",)), st.binary(max_size=600)).map(b"".join))


# --- samples --------------------------------------------------------------------------------------
def _saved(save, arr) -> bytes:
    buf = io.BytesIO()
    save(buf, arr)
    return buf.getvalue()


SAMPLE = np.random.default_rng(0).normal(size=(6, 3))
VALID_SAMPLES = {
    ".csv": b"x,y,z\n" + "\n".join(",".join(f"{v:.5g}" for v in row) for row in SAMPLE).encode() + b"\n",
    ".npy": _saved(np.save, SAMPLE),
    ".npz": _saved(lambda buf, a: np.savez_compressed(buf, samples=a, labels=np.arange(6)), SAMPLE),
}
CSV_TEXT = st.text(alphabet="0123456789.,;-+eE \t\n\r\"naifxy_", max_size=200)


def check_samples(data: bytes, suffix: str) -> None:
    try:
        x = load_samples(data, name=f"fuzz{suffix}")
    except SampleLoadError:
        return
    assert x.dtype == torch.float32 and x.ndim == 2 and x.shape[0] >= 2 and x.shape[1] >= 1
    assert torch.isfinite(x).all()


@FUZZ
@given(st.sampled_from(sorted(VALID_SAMPLES)), st.data())
def test_load_samples_on_any_bytes(suffix, data):
    raw = data.draw(st.one_of(any_bytes((b"\x93NUMPY", b"PK\x03\x04")), CSV_TEXT.map(str.encode)))
    check_samples(raw, suffix)


@FUZZ
@given(st.sampled_from(sorted(VALID_SAMPLES)), st.data())
def test_load_samples_on_mutated_files(suffix, data):
    check_samples(data.draw(mutated(VALID_SAMPLES[suffix])), suffix)


def _outcome(raw: bytes):
    try:
        return load_samples(raw, name="x.csv").numpy().tolist()
    except SampleLoadError as err:
        return str(err)


@FUZZ
@given(st.one_of(CSV_TEXT, mutated(VALID_SAMPLES[".csv"]).map(lambda b: b.decode("utf-8", "replace"))))
def test_the_fast_csv_reader_agrees_with_the_cell_by_cell_reader(text):
    raw = text.encode()
    with mock.patch.object(loading, "CHUNK_BYTES", 16):
        fast = _outcome(raw)
        with mock.patch.object(loading, "_fast_block", lambda *args: None):
            slow = _outcome(raw)
    assert fast == slow


# --- images ---------------------------------------------------------------------------------------
def _image(mode: str, fmt: str, size=(12, 10)) -> bytes:
    arr = np.random.default_rng(1).integers(0, 255, (size[1], size[0], 3)).astype(np.uint8)
    img = Image.fromarray(arr).convert(mode) if mode != "I;16" else Image.fromarray(arr[..., 0].astype(np.uint16) * 257)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


VALID_IMAGES = [_image("RGB", "PNG"), _image("I;16", "PNG"), _image("P", "PNG"), _image("RGBA", "PNG"),
                _image("RGB", "JPEG"), _image("P", "GIF"), _image("RGB", "BMP"), _image("RGB", "WEBP")]
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"RIFF\x00\x00\x00\x00WEBP")


def check_decode(data: bytes, mode: str) -> None:
    try:
        arr = decode_image(data, 8, mode)
    except ImageLoadError:
        return
    assert arr.shape == ((1 if mode == "grey" else 3), 8, 8) and arr.dtype == np.float32
    assert np.isfinite(arr).all() and 0 <= arr.min() <= arr.max() <= 1


@FUZZ
@given(any_bytes(IMAGE_MAGIC), st.sampled_from(["grey", "rgb"]))
def test_decode_image_on_any_bytes(data, mode):
    check_decode(data, mode)


@FUZZ
@given(st.sampled_from(range(len(VALID_IMAGES))).flatmap(lambda i: mutated(VALID_IMAGES[i])),
       st.sampled_from(["grey", "rgb"]))
def test_decode_image_on_mutated_files(data, mode):
    check_decode(data, mode)


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


VALID_ZIP = _zip({"a/0.png": VALID_IMAGES[0], "a/1.jpg": VALID_IMAGES[4], "b/2.gif": VALID_IMAGES[5]})


@FUZZ
@given(st.one_of(any_bytes((b"PK\x03\x04",)), mutated(VALID_ZIP)))
def test_load_domain_on_any_and_mutated_zips(data):
    try:
        domain = load_domain([("fuzz.zip", data)], 8, "grey", min_images=1)
    except ImageLoadError:
        return
    assert isinstance(domain, ImageDomain) and domain.images.shape[1:] == (1, 8, 8)
    assert len(domain.sources) == len(domain) and all(isinstance(r, str) for _, r in domain.skipped)


# --- saved flows, density ratios and autoencoders ---------------------------------------------------
def _small_flow() -> OTFlow:
    return OTFlow.new(2, FlowConfig(hidden=8, depth=1, time_features=2), Standardizer.identity(2))


def _small_ratio() -> DensityRatio:
    config = DensityRatioConfig(hidden=8, depth=1, quadratic=1, time_features=1)
    return DensityRatio(build_network(2, config), config, Standardizer.identity(2))


READERS = {   # name -> (valid object, its reader, the reader's documented error)
    "flow": (_small_flow(), OTFlow.load, FlowFileError, OTFlow),
    "ratio": (_small_ratio(), DensityRatio.load, DensityRatioError, DensityRatio),
    "autoencoder": (ImageAutoencoder(AEConfig(size=8, latent=2, width=2)), ImageAutoencoder.load,
                    AutoencoderFileError, ImageAutoencoder),
}
VALID_FILES = {name: obj.to_bytes() for name, (obj, *_) in READERS.items()}


def check_reader(name: str, data: bytes) -> None:
    _, read, error, kind = READERS[name]
    try:
        result = read(data)
    except error:
        return
    assert isinstance(result, kind)


@FUZZ
@given(st.sampled_from(sorted(READERS)), any_bytes((b"PK\x03\x04",)))
def test_file_readers_on_any_bytes(name, data):
    check_reader(name, data)


@FUZZ
@given(st.sampled_from(sorted(READERS)), st.data())
def test_file_readers_on_mutated_files(name, data):
    check_reader(name, data.draw(mutated(VALID_FILES[name])))


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=12),
    st.lists(st.integers(-3, 3), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.builds(lambda shape, fill: torch.full(shape, fill), st.lists(st.integers(0, 3), max_size=3).map(tuple),
              st.floats(width=32)),
)


@FUZZ
@given(st.sampled_from(sorted(READERS)), st.data())
def test_file_readers_on_files_with_a_value_replaced(name, data):
    """A well-formed file whose state has one entry (top level, config or weight) replaced or removed."""
    state = READERS[name][0].state()
    places = [(state, k) for k in state] + [(state["config"], k) for k in state["config"]] + \
             [(state["weights"], k) for k in state["weights"]]
    where, key = data.draw(st.sampled_from(places))
    if data.draw(st.booleans()):
        del where[key]
    else:
        where[key] = data.draw(VALUES)
    buf = io.BytesIO()
    torch.save(state, buf)
    check_reader(name, buf.getvalue())


def _with(name: str, where: str | None, key: str, value) -> bytes:
    state = READERS[name][0].state()
    (state[where] if where else state)[key] = value
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


# Inputs the fuzzers found that make a reader raise something else than its documented error (the
# readers belong to otcore/files.py, flow.py, dre/ratio.py, images/autoencoder.py). Strict: once a
# reader is fixed, its case passes and the marker must go.
@pytest.mark.parametrize("name, where, key, value", [
    pytest.param("flow", None, "meta", torch.zeros(3), id="flow-meta-tensor"),
    pytest.param("ratio", None, "meta", torch.zeros(0), id="ratio-meta-empty-tensor"),
    pytest.param("autoencoder", None, "meta", torch.zeros(2, 2), id="autoencoder-meta-tensor"),
    pytest.param("flow", "config", "time_features", 2**70, id="flow-huge-time-features"),
    pytest.param("ratio", "config", "time_features", 2**70, id="ratio-huge-time-features"),
    pytest.param("flow", "config", "seed", float("inf"), id="flow-infinite-seed"),
    pytest.param("ratio", "config", "seed", float("inf"), id="ratio-infinite-seed"),
    pytest.param("flow", "config", "hidden", -1, id="flow-negative-width"),
    pytest.param("flow", "config", "depth", 2**63, id="flow-endless-depth"),
    pytest.param("ratio", "config", "depth", 10**9, id="ratio-endless-depth"),
    pytest.param("flow", "config", "hidden", True, id="flow-bool-width"),
])
def test_file_readers_on_found_inputs(name, where, key, value):
    check_reader(name, _with(name, where, key, value))


# --- names shown in the app -----------------------------------------------------------------------
_TOKEN = re.compile(r"\\[!-/:-@\[-`{-~]|&#\d+;|.", re.S)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40) |
       st.text(alphabet="![](){}<>*_~`#+-.:$=|&@\\ \nhtpw/ab1é", max_size=40))
def test_literal_escapes_every_markdown_character_and_keeps_the_text(text):
    out = literal(text)
    tokens = _TOKEN.findall(out)
    assert "".join(tokens) == out
    plain = [len(t) == 1 and t for t in tokens]
    for i, t in enumerate(plain):
        if t and t in ACTIVE:                    # unescaped: only '.', '_', '-' inside a word
            assert t in INTRAWORD and all(0 <= j < len(plain) and plain[j] and plain[j].isascii() and plain[j].isalnum()
                                          for j in (i - 1, i + 1)), (text, out)
    back = "".join(t[1] if t.startswith("\\") else html.unescape(t) if t.startswith("&#") else t for t in tokens)
    assert back == text.replace("\r", " ").replace("\n", " ")


def test_literal_defuses_a_remote_image_and_leaves_plain_names_alone():
    assert literal("![x](http://evil.example/a.png)") == r"\!\[x\]\(http&#58;//evil.example/a.png\)"
    assert literal("my_data-v2.csv") == "my_data-v2.csv"
    assert literal("    _x_ www.site.org") == r"&#32;&#32;&#32;&#32;\_x\_ www\.site.org"
