"""Image figures: nearest-neighbour upscaling keeps every pixel, grids and GIFs have the right
geometry and frames, the latent view projects onto orthonormal principal axes."""
import io

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from PIL import Image

from otcore.viz.images import (fit_scale, grid_figure, image_grid, latent_figure, pca_2d, scrub_gif, to_pil)


def test_upscaling_is_nearest_neighbour():
    img = torch.rand(1, 8, 8, generator=torch.Generator().manual_seed(0))
    pil = to_pil(img, scale=5)
    assert pil.size == (40, 40) and pil.mode == "RGB"
    arr = np.asarray(pil)[..., 0]
    expected = np.kron((img[0].numpy() * 255).round().astype(np.uint8), np.ones((5, 5), dtype=np.uint8))
    assert np.array_equal(arr, expected)
    rgb = to_pil(torch.tensor([[[1.0]], [[0.0]], [[0.5]]]), scale=2)
    assert np.asarray(rgb)[0, 0].tolist() == [255, 0, 128]
    with pytest.raises(ValueError):
        to_pil(torch.rand(2, 8, 8))
    assert fit_scale(8, 192) == 24 and fit_scale(64, 10) == 1
    soft = np.asarray(to_pil(img, scale=5, smooth=True))[..., 0]
    assert soft.shape == (40, 40) and not np.array_equal(soft, expected)      # bicubic, not blocks
    flat = to_pil(torch.full((1, 4, 4), 0.5), scale=8, smooth=True)
    assert np.all(np.asarray(flat) == 128)                                     # a constant stays constant


def test_grid_geometry_and_figure_labels():
    grid = torch.rand(3, 5, 1, 8, 8)
    img = image_grid(grid, scale=4, pad=2)
    assert img.size == (5 * 32 + 6 * 2, 3 * 32 + 4 * 2)
    fig = grid_figure(grid, col_labels=["0", "¼", "½", "¾", "1"], row_labels=["a", "b", "c"], scale=4, pad=2)
    assert isinstance(fig, go.Figure) and fig.data[0].type == "image"
    assert fig.data[0].source.startswith("data:image/png;base64,")
    assert list(fig.layout.xaxis.ticktext) == ["0", "¼", "½", "¾", "1"]
    assert list(fig.layout.xaxis.tickvals) == [2 + 16 + 34 * c for c in range(5)]   # cell centres
    assert image_grid(torch.rand(4, 3, 8, 8)).size[1] == 8 * 16 + 2 * 4            # one row


def test_scrub_gif_frames_and_size():
    frames = torch.rand(5, 2, 1, 8, 8)
    data = scrub_gif(frames, [0, 0.25, 0.5, 0.75, 1], labels=("flow", "fade"), scale=4)
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.format == "GIF" and gif.n_frames == 8        # forward 5, back 3 (boomerang)
        width = gif.size[0]
    assert width == 2 * 32 + 3 * 6
    one = scrub_gif(torch.rand(3, 1, 8, 8), [0, 0.5, 1], boomerang=False, scale=2)
    with Image.open(io.BytesIO(one)) as gif:
        assert gif.n_frames == 3
    with pytest.raises(ValueError, match="one progress value per frame"):
        scrub_gif(frames, [0, 1])


def test_latent_view_uses_orthonormal_principal_axes():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(500, 4, generator=g) * torch.tensor([5.0, 0.1, 2.0, 0.1])
    centre, axes = pca_2d(z[:250], z[250:])
    torch.testing.assert_close(axes.T @ axes, torch.eye(2), atol=1e-5, rtol=0)
    assert abs(float(axes[0, 0])) > 0.99 and abs(float(axes[2, 1])) > 0.99    # the two widest coordinates
    paths = torch.stack([z[:3] * (1 - t) + z[3:6] * t for t in torch.linspace(0, 1, 5)])
    fig = latent_figure(z[:250], z[250:], paths, names=("A", "B"))
    assert [t.name for t in fig.data] == ["A", "B", "flow paths", "translated"]
    assert len(fig.data[2].x) == 3 * (5 + 1)                    # 3 paths, 5 points and a gap each
    assert latent_figure(z[:10, :1], z[10:20, :1]).data[0].y is not None      # 1-D codes work too
