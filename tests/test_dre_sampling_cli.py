"""`python -m otcore density … --model` and `sample-density`: samples written atomically as .npy/.npz
and, for the digits, a PNG grid; bad requests are refused with a message and no file."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

import otcore
from otcore.cli import main
from otcore.dre.energy_model import DIGITS_META, EnergyModel
from otcore.dre.sampling import MAX_SAMPLES
from test_dre_energy_model import make_model


def test_density_writes_a_model_that_sample_density_draws_from(tmp_path, capsys):
    data = otcore.toys.sample("moons", 400, seed=0).numpy()
    np.savetxt(tmp_path / "moons.csv", data, delimiter=",")
    assert main(["density", str(tmp_path / "moons.csv"), "--flow-steps", "20", "--steps", "20", "--threads", "1",
                 "--model", str(tmp_path / "energy.pt"), "--json"]) == 0
    capsys.readouterr()
    assert EnergyModel.load(tmp_path / "energy.pt").dim == 2
    assert main(["sample-density", str(tmp_path / "energy.pt"), "--n", "50", "--out", str(tmp_path / "s.npz"),
                 "--mala-steps", "4", "--seed", "1", "--threads", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    with np.load(tmp_path / "s.npz", allow_pickle=False) as f:
        x, ess = f["samples"], float(f["ess"])
    assert x.shape == (50, 2) and np.isfinite(x).all() and 1 <= ess <= 50 and summary["proposals"] == 50
    assert main(["sample-density", str(tmp_path / "energy.pt"), "--n", "50", "--out", str(tmp_path / "s.npy"),
                 "--mala-steps", "4", "--seed", "1", "--threads", "1"]) == 0
    assert np.array_equal(np.load(tmp_path / "s.npy"), x)          # same seed, same samples
    assert sorted(p.name for p in tmp_path.iterdir()) == ["energy.pt", "moons.csv", "s.npy", "s.npz"]   # no temp files


def test_a_digits_model_writes_a_png_grid(tmp_path, capsys):
    path = make_model(64, meta=DIGITS_META).save(tmp_path / "digits.pt")
    assert main(["sample-density", str(path), "--n", "20", "--out", str(tmp_path / "d.npy"), "--png",
                 str(tmp_path / "d.png"), "--cols", "8", "--mala-steps", "2", "--threads", "1"]) == 0
    img = Image.open(tmp_path / "d.png")
    assert img.size == (8 * 8 * 16 + 9 * 4, 3 * 8 * 16 + 4 * 4)    # 20 images: 3 rows of 8, 16× upscaled
    assert np.load(tmp_path / "d.npy").shape == (20, 64)


@pytest.mark.parametrize("extra, message", [(["--n", "0"], "between 1 and"),
                                            (["--n", str(MAX_SAMPLES + 1)], "between 1 and"),
                                            (["--png", "x.png"], "needs a model of images"),
                                            (["--proposals", "0"], "proposals"),
                                            (["--out", "s.txt"], "must end in .npy or .npz")])
def test_bad_requests_are_refused_with_a_message_and_no_file(tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    make_model(2).save("m.pt")
    args = ["sample-density", "m.pt", "--out", "s.npy", "--threads", "1"]
    assert main(args + extra) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


def test_a_broken_or_foreign_model_file_is_refused(tmp_path, capsys):
    model = make_model(2)
    state = model.state()
    state["ratio"]["weights"]["mlp.0.bias"][0] = float("nan")
    torch.save(state, tmp_path / "nan.pt")
    model.ratio.save(tmp_path / "ratio.pt")
    for name, message in (("nan.pt", "NaN"), ("ratio.pt", "not an energy model")):
        assert main(["sample-density", str(tmp_path / name), "--out", str(tmp_path / "s.npy")]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "s.npy").exists()
