"""Figures of image translation: upscaled images and grids a projector shows clearly, the scrub
as an animated GIF (Pillow), and the latent codes with their flow paths (plotly).

Images come in as float tensors/arrays in [0, 1]: one image (C, S, S), a batch (n, C, S, S) or a
grid (rows, cols, C, S, S), C = 1 (grey) or 3 (RGB). Upscaling is nearest-neighbour by default, so
an 8 × 8 digit shows its true pixels; ``smooth=True`` upscales bicubically instead, which makes tiny
images read like the handwriting they come from (a projector-friendly view of the same pixels).
"""
from __future__ import annotations

import base64
import io
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from PIL import Image, ImageDraw, ImageFont

#: grey images are drawn light-on-dark as they are stored (digits: ink is bright)
BACKGROUND = (255, 255, 255)


def _array(images) -> np.ndarray:
    return np.asarray(torch.as_tensor(images, dtype=torch.float32).clamp(0, 1).numpy())


def to_pil(image, scale: int = 24, smooth: bool = False) -> Image.Image:
    """One image (C, S, S) in [0, 1] -> an RGB Pillow image scale·S pixels wide (nearest-neighbour,
    or bicubic when ``smooth``)."""
    arr = _array(image)
    if arr.ndim != 3 or arr.shape[0] not in (1, 3):
        raise ValueError(f"expected one image of shape (C, S, S) with C = 1 or 3, got {arr.shape}")
    pixels = (arr * 255).round().astype(np.uint8)
    img = Image.fromarray(pixels[0], "L") if pixels.shape[0] == 1 else Image.fromarray(pixels.transpose(1, 2, 0), "RGB")
    img = img.convert("RGB")
    if scale > 1:
        method = Image.Resampling.BICUBIC if smooth else Image.Resampling.NEAREST
        img = img.resize((img.width * scale, img.height * scale), method)
    return img


def fit_scale(size: int, pixels: int = 192) -> int:
    """Integer upscaling factor that draws a size × size image about ``pixels`` wide (≥ 1)."""
    return max(1, round(pixels / max(1, size)))


def image_grid(grid, scale: int = 16, pad: int = 4, smooth: bool = False) -> Image.Image:
    """A (rows, cols, C, S, S) grid of images as one upscaled RGB Pillow image with white gaps."""
    arr = _array(grid)
    if arr.ndim == 4:
        arr = arr[None]
    if arr.ndim != 5:
        raise ValueError(f"expected a grid of shape (rows, cols, C, S, S), got {arr.shape}")
    rows, cols, _, s, _ = arr.shape
    cell = s * scale
    out = Image.new("RGB", (cols * cell + (cols + 1) * pad, rows * cell + (rows + 1) * pad), BACKGROUND)
    for r in range(rows):
        for c in range(cols):
            out.paste(to_pil(arr[r, c], scale, smooth), (pad + c * (cell + pad), pad + r * (cell + pad)))
    return out


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def grid_figure(grid, col_labels: Sequence[str] = (), row_labels: Sequence[str] = (), scale: int = 16,
                pad: int = 4, title: str | None = None, smooth: bool = False) -> go.Figure:
    """A plotly figure of an image grid (rows, cols, C, S, S) with column and row labels on the axes
    (the upscaled grid is embedded as one PNG, so the browser never blurs the pixels)."""
    img = image_grid(grid, scale, pad, smooth)
    arr = _array(grid)
    rows, cols, s = (arr.shape[0], arr.shape[1], arr.shape[-1]) if arr.ndim == 5 else (1, arr.shape[0], arr.shape[-1])
    cell = s * scale
    centres_x = [pad + c * (cell + pad) + cell / 2 for c in range(cols)]
    centres_y = [pad + r * (cell + pad) + cell / 2 for r in range(rows)]
    uri = "data:image/png;base64," + base64.b64encode(png_bytes(img)).decode()
    fig = go.Figure(go.Image(source=uri, hoverinfo="skip"))
    fig.update_xaxes(side="top", tickvals=centres_x[:len(col_labels)], ticktext=list(col_labels), showgrid=False,
                     tickfont=dict(size=18), zeroline=False)
    fig.update_yaxes(tickvals=centres_y[:len(row_labels)], ticktext=list(row_labels), showgrid=False,
                     tickfont=dict(size=16), zeroline=False)
    top = 70 if col_labels else 10
    fig.update_layout(margin=dict(l=10 if not row_labels else 90, r=10, t=top + (30 if title else 0), b=10),
                      height=img.height + top + (30 if title else 0) + 20, title=title,
                      plot_bgcolor="white", paper_bgcolor="white", dragmode=False)
    return fig


