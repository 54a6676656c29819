"""Run folders (otcore.runfolder): unique names, a checkpoint that resumes to the same flow as an
uninterrupted run, unfinished runs listed (and finished or busy ones not), unreadable folders refused."""
import json

import pytest
import torch

import otcore
from otcore import runfolder


@pytest.fixture
def data():
    return otcore.sample("moons", 300, seed=0), otcore.sample("8gaussians", 300, seed=1)


CFG = otcore.FlowConfig(hidden=16, depth=1, warm_steps=30, warm_batch=64, refine_steps=0, eval_steps=4,
                        validate_every=10)


def test_two_runs_started_in_the_same_second_get_two_folders(tmp_path, data):
    a = runfolder.create(tmp_path, "moons_to_8g", *data, CFG, {"label_p": "moons", "label_q": "8g"})
    b = runfolder.create(tmp_path, "moons_to_8g", *data, CFG)
    assert a != b and a.is_dir() and b.is_dir()
    assert json.loads((a / runfolder.CONFIG).read_text())["warm_steps"] == 30
    assert runfolder.create(tmp_path, "a/../../b c", *data, CFG).parent == tmp_path     # no escaping the root


def test_a_checkpointed_run_resumes_to_the_flow_of_an_uninterrupted_one(tmp_path, data):
    whole = otcore.Trainer(*data, CFG, device="cpu")
    list(whole.run())

    folder = runfolder.create(tmp_path, "run", *data, CFG, {"label_p": "moons", "label_q": "8gaussians"})
    first = otcore.Trainer(*data, CFG, device="cpu")
    list(first.run(12))
    runfolder.save_checkpoint(folder, first.checkpoint())
    del first                                               # the server went away

    [info] = runfolder.unfinished(tmp_path)
    assert info.folder == folder and info.title == "moons → 8gaussians" and info.global_step == 12
    found = runfolder.load(folder)
    torch.testing.assert_close(found.P, data[0], rtol=0, atol=0)
    resumed = otcore.Trainer.resume(found.P, found.Q, found.checkpoint, device="cpu")
    list(resumed.run())
    x = otcore.sample("moons", 100, seed=7)
    torch.testing.assert_close(resumed.flow.transport(x), whole.flow.transport(x), rtol=0, atol=0)

    resumed.flow.save(folder / runfolder.FLOW)
    assert runfolder.unfinished(tmp_path) == []             # finished: no longer offered


def test_busy_and_incomplete_folders_are_not_offered(tmp_path, data):
    folder = runfolder.create(tmp_path, "run", *data, CFG)
    assert runfolder.unfinished(tmp_path) == []             # no checkpoint yet
    runfolder.save_checkpoint(folder, {"stage": "warm-start", "global_step": 3})
    assert [r.folder for r in runfolder.unfinished(tmp_path)] == [folder]
    assert runfolder.unfinished(tmp_path, exclude={folder}) == []
    assert runfolder.unfinished(tmp_path / "missing") == []


def test_unreadable_run_folders_say_what_is_wrong(tmp_path, data):
    folder = runfolder.create(tmp_path, "run", *data, CFG)
    with pytest.raises(runfolder.RunFolderError, match="has no checkpoint.pt"):
        runfolder.load(folder)
    (folder / runfolder.CHECKPOINT).write_bytes(b"not a checkpoint")
    with pytest.raises(runfolder.RunFolderError, match="not a training checkpoint"):
        runfolder.load(folder)
    (folder / runfolder.SAMPLES).write_bytes(b"garbage")
    with pytest.raises(runfolder.RunFolderError, match="samples of run"):
        runfolder.load(folder)
