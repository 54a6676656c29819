"""TensorBoard logging: the event files written while training hold every metric of every step,
read back with TensorBoard's own reader; the CLI's --log tensorboard writes them beside metrics.json."""
import json
import math

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import otcore
from otcore.cli import main
from otcore.tblog import TensorBoardLogger, metric_scalars, open_logger


def _read(folder) -> dict[str, list[tuple[int, float]]]:
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})      # 0: keep every event
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


@pytest.fixture(scope="module")
def pair():
    P = otcore.sample("moons", 400, seed=0)
    Q = otcore.sample("8gaussians", 400, seed=1)
    return P, Q


def test_every_metric_of_every_step_is_in_the_event_file(tmp_path, pair, tiny_config):
    trainer = otcore.Trainer(*pair, tiny_config)
    expected: dict[str, list[tuple[int, float]]] = {}
    with TensorBoardLogger(tmp_path / "tb") as log:
        for m in trainer.run():
            log(m)
            for tag, value in metric_scalars(m).items():
                expected.setdefault(tag, []).append((m.global_step, value))
    steps = [m.global_step for m in trainer.history]
    assert len(steps) == tiny_config.warm_steps + tiny_config.refine_steps and len(set(steps)) == len(steps)
    stages = {m.stage for m in trainer.history}
    assert {f"{stage}/{name}" for stage in stages for m in trainer.history if m.stage == stage for name in m.losses} \
        <= set(expected)
    assert "validation/fit" in expected and "train/steps_per_s" in expected
    written = _read(tmp_path / "tb")
    assert set(written) == set(expected)
    for tag, events in expected.items():
        assert [s for s, _ in written[tag]] == [s for s, _ in events], tag
        for (_, got), (_, want) in zip(written[tag], events):
            assert got == pytest.approx(want, rel=1e-6, abs=1e-30) or (math.isnan(got) and math.isnan(want)), tag
    for m in trainer.history:                                   # every loss term at every step
        for name, value in m.losses.items():
            assert (m.global_step, pytest.approx(value, rel=1e-6)) in written[f"{m.stage}/{name}"]


def test_the_scalars_leave_out_unknown_values_and_open_logger_refuses_unknown_kinds(pair, tiny_config, tmp_path):
    trainer = otcore.Trainer(*pair, tiny_config)
    first = next(iter(trainer.run(1)))
    scalars = metric_scalars(first)
    assert all(isinstance(v, float) for v in scalars.values())
    assert ("train/gamma" in scalars) == (first.gamma is not None)
    assert ("validation/fit" in scalars) == (first.validation is not None)
    with pytest.raises(ValueError, match="tensorboard"):
        open_logger("wandb", tmp_path)
    with open_logger("none", tmp_path / "none") as log:
        log(first)
    assert not (tmp_path / "none").exists()


def test_the_train_command_logs_to_tensorboard_beside_metrics_json(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--source", "moons", "--target", "8gaussians", "--n", "300", "--out", str(out),
                 "--threads", "1", "--hidden", "32", "--depth", "2", "--warm-steps", "30", "--warm-batch", "64",
                 "--refine-steps", "0", "--eval-steps", "8", "--log", "tensorboard", "--checkpoint-every", "0"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    written = _read(out)
    assert [s for s, _ in written["warm-start/flow_matching"]] == list(range(1, 31))
    losses = [h["flow_matching"] for h in metrics["history"]]
    assert [v for _, v in written["warm-start/flow_matching"]] == pytest.approx(losses, rel=1e-6)
    assert written["report/transport_cost"][0][1] == pytest.approx(metrics["report"]["transport_cost"], rel=1e-6)
    assert torch.tensor([s for s, _ in written["validation/fit"]]).le(30).all()


def test_import_otcore_does_not_import_tensorboard():
    import subprocess
    import sys

    code = "import sys, otcore; assert not any(m.startswith(('tensorboard', 'torch.utils.tensorboard')) for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
