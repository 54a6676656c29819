"""Train page checkpoints (AppTest): a run writes its folder and a checkpoint when stopped; after a
server restart (a fresh app on the same runs/ folder) the page offers the unfinished run, resumes it
from its checkpoint's step and finishes it with the flow of an uninterrupted run."""
import json
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

import otcore
from otcore import runfolder

ROOT = Path(__file__).resolve().parent.parent
CFG = otcore.FlowConfig(hidden=16, depth=1, warm_steps=60, warm_batch=64, refine_steps=0, eval_steps=4,
                        validate_every=10)


@pytest.fixture
def runs(monkeypatch, tmp_path):
    monkeypatch.setenv("OTFLOW_TORCH_THREADS", str(torch.get_num_threads()))
    monkeypatch.setenv("OTFLOW_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def train_page():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    app.run()
    app.switch_page("views/2_Train.py").run()
    return app


def test_a_stopped_run_leaves_a_checkpoint_in_its_folder(runs):
    at = train_page()
    for k, v in {"cfg_hidden": 16, "cfg_depth": 1, "cfg_warm_steps": 5000, "cfg_warm_batch": 64,
                 "cfg_refine_steps": 0, "cfg_eval_steps": 4}.items():
        at.session_state[k] = v
    at.button(key="btn_default_pair").click().run()
    at.button(key="train_btn_start").click().run()
    job = at.session_state["job:train"]
    try:
        end = time.time() + 60
        while job.steps < 10 and time.time() < end:
            time.sleep(0.05)
        at.button(key="train_btn_stop").click().run()
        assert job.status == "stopped", job.error
        folder = job.context["folder"]
        assert folder.parent == runs.resolve()
        status = json.loads((folder / runfolder.STATUS).read_text())
        assert status["global_step"] == job.steps and status["stage"] == "warm-start"
        assert not (folder / runfolder.FLOW).exists()
        assert any(folder.name in c.value for c in at.caption)
        assert not any("Resume an unfinished run" in e.label for e in at.expander)   # its own Resume button
        other = train_page()
        assert not any("Resume an unfinished run" in e.label for e in other.expander)  # held by a live session
        job._alive = lambda: False                                                     # that session ends
        other.run()
        assert any("Resume an unfinished run (1 found" in e.label for e in other.expander)
    finally:
        job.reset()


def test_after_a_restart_the_train_page_resumes_an_unfinished_run(runs):
    P, Q = otcore.sample("moons", 300, seed=0), otcore.sample("8gaussians", 300, seed=1)
    whole = otcore.Trainer(P, Q, CFG, device="cpu")
    list(whole.run())
    folder = runfolder.create(runs, "moons_to_8gaussians", P, Q, CFG, {"label_p": "moons", "label_q": "8gaussians"})
    before = otcore.Trainer(P, Q, CFG, device="cpu")
    list(before.run(25))
    runfolder.save_checkpoint(folder, before.checkpoint())      # then the server was killed

    at = train_page()                                          # a fresh server, a fresh session
    assert not at.exception
    assert any("Resume an unfinished run (1 found" in e.label for e in at.expander)
    assert "moons → 8gaussians · step 25" in at.selectbox(key="train_resume_pick").format_func(str(folder))
    at.button(key="train_btn_resume_folder").click().run()
    assert not at.exception
    job = at.session_state["job:train"]
    try:
        assert job.wait(60) and job.status == "finished", job.error
        assert job.history[0].global_step == 26                  # continued, not restarted
        assert at.session_state["pair"].title == "moons → 8gaussians"
        assert (folder / runfolder.FLOW).is_file()
        x = otcore.sample("moons", 100, seed=3)
        torch.testing.assert_close(otcore.OTFlow.load(folder / runfolder.FLOW).transport(x),
                                   whole.flow.transport(x), rtol=0, atol=0)
        at.run()
        assert not at.exception
        assert not any("Resume an unfinished run" in e.label for e in at.expander)   # finished: not offered
    finally:
        job.reset()


def test_an_unreadable_run_is_explained(runs):
    P, Q = otcore.sample("moons", 100, seed=0), otcore.sample("8gaussians", 100, seed=1)
    folder = runfolder.create(runs, "broken", P, Q, CFG)
    (folder / runfolder.CHECKPOINT).write_bytes(b"garbage")
    at = train_page()
    at.button(key="train_btn_resume_folder").click().run()
    assert not at.exception
    assert any("not a training checkpoint" in e.value for e in at.error)
