"""Image domains: built-in sets (scikit-learn's 8×8 digits, patches of its two sample photos, and
procedurally drawn circles and squares from :mod:`otcore.images.shapes`) and user uploads (a zip, or several image files), converted to one size and to grey or RGB.

An :class:`ImageDomain` holds images as an (n, C, S, S) float tensor in [0, 1]. Loading is safe:
only PNG, JPEG, BMP, GIF and WebP are decoded, images whose header announces more than
``MAX_PIXELS`` pixels are refused before decoding (Pillow's decompression-bomb guard is also
turned into an error), a zip is read entry by entry with limits on the number of files, each
entry's size and the compression ratio. Zips are decoded in memory, never extracted; an entry
whose name is absolute or climbs out of the archive (``../x.png``) is skipped all the same. 16-bit
grey PNGs keep their 65,536 levels (scaled to [0, 1] by 65535). A bad file is skipped and listed in
``skipped`` with the reason; a domain left with too few images raises :class:`ImageLoadError` with
every reason.
"""
from __future__ import annotations

import io
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator, Union

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000            # refuse images larger than this (≈ 6300 × 6300) before decoding
MAX_FILE_BYTES = 25 * 2**20        # per image file (and per zip entry, uncompressed)
MAX_ZIP_BYTES = 200 * 2**20        # total uncompressed size of one zip
MAX_ZIP_RATIO = 200                # an entry that expands more than this is a zip bomb
MAX_FILES = 2000                   # images per domain
MIN_IMAGES = 10                    # a domain needs at least this many to train on
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
MODES = {"grey": ("L", 1), "rgb": ("RGB", 3)}
WIDE_GREY = ("I;16", "I;16L", "I;16B", "I;16N", "I")   # Pillow's modes for 16-bit grey PNGs

Upload = Union[str, Path, tuple[str, bytes]]


class ImageLoadError(ValueError):
    """An image domain could not be built; the message says why (and lists skipped files)."""


@dataclass
class ImageDomain:
    """Images of one domain. images: (n, C, S, S) float32 in [0, 1]."""
    name: str
    images: torch.Tensor
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (file, reason)
    sources: list[str] = field(default_factory=list)               # file name of each image

    def __len__(self) -> int:
        return len(self.images)

    @property
    def size(self) -> int:
        return int(self.images.shape[-1])

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])


