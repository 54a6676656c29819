"""`python -m otcore transport`: a run's coupling written as a table (x, T(x), cost, length), inverted
by --reverse, from the run's own samples by default; bad input is one message, no file, exit ≠ 0."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import otcore
from otcore.cli import build_parser, main
from otcore.files import write_atomic


@pytest.fixture
def run(tmp_path):
    """A run folder as train writes it (flow.pt and samples.npz), with a small untrained flow."""
    folder = tmp_path / "run"
    flow = otcore.OTFlow.new(2, otcore.FlowConfig(hidden=16, depth=2, eval_steps=8, seed=3))
    flow.save(folder / "flow.pt")
    P = otcore.sample("moons", 60, seed=0)
    Q = otcore.sample("8gaussians", 40, seed=1)
    write_atomic(folder / "samples.npz", lambda h: np.savez(h, P=P.numpy(), Q=Q.numpy()))
    return folder


def read_table(path):
    header = path.read_text().splitlines()[0].split(",")
    return header, torch.from_numpy(np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32, ndmin=2))


def test_the_table_holds_each_point_its_image_cost_and_length(run, tmp_path, capsys):
    x = torch.randn(30, 2, generator=torch.Generator().manual_seed(0))
    np.savetxt(tmp_path / "p.csv", x.numpy(), delimiter=",", header="a,b", comments="")
    out = tmp_path / "pairs.csv"
    assert main(["transport", str(run), "--points", str(tmp_path / "p.csv"), "--out", str(out), "--threads", "1",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    header, table = read_table(out)
    assert header == ["x_1", "x_2", "Tx_1", "Tx_2", "cost", "length"] and table.shape == (30, 6)
    flow = otcore.OTFlow.load(run / "flow.pt")
    assert torch.equal(table[:, :2], x)
    assert torch.allclose(table[:, 2:4], flow.transport(x), atol=1e-5)
    cost, length = table[:, 4], table[:, 5]
    assert torch.isfinite(cost).all() and torch.isfinite(length).all() and (cost >= 0).all() and (length > 0).all()
    assert summary["points"] == 30 and summary["dim"] == 2 and summary["mean_cost"] == pytest.approx(float(cost.mean()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv", "pairs.csv", "run"]     # no temp files left

    np.save(tmp_path / "tx.npy", table[:, 2:4].numpy())          # T(x) mapped back with --reverse gives x
    back = tmp_path / "back.csv"
    assert main(["transport", str(run / "flow.pt"), "--points", str(tmp_path / "tx.npy"), "--reverse",
                 "--out", str(back), "--chunk", "7", "--threads", "1"]) == 0
    header, table_back = read_table(back)
    assert header[:4] == ["y_1", "y_2", "Tinvy_1", "Tinvy_2"]
    assert (table_back[:, 2:4] - x).norm(dim=1).max() < 1e-3
    assert torch.allclose(table_back[:, 4], cost, rtol=1e-2, atol=1e-5)     # the same path, walked backwards


@pytest.mark.parametrize("reverse", [False, True])
def test_without_points_the_runs_own_samples_are_mapped_as_npz(run, tmp_path, reverse):
    out = tmp_path / "pairs.npz"
    assert main(["transport", str(run), "--out", str(out), "--threads", "1"] + (["--reverse"] if reverse else [])) == 0
    with np.load(run / "samples.npz") as s, np.load(out, allow_pickle=False) as f:
        a, b = ("y", "Tinvy") if reverse else ("x", "Tx")
        expected = s["Q"] if reverse else s["P"]
        assert np.array_equal(f[a], expected) and f[b].shape == expected.shape
        assert f["cost"].shape == (len(expected),) and bool(f["reverse"]) is reverse
    assert main(["transport", str(run), "--out", str(tmp_path / "t.dat"), "--format", "npz", "--threads", "1"]) == 0
    with np.load(tmp_path / "t.dat", allow_pickle=False) as f:
        assert "Tx" in f


@pytest.mark.parametrize("args, message", [
    (["--points", "{tmp}/p3.csv"], "the points are 3-dimensional (3 columns) but the flow is 2-dimensional"),
    (["--points", "{tmp}/missing.csv"], "missing.csv does not exist"),
    (["--points", "{tmp}/p.pkl"], "unsupported file type '.pkl'"),
])
def test_bad_points_are_one_message_and_no_file(run, tmp_path, capsys, args, message):
    np.savetxt(tmp_path / "p3.csv", np.ones((5, 3)), delimiter=",")
    (tmp_path / "p.pkl").write_bytes(b"\x80\x04K\x01.")
    out = tmp_path / "pairs.csv"
    assert main(["transport", str(run), "--out", str(out)] + [a.format(tmp=tmp_path) for a in args]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_a_flow_file_alone_needs_points(run, tmp_path, capsys):
    assert main(["transport", str(run / "flow.pt"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "give --points FILE" in capsys.readouterr().err


def test_bad_input_from_the_shell_is_a_message_not_a_traceback(run, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3,x\n")
    proc = subprocess.run([sys.executable, "-m", "otcore", "transport", str(run), "--points", str(bad),
                           "--out", str(tmp_path / "pairs.csv")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "bad.csv: row 2, column 2 is not a number" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "pairs.csv").exists()


def test_the_command_is_listed_with_its_flags():
    text = build_parser()._subparsers._group_actions[0].choices["transport"].format_help()
    for flag in ("--points", "--out", "--reverse", "--format", "--chunk"):
        assert flag in text
