"""Exports of an animation: an animated GIF drawn with Pillow, and a standalone HTML page
(plotly.js inlined, so it plays offline)."""
from __future__ import annotations

import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

from .clouds import COLORS
from .trajectories import TrajectoryData


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))


def _mix(colour: tuple[int, int, int], alpha: float) -> tuple[int, int, int]:
    """colour blended over white."""
    return tuple(int(round(255 - alpha * (255 - c))) for c in colour)


class _Canvas:
    """Maps view coordinates into a square pixel box with equal units on both axes."""

    def __init__(self, pts: np.ndarray, size: int, margin: int = 16):
        pts = pts[np.isfinite(pts).all(1)]
        lo, hi = pts.min(0), pts.max(0)
        span = float(max(hi - lo)) or 1.0
        self.scale = (size - 2 * margin) / span
        self.offset = margin + 0.5 * ((size - 2 * margin) - self.scale * (hi - lo)) - self.scale * lo
        self.size = size

    def px(self, pts: np.ndarray) -> np.ndarray:
        xy = pts * self.scale + self.offset
        xy[..., 1] = self.size - xy[..., 1]     # y grows upward in the plot
        return xy


def _dots(draw: ImageDraw.ImageDraw, xy: np.ndarray, r: float, fill, outline=None) -> None:
    for x, y in xy:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill, outline=outline)


def animation_gif(data: TrajectoryData, *, size: int = 480, frame_ms: int = 60, show_paths: bool = True,
                  show_arrows: bool = True, show_reference: bool = True) -> bytes:
    """The animation as GIF bytes: one image per frame of ``data`` (looping), the background clouds
    faint, the particles dark, the closed-form particles as green rings, arrows orange."""
    everything = [data.paths.reshape(-1, 2), *data.background.values()]
    canvas = _Canvas(np.concatenate(everything), size)
    base = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(base)
    for name, pts in data.background.items():
        colour = COLORS["P"] if name.startswith("P") else COLORS["Q"] if name.startswith("Q") else "#999999"
        for x, y in canvas.px(pts.copy()):
            draw.point((x, y), fill=_mix(_rgb(colour), 0.35))
    if show_paths:
        grey = _mix((60, 60, 60), 0.25)
        for line in canvas.px(data.paths.transpose(1, 0, 2).copy()):
            draw.line([tuple(p) for p in line], fill=grey, width=1)
    images = []
    particles = data.paths.copy()
    reference = data.reference.copy() if data.reference is not None else None
    for i in range(data.frames):
        img = base.copy()
        d = ImageDraw.Draw(img)
        if show_arrows and data.arrow_bases is not None:
            b = canvas.px(data.arrow_bases[i].copy())
            tip = canvas.px(data.arrow_bases[i] + data.arrow_vectors[i])
            for (x0, y0), (x1, y1) in zip(b, tip):
                d.line((x0, y0, x1, y1), fill=_rgb(COLORS["arrows"]), width=1)
                d.ellipse((x1 - 1.5, y1 - 1.5, x1 + 1.5, y1 + 1.5), fill=_rgb(COLORS["arrows"]))
        if show_reference and reference is not None:
            _dots(d, canvas.px(reference[i]), 2.5, None, _rgb(COLORS["reference"]))
        _dots(d, canvas.px(particles[i]), 1.6, _rgb(COLORS["particles"]))
        d.text((8, 6), f"t = {data.times[i]:.2f}", fill=(0, 0, 0))
        images.append(img.convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0,
                   optimize=False)
    return buf.getvalue()


def animation_html(fig: go.Figure, title: str = "OT Flow Studio — trajectories") -> bytes:
    """A standalone HTML page playing ``fig`` offline (plotly.js inlined, ~5 MB)."""
    html = fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False,
                       config={"displaylogo": False}, div_id="trajectories")
    html = html.replace("<head>", f"<head><title>{title}</title>", 1)
    return html.encode("utf-8")


def paths_png(data: TrajectoryData, *, size: int = 640, particles: int = 400) -> bytes:
    """A still picture of the flow as PNG bytes: the background clouds faint, and the paths of up to
    ``particles`` particles coloured from P's colour (t = 0) to Q's (t = 1)."""
    everything = [data.paths.reshape(-1, 2), *data.background.values()]
    canvas = _Canvas(np.concatenate(everything), size)
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    for name, pts in data.background.items():
        colour = COLORS["P"] if name.startswith("P") else COLORS["Q"] if name.startswith("Q") else "#999999"
        for x, y in canvas.px(pts):
            draw.ellipse((x - 1, y - 1, x + 1, y + 1), fill=_mix(_rgb(colour), 0.35))
    c0, c1 = np.array(_rgb(COLORS["P"])), np.array(_rgb(COLORS["Q"]))
    if data.reverse:
        c0, c1 = c1, c0
    m = data.frames
    for line in canvas.px(data.paths[:, :particles].transpose(1, 0, 2)):
        for k in range(m - 1):
            w = k / max(1, m - 2)
            colour = tuple(int(v) for v in _mix(tuple((1 - w) * c0 + w * c1), 0.8))
            draw.line((*line[k], *line[k + 1]), fill=colour, width=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