# --- built-in domains --------------------------------------------------------------------------
def digits_data() -> tuple[torch.Tensor, torch.Tensor]:
    """All 1,797 scikit-learn 8×8 digits: images (n, 1, 8, 8) in [0, 1] (ink bright), labels (n,)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    images = torch.as_tensor(d.images / 16.0, dtype=torch.float32).unsqueeze(1)
    return images, torch.as_tensor(d.target, dtype=torch.long)


def digits_domain(digit: int, indices: torch.Tensor | None = None) -> ImageDomain:
    """The scikit-learn 8×8 digits of one class (≈ 180 images), optionally restricted to ``indices``
    (positions in the full data set)."""
    if digit not in range(10):
        raise ImageLoadError(f"there is no digit class {digit!r}; choose 0–9")
    images, labels = digits_data()
    keep = labels == digit
    if indices is not None:
        mask = torch.zeros_like(keep)
        mask[indices] = True
        keep &= mask
    idx = torch.nonzero(keep).flatten()
    return ImageDomain(f"digit {digit}", images[idx], sources=[f"digits[{i}]" for i in idx.tolist()])


@dataclass(frozen=True)
class DigitsSplit:
    images: torch.Tensor   # (1797, 1, 8, 8) in [0, 1]
    labels: torch.Tensor   # (1797,)
    judge: torch.Tensor    # indices that train the judge (all ten classes)
    train: torch.Tensor    # indices that train autoencoders and flows
    test: torch.Tensor     # indices of held-out translation sources

    def part(self, name: str, digit: int) -> torch.Tensor:
        """Images of one digit in one part ('judge', 'train', 'test'): (n, 1, 8, 8)."""
        idx = getattr(self, name)
        return self.images[idx[self.labels[idx] == digit]]


def digits_split(seed: int = 0, judge_share: float = 0.35, test_share: float = 0.3) -> DigitsSplit:
    """Seeded split of scikit-learn's digits, stratified by class: ``judge_share`` of each class
    trains the judge; of the rest, ``test_share`` are held-out translation sources (the app's
    gallery) and the others train the autoencoder and the flow."""
    images, labels = digits_data()
    gen = torch.Generator().manual_seed(seed)
    parts: dict[str, list[torch.Tensor]] = {"judge": [], "train": [], "test": []}
    for digit in range(10):
        idx = torch.nonzero(labels == digit).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        n_judge = int(round(judge_share * len(idx)))
        n_test = int(round(test_share * (len(idx) - n_judge)))
        parts["judge"].append(idx[:n_judge])
        parts["test"].append(idx[n_judge:n_judge + n_test])
        parts["train"].append(idx[n_judge + n_test:])
    return DigitsSplit(images, labels, **{k: torch.cat(v) for k, v in parts.items()})


def photo_patches(photo: str, n: int = 300, size: int = 16, seed: int = 0) -> ImageDomain:
    """Random square patches of one of scikit-learn's two sample photos ('china' or 'flower'),
    RGB, resized to size × size: a second built-in pair of domains (temple → flower texture)."""
    from sklearn.datasets import load_sample_image

    names = {"china": "china.jpg", "flower": "flower.jpg"}
    if photo not in names:
        raise ImageLoadError(f"unknown photo {photo!r}; choose {' or '.join(names)}")
    pixels = load_sample_image(names[photo])            # (427, 640, 3) uint8
    rng = np.random.default_rng(seed)
    crop = 64
    h, w = pixels.shape[:2]
    out = []
    for _ in range(n):
        y, x = rng.integers(0, h - crop), rng.integers(0, w - crop)
        patch = Image.fromarray(pixels[y:y + crop, x:x + crop]).resize((size, size), Image.Resampling.BOX)
        out.append(np.asarray(patch, dtype=np.float32) / 255.0)
    images = torch.as_tensor(np.stack(out)).permute(0, 3, 1, 2).contiguous()
    return ImageDomain(f"{photo} patches", images, sources=[f"{photo}[{i}]" for i in range(n)])


def split_gallery(domain: ImageDomain, share: float = 0.15, max_n: int = 24, seed: int = 0
                  ) -> tuple[ImageDomain, ImageDomain]:
    """Hold out a gallery: (training images, gallery images), the gallery ``share`` of the domain
    (at least 1, at most ``max_n``), chosen at random with ``seed``."""
    n = len(domain)
    k = min(max_n, max(1, int(round(share * n)))) if n > 1 else 0
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    pick = lambda idx: ImageDomain(domain.name, domain.images[idx], domain.skipped,  # noqa: E731
                                   [domain.sources[i] for i in idx.tolist()] if domain.sources else [])
    return pick(perm[k:]), pick(perm[:k])


def _digit_parts(digit: int) -> tuple[ImageDomain, ImageDomain]:
    split = digits_split(0)
    parts = []
    for part in ("train", "test"):
        idx = getattr(split, part)
        idx = idx[split.labels[idx] == digit]
        parts.append(ImageDomain(f"digit {digit}", split.images[idx], sources=[f"digits[{i}]" for i in idx.tolist()]))
    return parts[0], parts[1]


def _shape_parts(shape: str) -> tuple[ImageDomain, ImageDomain]:
    from .shapes import shape_parts

    return tuple(part.domain() for part in shape_parts(shape))      # type: ignore[return-value]


#: Built-in domains by name -> (training images, gallery images). Digits use the seed-0 split of
#: :func:`digits_split` (the gallery is its held-out test part, so the judge never saw it either);
#: photo patches hold out a random 15%; drawn shapes draw their gallery with a seed of its own.
BUILTIN: dict[str, Callable[[], tuple[ImageDomain, ImageDomain]]] = {
    **{f"digit {k}": (lambda k=k: _digit_parts(k)) for k in range(10)},
    "circles (32×32 RGB)": lambda: _shape_parts("circle"),
    "squares (32×32 RGB)": lambda: _shape_parts("square"),
    "china patches (16×16 RGB)": lambda: split_gallery(photo_patches("china")),
    "flower patches (16×16 RGB)": lambda: split_gallery(photo_patches("flower")),
}
#: Command-line names of the drawn shape domains -> shape.
SHAPE_SPECS = {"circles": "circle", "squares": "square"}


def resolve_domain(spec: str, size: int | None = None, mode: str = "grey") -> ImageDomain:
    """A domain from a command-line spec: ``digit:3``, ``china`` / ``flower`` (photo patches, RGB),
    ``circles`` / ``squares`` (drawn shapes, RGB, ``size`` (default 32) pixels, the app's training
    images), or a path to a folder, a zip or an image file (converted to ``size`` (default 8) and
    ``mode``)."""
    text = spec.strip()
    if text.lower().startswith("digit:"):
        try:
            return digits_domain(int(text.split(":", 1)[1]))
        except ValueError:
            raise ImageLoadError(f"{spec!r}: write digit:N with N from 0 to 9") from None
    if text.lower() in ("china", "flower"):
        return photo_patches(text.lower(), size=size or 16)
    if text.lower() in SHAPE_SPECS:
        from .shapes import SIZE, shape_parts

        return shape_parts(SHAPE_SPECS[text.lower()], side=size or SIZE)[0].domain(text.lower())
    path = Path(text)
    if not path.exists():
        raise ImageLoadError(f"{spec!r} is neither digit:N, china, flower, circles, squares nor an existing file "
                             "or folder")
    return load_domain([path], size or 8, mode, name=path.name)


# --- uploads -----------------------------------------------------------------------------------
def decode_image(data: bytes, size: int, mode: str = "grey") -> np.ndarray:
    """One image file's bytes -> (C, size, size) float32 in [0, 1]: centre-cropped to a square,
    resized, converted to grey or RGB (transparency composited onto white).
    Raises ImageLoadError with the reason."""
    if mode not in MODES:
        raise ImageLoadError(f"unknown colour mode {mode!r}; choose {' or '.join(MODES)}")
    pil_mode, _ = MODES[mode]
    if len(data) > MAX_FILE_BYTES:
        raise ImageLoadError(f"file is {len(data) / 2**20:.1f} MiB (limit {MAX_FILE_BYTES / 2**20:.0f} MiB)")
    if not data:
        raise ImageLoadError("file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as img:
                w, h = img.size
                if w * h > MAX_PIXELS:
                    raise ImageLoadError(f"image is {w} × {h} pixels, more than the {MAX_PIXELS / 1e6:.0f} "
                                         "megapixel limit (a decompression bomb?)")
                if w < 1 or h < 1:
                    raise ImageLoadError("image has no pixels")
                img.seek(0)
                img.load()
                img = _flatten(ImageOps.exif_transpose(img), pil_mode)   # phone photos: honour EXIF rotation
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError(f"not an image in a supported format ({', '.join(FORMATS)})") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageLoadError("image is too large to decode safely (a decompression bomb?)") from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as err:
        raise ImageLoadError(f"image is corrupt or truncated ({err})") from None
    img = ImageOps.fit(img, (size, size), Image.Resampling.LANCZOS)
    if img.mode == "F":                                        # 16-bit grey, already in [0, 1]
        arr = np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)[None]
        return arr if pil_mode == "L" else np.repeat(arr, 3, axis=0)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def _flatten(img: Image.Image, pil_mode: str) -> Image.Image:
    """Convert to L or RGB, compositing any transparency onto white; 16-bit grey becomes a float
    ("F") image of its levels / 65535, so that no grey level is lost."""
    if img.mode in WIDE_GREY:
        raw = np.asarray(img)
        levels = np.clip(raw.astype(np.float32) / 65535.0, 0.0, 1.0)
        if isinstance(img.info.get("transparency"), int):
            levels[raw == img.info["transparency"]] = 1.0
        return Image.fromarray(levels)                       # float32 -> mode "F"
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert(pil_mode)


def _entries(uploads: Iterable[Upload]) -> Iterator[tuple[str, bytes | None, str | None]]:
    """(name, bytes, None) per candidate image, or (name, None, reason) for something skipped."""
    for item in uploads:
        if isinstance(item, (str, Path)):
            path = Path(item)
            if path.is_dir():
                for child in sorted(path.rglob("*")):
                    hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                    if child.is_file() and not hidden:          # .DS_Store and friends are not content
                        yield from _entries([child])
                continue
            if not path.is_file():
                yield str(path), None, "no such file"
                continue
            if path.stat().st_size > max(MAX_FILE_BYTES, MAX_ZIP_BYTES):
                yield path.name, None, f"file is {path.stat().st_size / 2**20:.0f} MiB, over the limit"
                continue
            name, data = path.name, path.read_bytes()
        else:
            name, data = item
        if name.lower().endswith(".zip") or data[:4] == b"PK\x03\x04":
            yield from _zip_entries(name, data)
        else:
            yield name, data, None


def _zip_entries(name: str, data: bytes) -> Iterator[tuple[str, bytes | None, str | None]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as err:
        yield name, None, f"not a readable zip file ({err})"
        return
    files = [i for i in infos if not i.is_dir()]
    if not files:
        yield name, None, "the zip is empty"
        return
    total = sum(i.file_size for i in files)
    if total > MAX_ZIP_BYTES:
        yield name, None, (f"zip would expand to {total / 2**20:.0f} MiB, over the "
                           f"{MAX_ZIP_BYTES / 2**20:.0f} MiB limit (a zip bomb?)")
        return
    if len(files) > 4 * MAX_FILES:
        yield name, None, f"zip holds {len(files)} files; the limit is {MAX_FILES} images"
        return
    with archive:
        for info in files:
            entry = f"{name}/{info.filename}"
            if _escapes_archive(info.filename):
                yield entry, None, "unsafe path (absolute, or climbing out of the zip with '..'); not read"
                continue
            parts = PurePosixPath(info.filename).parts
            if any(p.startswith(".") or p == "__MACOSX" for p in parts):
                continue  # hidden files and macOS resource forks: not content
            if not info.filename.lower().endswith(IMAGE_SUFFIXES):
                yield entry, None, "not an image file name (.png, .jpg, .jpeg, .bmp, .gif, .webp)"
                continue
            if info.file_size > MAX_FILE_BYTES:
                yield entry, None, f"{info.file_size / 2**20:.0f} MiB uncompressed, over the limit"
                continue
            if info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO:
                yield entry, None, "compressed more than 200:1 (a zip bomb?)"
                continue
            try:
                with archive.open(info) as fh:
                    content = fh.read(MAX_FILE_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError,
                    zlib.error) as err:
                yield entry, None, f"could not be extracted ({err})"
                continue
            yield entry, content, None


def _escapes_archive(filename: str) -> bool:
    """A zip entry name that would land outside the folder it is extracted to: '/x', 'C:x', '../x'."""
    name = filename.replace("\\", "/")
    return name.startswith("/") or re.match(r"[A-Za-z]:", name) is not None or ".." in name.split("/")


def load_domain(uploads: Iterable[Upload], size: int, mode: str = "grey", name: str = "domain",
                min_images: int = MIN_IMAGES, max_images: int = MAX_FILES) -> ImageDomain:
    """Build a domain from uploaded files: paths (files, folders or zips) or (file name, bytes)
    pairs. Bad files are skipped with a reason; raises :class:`ImageLoadError` if fewer than
    ``min_images`` usable images remain (listing why files were skipped)."""
    if mode not in MODES:
        raise ImageLoadError(f"unknown colour mode {mode!r}; choose {' or '.join(MODES)}")
    images, sources, skipped = [], [], []
    for entry, data, reason in _entries(uploads):
        if reason is None and len(images) >= max_images:
            skipped.append((entry, f"over the limit of {max_images} images per domain"))
            continue
        if reason is None:
            try:
                images.append(decode_image(data, size, mode))
                sources.append(entry)
                continue
            except ImageLoadError as err:
                reason = str(err)
        skipped.append((entry, reason))
    if len(images) < min_images:
        found = "no usable images" if not images else f"only {len(images)} usable image{'s' * (len(images) > 1)}"
        detail = "; ".join(f"{f}: {r}" for f, r in skipped[:8])
        more = f" (and {len(skipped) - 8} more)" if len(skipped) > 8 else ""
        raise ImageLoadError(f"{name}: {found}, at least {min_images} are needed"
                             + (f". Skipped — {detail}{more}" if skipped else ". Nothing was uploaded."))
    tensor = torch.as_tensor(np.stack(images))
    return ImageDomain(name, tensor, skipped, sources)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(n, C, S, S) in [0, 1] -> (n, S, S) or (n, S, S, 3) uint8 for Pillow."""
    arr = (torch.as_tensor(images).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    return arr[:, 0] if arr.shape[1] == 1 else arr.transpose(0, 2, 3, 1)
