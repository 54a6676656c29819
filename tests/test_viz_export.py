import io

import numpy as np
from PIL import Image

from otcore.viz.export import animation_gif, animation_html, paths_png
from otcore.viz.trajectories import TrajectoryData, trajectory_animation


def _data(frames=6):
    times = np.linspace(0, 1, frames)
    start = np.array([[-1.0, 0.0], [1.0, 0.0]])
    paths = start[None] + times[:, None, None] * np.array([0.0, 2.0])        # two particles moving up
    bg = {"P": start, "Q": start + [0.0, 2.0]}
    return TrajectoryData(times, paths, None, None, None, bg, ("x₁", "x₂"))


def test_gif_has_one_frame_per_time_and_the_particles_move_up():
    blob = animation_gif(_data(), size=120, show_paths=False)
    img = Image.open(io.BytesIO(blob))
    assert img.format == "GIF" and img.size == (120, 120) and img.n_frames == 6

    def dark_rows(k):
        img.seek(k)
        a = np.asarray(img.convert("L"))
        rows = np.nonzero((a[:, 80:] < 80).any(1))[0]       # the right-hand particle (clear of the "t =" label)
        return rows.mean()

    assert dark_rows(5) < dark_rows(0) - 40                    # image y grows downward: moving up


def test_png_and_html_exports():
    data = _data()
    img = Image.open(io.BytesIO(paths_png(data, size=100)))
    assert img.format == "PNG" and img.size == (100, 100)
    html = animation_html(trajectory_animation(data)).decode()
    assert html.startswith("<html>") or "<html" in html[:200]
    assert "plotly" in html.lower() and "<title>OT Flow Studio" in html
    assert '"name":"0.40"' in html.replace(" ", "")            # frames travel with the page