def labelled_strip(images, labels: Sequence[str], scale: int = 16, pad: int = 6, font_size: int = 18,
                   smooth: bool = False) -> Image.Image:
    """One row of images (n, C, S, S) with a caption under each (for GIF frames and exports)."""
    arr = _array(images)
    strip = image_grid(arr[None], scale, pad, smooth)
    band = font_size + 2 * pad
    out = Image.new("RGB", (strip.width, strip.height + band), BACKGROUND)
    out.paste(strip, (0, 0))
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=font_size)
    cell = arr.shape[-1] * scale
    for i, text in enumerate(labels[:len(arr)]):
        x = pad + i * (cell + pad) + cell / 2
        draw.text((x, strip.height + pad // 2), text, fill=(40, 40, 40), font=font, anchor="ma")
    return out


def scrub_gif(frames, progress: Sequence[float], labels: Sequence[str] = ("latent OT flow",), scale: int = 16,
              duration_ms: int = 80, boomerang: bool = True, smooth: bool = False) -> bytes:
    """An animated GIF of a scrub. frames: (m, k, C, S, S) — m times, k images side by side (e.g.
    the flow and the pixel cross-fade) — or (m, C, S, S) for one image; progress: the m values of
    t, written under the images. ``boomerang`` plays forward then backward, so the loop is smooth."""
    arr = _array(frames)
    if arr.ndim == 4:
        arr = arr[:, None]
    if arr.ndim != 5 or len(arr) != len(progress):
        raise ValueError(f"expected frames (m, k, C, S, S) with one progress value per frame, got {arr.shape} "
                         f"and {len(progress)} values")
    k = arr.shape[1]
    names = list(labels) + [""] * (k - len(labels))
    pictures = [labelled_strip(arr[i], [f"{n}  t = {p:.2f}".strip() for n in names[:k]], scale, smooth=smooth)
                for i, p in enumerate(progress)]
    order = list(range(len(pictures)))
    if boomerang and len(pictures) > 2:
        order += order[-2:0:-1]
    seq = [pictures[i].convert("P", palette=Image.Palette.ADAPTIVE, colors=256) for i in order]
    durations = [duration_ms * (6 if i in (0, len(pictures) - 1) else 1) for i in order]   # pause at the ends
    buf = io.BytesIO()
    seq[0].save(buf, format="GIF", save_all=True, append_images=seq[1:], duration=durations, loop=0, disposal=1)
    return buf.getvalue()


def pca_2d(*clouds: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Centre and top-2 principal axes of the union of the clouds (each (n_i, d)): (d,), (d, 2)."""
    joint = torch.cat([torch.as_tensor(c, dtype=torch.float32) for c in clouds])
    centre = joint.mean(0)
    if joint.shape[1] <= 2:
        axes = torch.eye(joint.shape[1])[:, :2]
        if axes.shape[1] < 2:
            axes = torch.cat([axes, torch.zeros(joint.shape[1], 1)], 1)
        return centre, axes
    _, _, v = torch.linalg.svd(joint - centre, full_matrices=False)
    return centre, v[:2].T


def latent_figure(codes_a: torch.Tensor, codes_b: torch.Tensor, paths: torch.Tensor | None = None,
                  names: tuple[str, str] = ("A", "B"), height: int = 480) -> go.Figure:
    """The latent codes of both domains in their first two principal components, with flow paths.
    codes_a: (n, d), codes_b: (m, d), paths: (T, k, d) latent trajectories (optional)."""
    centre, axes = pca_2d(codes_a, codes_b)
    proj = lambda z: ((torch.as_tensor(z, dtype=torch.float32) - centre) @ axes).numpy()  # noqa: E731
    fig = go.Figure()
    for z, name, colour in ((codes_a, names[0], "#1f77b4"), (codes_b, names[1], "#d62728")):
        p = proj(z)
        fig.add_trace(go.Scatter(x=p[:, 0], y=p[:, 1], mode="markers", name=name,
                                 marker=dict(size=7, color=colour, opacity=0.55)))
    if paths is not None and len(paths):
        t, k, d = paths.shape
        p = proj(paths.reshape(t * k, d)).reshape(t, k, 2)
        xs, ys = [], []
        for j in range(k):
            xs += list(p[:, j, 0]) + [None]
            ys += list(p[:, j, 1]) + [None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="flow paths", line=dict(color="#444", width=1.5)))
        fig.add_trace(go.Scatter(x=p[-1, :, 0], y=p[-1, :, 1], mode="markers", name="translated",
                                 marker=dict(size=9, color="#2ca02c", symbol="x")))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="latent PC 1",
                      yaxis_title="latent PC 2", legend=dict(orientation="h", y=1.08))
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig
