"""The image commands as the lead wires them into ``python -m otcore``: train-images writes a
translator that translate reads, folders become PNGs (and GIFs), bad input is a ValueError."""
import argparse
import json

import pytest
from PIL import Image

from otcore.images import ImageLoadError, LatentTranslator, digits_split
from otcore.cli.images import add_train_images_command, add_translate_command


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m otcore")
    sub = parser.add_subparsers(dest="command", required=True)
    add_train_images_command(sub)
    add_translate_command(sub)
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert run(["train-images", "--a", "digit:0", "--b", "digit:1", "--out", str(out), "--ae-steps", "20",
                "--flow-steps", "20", "--width", "8", "--latent", "3", "--threads", "1"]) == 0
    return out


def test_train_images_writes_a_translator(model_dir):
    tr = LatentTranslator.load(model_dir / "translator.pt")
    assert tr.names == ("digit 0", "digit 1") and tr.autoencoder.config.latent == 3
    summary = json.loads((model_dir / "metrics.json").read_text())
    assert summary["autoencoder"]["steps"] == 20 and summary["flow"]["warm_steps"] == 20 and summary["n_a"] > 150


def test_translate_writes_pngs_frames_and_gifs(model_dir, tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    for i, img in enumerate(digits_split(0).part("test", 1)[:2]):
        Image.fromarray((img[0].numpy() * 255).astype("uint8")).save(src / f"one{i}.png")
    (src / "readme.txt").write_text("skip me")
    out = tmp_path / "out"
    assert run(["translate", str(model_dir), str(src), "--out", str(out), "--reverse", "--frames", "3",
                "--scale", "2", "--gif", "--threads", "1"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"one{i}_t{t}.png" for i in range(2) for t in ("0.00", "0.50", "1.00")]
                           + ["one0_scrub.gif", "one1_scrub.gif"])
    with Image.open(out / "one0_t1.00.png") as im:
        assert im.size == (16, 16)
    captured = capsys.readouterr()
    assert "translated digit 1 → digit 0: wrote 6 PNG files" in captured.out
    assert "skipped readme.txt: not an image" in captured.err


def test_bad_inputs_are_value_errors(model_dir, tmp_path):
    with pytest.raises(ImageLoadError):
        run(["translate", str(model_dir), str(tmp_path), "--out", str(tmp_path / "o")])       # no images
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"nope")
    with pytest.raises(ValueError, match="not an image translator"):
        run(["translate", str(bad), str(tmp_path), "--out", str(tmp_path / "o")])
    with pytest.raises(ValueError, match="digit:N"):
        run(["train-images", "--a", "digit:x", "--b", "digit:1", "--out", str(tmp_path)])
    assert run(["translate", str(model_dir), str(tmp_path), "--out", str(tmp_path / "o"), "--t", "2"]) == 2


def test_train_images_on_drawn_shapes_takes_the_32x32_rgb_preset(tmp_path):
    from otcore.images import AEConfig

    assert run(["train-images", "--a", "circles", "--b", "squares", "--out", str(tmp_path), "--ae-steps", "10",
                "--flow-steps", "10", "--width", "8", "--threads", "1"]) == 0
    tr = LatentTranslator.load(tmp_path / "translator.pt")
    preset = AEConfig.for_images(32, 3)
    c = tr.autoencoder.config
    assert tr.names == ("circles", "squares") and (c.size, c.channels) == (32, 3)
    assert c.width == 8 and c.steps == 10                            # the flags given
    assert (c.latent, c.kl, c.batch) == (preset.latent, preset.kl, preset.batch)   # the preset for the rest
    assert c.colour_path and (c.domain_weight, c.lr) == (preset.domain_weight, preset.lr)
