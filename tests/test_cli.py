import json
import subprocess
import sys

import numpy as np
import pytest

from otcore.cli import build_parser, main
from otcore.config import FlowConfig
from dataclasses import fields


def test_help_explains_every_config_flag():
    text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for f in fields(FlowConfig):
        assert "--" + f.name.replace("_", "-") in text
    assert "flow-matching steps of the warm start (default: 2000)" in " ".join(text.split())


def test_train_then_evaluate_round_trip(tmp_path, capsys):
    q = tmp_path / "q.csv"
    rng = np.random.default_rng(0)
    np.savetxt(q, rng.normal(size=(300, 2)) + [4, 0], delimiter=",", header="a,b", comments="")
    out = tmp_path / "run"
    code = main(["train", "--source", "moons", "--target", str(q), "--out", str(out), "--n", "300", "--threads", "1",
                 "--hidden", "32", "--depth", "2", "--warm-steps", "40", "--warm-batch", "128", "--refine-steps", "2",
                 "--refine-batch", "128", "--classifier-warmup", "5", "--eval-steps", "8"])
    assert code == 0
    for name in ("flow.pt", "config.json", "samples.npz", "metrics.json"):
        assert (out / name).exists()
    assert json.loads((out / "config.json").read_text())["warm_steps"] == 40
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stage"] == "done" and metrics["report"]["transport_cost"] > 0
    capsys.readouterr()
    assert main(["evaluate", str(out), "--json", "--threads", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["transport_cost"] == metrics["report"]["transport_cost"]


def test_bad_input_is_a_message_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3,x\n")
    proc = subprocess.run([sys.executable, "-m", "otcore", "train", "--source", "moons", "--target", str(bad),
                           "--out", str(tmp_path / "r")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "row 2, column 2 is not a number" in proc.stderr and "Traceback" not in proc.stderr


def test_a_run_killed_mid_training_resumes_to_the_same_flow(tmp_path):
    import os
    import signal
    import time

    import torch

    from otcore import OTFlow

    flags = ["--source", "moons", "--target", "8gaussians", "--n", "600", "--threads", "1", "--hidden", "32",
             "--depth", "2", "--warm-steps", "1500", "--warm-batch", "128", "--refine-steps", "20", "--refine-batch",
             "128", "--eval-steps", "8", "--refine-min-dim", "1", "--checkpoint-every", "0.2"]
    cmd = [sys.executable, "-m", "otcore", "train"]
    env = {**os.environ, "OTFLOW_TORCH_THREADS": "1"}
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    subprocess.run(cmd + flags + ["--out", str(whole)], check=True, capture_output=True, env=env, timeout=300)
    proc = subprocess.Popen(cmd + flags + ["--out", str(cut)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    deadline = time.time() + 120
    while not (cut / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (cut / "flow.pt").exists(), "the run finished before it could be killed"
    done = subprocess.run(cmd + ["--resume", str(cut), "--checkpoint-every", "0"], capture_output=True, env=env,
                          timeout=300, text=True)
    assert done.returncode == 0, done.stderr
    x = torch.randn(100, 2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(OTFlow.load(cut / "flow.pt").transport(x), OTFlow.load(whole / "flow.pt").transport(x))


@pytest.mark.parametrize("lr", ["1e3", "1e38"])
def test_a_diverging_run_exits_non_zero_with_its_reason_and_a_flow_that_integrates(tmp_path, lr):
    import torch

    from otcore import OTFlow

    out = tmp_path / "r"
    proc = subprocess.run([sys.executable, "-m", "otcore", "train", "--source", "moons", "--target", "8gaussians",
                           "--n", "300", "--threads", "1", "--hidden", "16", "--depth", "1", "--warm-steps", "200",
                           "--warm-batch", "64", "--warm-lr", lr, "--checkpoint-every", "0", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "diverg" in proc.stderr.lower() and "Traceback" not in proc.stderr
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(OTFlow.load(out / "flow.pt").transport(x)).all()


def test_sigterm_stops_a_run_with_a_checkpoint_of_that_very_step(tmp_path):
    import os
    import signal
    import time

    from otcore.files import read_state
    from otcore.livelog import read_live

    out = tmp_path / "r"
    cmd = [sys.executable, "-m", "otcore", "train", "--source", "moons", "--target", "8gaussians", "--n", "400",
           "--threads", "1", "--hidden", "16", "--depth", "1", "--warm-steps", "100000", "--warm-batch", "64",
           "--checkpoint-every", "0", "--out", str(out)]       # no timed checkpoints: only the stop writes one
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OTFLOW_TORCH_THREADS": "1"})
    deadline = time.time() + 120
    while time.time() < deadline and ((live := read_live(out)) is None or live.latest["global_step"] < 50):
        time.sleep(0.1)
    seen = read_live(out).latest["global_step"]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM" in err and "--resume" in err and "Traceback" not in err
    assert not (out / "flow.pt").exists()
    checkpoint = read_state(out / "checkpoint.pt", ValueError, "a training checkpoint")
    assert checkpoint["global_step"] >= seen      # the step it stopped at, not an older one


def test_every_config_field_has_help_and_its_command_has_a_flag_for_it():
    from otcore.dre import DensityRatioConfig
    from otcore.images.autoencoder import AEConfig

    commands = build_parser()._subparsers._group_actions[0].choices
    for config, command, elsewhere in [(FlowConfig, "train", set()), (DensityRatioConfig, "ratio", set()),
                                       (AEConfig, "train-images", {"channels"})]:     # channels: from --mode
        dests = {a.dest for a in commands[command]._actions}
        for f in fields(config):
            assert f.metadata.get("help"), f"{config.__name__}.{f.name} has no help"
            assert f.name in dests or f.name in elsewhere, f"{command} has no flag for {config.__name__}.{f.name}"
