"""`python -m otcore ratio | mi | density`: the density-ratio commands end to end on tiny settings
(the estimators' accuracy is tested against closed forms in the other test_dre_* files)."""
import json

import numpy as np
import pytest
import torch

import otcore
from otcore.cli import main
from otcore.dre import DensityRatio


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--source", "gauss:2:0", "--target", "gauss:2:1", "--n", "600", "--out", str(out),
                 "--warm-steps", "40", "--refine-steps", "0", "--hidden", "32", "--threads", "1"]) == 0
    return out


def test_ratio_trains_saves_and_writes_the_log_ratio_at_points(run_dir, tmp_path, capsys):
    points = tmp_path / "points.csv"
    np.savetxt(points, np.array([[0.0, 0.0], [1.0, -1.0], [2.0, 0.5]]), delimiter=",")
    table = tmp_path / "log_ratio.csv"
    assert main(["ratio", str(run_dir), "--steps", "30", "--slices", "4", "--batch", "64", "--threads", "1",
                 "--points", str(points), "--csv", str(table), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 30 and (run_dir / "ratio.pt").exists() and np.isfinite(summary["kl_q_p"])
    written = np.loadtxt(table, delimiter=",", skiprows=1)
    assert open(table).readline().strip() == "x1,x2,log_ratio" and written.shape == (3, 3)
    ratio = DensityRatio.load(run_dir / "ratio.pt")
    expected = ratio.log_ratio(torch.tensor(written[:, :2], dtype=torch.float32)).numpy()
    assert np.allclose(written[:, 2], expected, atol=1e-4)
    # a saved ratio is read back instead of trained; t0/t1 select part of the bridge
    assert main(["ratio", str(run_dir), "--load", str(run_dir / "ratio.pt"), "--points", str(points),
                 "--t1", "0.5"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    half = ratio.log_ratio(torch.tensor(written[:, :2], dtype=torch.float32), 0.0, 0.5).numpy()
    assert printed[0] == "x1,x2,log_ratio" and np.allclose([float(l.split(",")[2]) for l in printed[1:]], half, atol=1e-4)


def test_ratio_refuses_points_of_another_dimension_and_a_file_that_is_not_a_ratio(run_dir, tmp_path, capsys):
    points = tmp_path / "p3.csv"
    np.savetxt(points, np.zeros((4, 3)), delimiter=",")
    saved = tmp_path / "r.pt"
    assert main(["ratio", str(run_dir), "--steps", "5", "--slices", "2", "--batch", "16", "--threads", "1",
                 "--out", str(saved)]) == 0
    capsys.readouterr()
    assert main(["ratio", str(run_dir), "--load", str(saved), "--points", str(points)]) == 2
    assert "shape (n, 2)" in capsys.readouterr().err
    assert main(["ratio", str(run_dir), "--load", str(run_dir / "flow.pt")]) == 2
    assert "not a density ratio" in capsys.readouterr().err


def test_mi_on_a_task_and_on_paired_files(tmp_path, capsys):
    assert main(["mi", "--task", "4:1", "--n", "600", "--flow-steps", "30", "--steps", "30", "--threads", "1",
                 "--direction", "joint-to-product",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["truth_nats"] == 1.0 and np.isfinite(out["estimate_nats"]) and out["one_step_nats"] is not None
    assert out["relative_error"] == pytest.approx(out["estimate_nats"] - 1.0)
    z = otcore.correlated_pairs(4, 1.0).sample(300, seed=0).numpy()
    np.save(tmp_path / "x.npy", z[:, :2])
    np.savetxt(tmp_path / "y.csv", z[:, 2:], delimiter=",")
    assert main(["mi", "--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "y.csv"), "--flow-steps", "20",
                 "--steps", "20", "--no-one-step", "--threads", "1", "--bridge", "flow", "--marginals", "standardize"]) == 0
    assert "estimate_nats" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["mi", "--task", "4:1", "--bridge", "straight"])
    assert main(["mi", "--task", "five"]) == 2
    assert "D:MI" in capsys.readouterr().err
    assert main(["mi", "--x", str(tmp_path / "x.npy")]) == 2


def test_density_of_a_file_reports_bits_per_dimension(tmp_path, capsys):
    data = otcore.toys.sample("moons", 500, seed=0).numpy()
    np.savetxt(tmp_path / "moons.csv", data, delimiter=",")
    assert main(["density", str(tmp_path / "moons.csv"), "--flow-steps", "30", "--steps", "30", "--threads", "1",
                 "--out", str(tmp_path / "ratio.pt"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dim"] == 2 and set(out["bits_per_dim"]) == {"gaussian", "one_step", "infinitesimal"}
    assert (tmp_path / "ratio.pt").exists()
