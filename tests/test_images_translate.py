"""Latent translation: frames at progress 0 are reconstructions, the scrub follows the flow in
both directions, the cross-fade baseline is exact, files round-trip, folders are translated."""
import pytest
import torch
from PIL import Image

from otcore import FlowFileError
from otcore.images import (AEConfig, LatentTranslator, crossfade, digits_split, fit_translator, latent_flow_config,
                           nearest_images, translate_folder)


@pytest.fixture(scope="module")
def tiny():
    """A translator 0 ↔ 1 trained for a few seconds (plumbing, not quality)."""
    torch.manual_seed(0)
    s = digits_split(0)
    a, b = s.part("train", 0)[:60], s.part("train", 1)[:60]
    tr = fit_translator(a, b, AEConfig(latent=3, width=8, steps=40, seed=0),
                        latent_flow_config(3, hidden=32, depth=2, warm_steps=60, eval_steps=8), names=("zero", "one"))
    return tr, s


def test_progress_zero_is_the_reconstruction_and_one_is_the_transport(tiny):
    tr, s = tiny
    x = s.part("test", 0)[:5]
    ae = tr.autoencoder
    z = ae.encode(x)
    torch.testing.assert_close(tr.translate(x, progress=0.0), ae(x))
    torch.testing.assert_close(tr.translate(x), ae.decode(tr.flow.transport(z)), atol=1e-5, rtol=0)
    y = s.part("test", 1)[:5]
    torch.testing.assert_close(tr.translate(y, reverse=True),
                               ae.decode(tr.flow.transport(ae.encode(y), reverse=True)), atol=1e-5, rtol=0)


def test_frames_accept_any_order_and_repeats(tiny):
    tr, s = tiny
    x = s.part("test", 0)[:4]
    progress = [1.0, 0.0, 0.5, 0.5, 0.25]
    frames = tr.frames(x, progress)
    assert frames.shape == (5, 4, 1, 8, 8)
    for i, p in enumerate(progress):
        torch.testing.assert_close(frames[i], tr.translate(x, progress=p), atol=1e-5, rtol=0)
    path = tr.latent_path(x, [0.0, 0.5], reverse=True)
    torch.testing.assert_close(path[1], tr.flow.flow_to(tr.autoencoder.encode(x), 1.0, 0.5), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        tr.frames(x, [1.5])


def test_crossfade_is_the_pixel_average_toward_the_nearest_image():
    pool = torch.rand(7, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    x = pool[[2, 5]] + 0.01
    assert torch.equal(nearest_images(x, pool), pool[[2, 5]])
    torch.testing.assert_close(crossfade(x, pool, 0.0), x)
    torch.testing.assert_close(crossfade(x, pool, 1.0), pool[[2, 5]])
    torch.testing.assert_close(crossfade(x, pool, 0.25), 0.75 * x + 0.25 * pool[[2, 5]])
    assert crossfade(x, pool, [0.0, 0.5, 1.0]).shape == (3, 2, 1, 8, 8)


def test_translator_file_round_trip(tiny, tmp_path):
    tr, s = tiny
    x = s.part("test", 0)[:6]
    for loaded in (LatentTranslator.load(tr.save(tmp_path / "t.pt")), LatentTranslator.load(tr.to_bytes())):
        assert loaded.names == ("zero", "one")
        assert torch.equal(loaded.frames(x, [0.3, 1.0]), tr.frames(x, [0.3, 1.0]))
    with pytest.raises(FlowFileError, match="not an image translator"):
        LatentTranslator.load(tr.flow.to_bytes())
    with pytest.raises(FlowFileError, match="not an image translator"):
        LatentTranslator.load(b"\x00garbage")


def test_mismatched_flow_is_refused(tiny):
    tr, _ = tiny
    import otcore

    other = otcore.OTFlow.new(5, otcore.FlowConfig(hidden=8, depth=1))
    with pytest.raises(ValueError, match="5-dimensional"):
        LatentTranslator(tr.autoencoder, other)


def test_translate_folder_writes_pngs_and_skips_non_images(tiny, tmp_path):
    tr, s = tiny
    src = tmp_path / "in"
    src.mkdir()
    for i, img in enumerate(s.part("test", 0)[:3]):
        Image.fromarray((img[0].numpy() * 255).astype("uint8")).resize((40, 40)).save(src / f"zero{i}.png")
    (src / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    result = translate_folder(tr, src, out, progress=(0.5, 1.0), scale=4)
    assert sorted(p.name for p in result.written) == sorted(f"zero{i}_t{t}.png" for i in range(3) for t in ("0.50", "1.00"))
    assert [f for f, _ in result.skipped] == ["notes.txt"]
    with Image.open(out / "zero0_t1.00.png") as im:
        assert im.size == (32, 32) and im.mode == "L"
    strips = translate_folder(tr, src, tmp_path / "strips", reverse=True, progress=(0, 0.5, 1), strip=True)
    with Image.open(strips.written[0]) as im:
        assert im.size == (24, 8)
