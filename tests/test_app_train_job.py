"""Train page (AppTest), *Run as a job*: the run choice and the TensorBoard toggle are there; a job
started from the page is a process of its own that the page lists, follows and stops; a finished job
is found again by a fresh session (its tab was closed) and its flow becomes the session's trained flow;
with the toggle on, a run in this session writes every step to TensorBoard event files in its folder."""
import json
import subprocess
import sys

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import otcore
from otcore import runfolder
from otcore.livelog import LiveLog
from tests.app_helpers import open_app
from ui import cli_job, state

TINY = {"cfg_hidden": 16, "cfg_depth": 2, "cfg_warm_steps": 3000, "cfg_warm_batch": 64, "cfg_refine_steps": 0,
        "cfg_eval_steps": 8}


@pytest.fixture
def runs(monkeypatch, tmp_path):
    monkeypatch.setenv("OTFLOW_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def train_page(monkeypatch, settings=None):
    at = open_app(monkeypatch, timeout=60)
    for k, v in (settings or {}).items():
        at.session_state[k] = v
    at.switch_page("views/2_Train.py").run()
    assert not at.exception
    return at


def text(at):
    return " ".join(e.value for kind in ("caption", "markdown", "success", "info", "error") for e in at.get(kind))


def test_a_job_started_on_the_page_is_listed_followed_and_stopped(monkeypatch, runs):
    at = train_page(monkeypatch, TINY)
    at.button(key="btn_default_pair").click().run()
    assert at.radio(key="cfg_run_as").value == "session" and at.toggle(key="cfg_tensorboard").value is False
    assert at.button(key="train_btn_start") and "cfg_job_procs" not in [n.key for n in at.number_input]
    at.toggle(key="cfg_tensorboard").set_value(True).run()
    assert [c.value for c in at.code] == [f"tensorboard --logdir {runs}"]
    at.radio(key="cfg_run_as").set_value("job").run()
    assert not at.exception
    assert at.number_input(key="cfg_job_procs").value == 1
    assert "train_btn_start" not in [b.key for b in at.button]                   # the session's controls give way
    at.button(key="train_btn_job_start").click().run()
    assert not at.exception
    [job] = cli_job.list_jobs(runs)
    try:
        assert job.info["command"][1:4] == ["-m", "otcore", "train"] and "tensorboard" in job.info["command"]
        assert job.alive() and runfolder.read_info(job.folder)["label_p"] == "moons"
        pick = at.selectbox(key="train_job_pick")
        assert pick.value == str(job.folder) and "moons → 8gaussians" in pick.options[0]
        assert "Status: **running**" in text(at) and not at.button(key="train_btn_job_stop").disabled
        assert at.button(key="train_btn_job_use").disabled                       # nothing to use yet
        at.button(key="train_btn_job_stop").click().run()
        assert not at.exception and not job.alive()
        assert "Status: **stopped**" in text(at) and at.button(key="train_btn_job_stop").disabled
    finally:
        job.stop(grace=1)


def _finished_job(root):
    """A job folder as the CLI leaves it when it has finished (trained here, in-process, to stay fast)."""
    P, Q = otcore.sample("moons", 300, seed=0), otcore.sample("8gaussians", 300, seed=1)
    config = otcore.FlowConfig(hidden=16, depth=2, warm_steps=30, warm_batch=64, refine_steps=0, eval_steps=8)
    folder = runfolder.create(root, "moons_to_8gaussians", P, Q, config,
                              {"label_p": "moons", "label_q": "8gaussians", "dim": 2, "job": True})
    trainer = otcore.Trainer(P, Q, config)
    with LiveLog(folder) as live:
        for m in trainer.run():
            live(m)
    trainer.flow.save(folder / runfolder.FLOW)
    report = otcore.evaluate(trainer.flow, P, Q).to_dict()
    (folder / cli_job.METRICS).write_text(json.dumps({"stage": trainer.stage, "report": report}))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (folder / cli_job.JOB).write_text(json.dumps({"pid": dead.pid, "folder": str(folder), "started": 1e9,
                                                  "procs": 1, "device": "cpu"}))
    return folder, trainer.flow, report


def test_a_fresh_session_finds_a_finished_job_and_uses_its_flow(monkeypatch, runs):
    folder, flow, report = _finished_job(runs)
    at = train_page(monkeypatch)                          # a new tab: no pair chosen, nothing trained
    assert any("No distributions" in i.value for i in at.info)
    assert at.selectbox(key="train_job_pick").value == str(folder.resolve())
    assert "Status: **finished**" in text(at)
    assert any(m.label == "Transport cost" and m.value == f"{report['transport_cost']:.4g}" for m in at.metric)
    at.button(key="train_btn_job_use").click().run()
    assert not at.exception
    pair, entry = at.session_state["pair"], at.session_state["flow"]
    assert pair.title == "moons → 8gaussians" and entry.source == "trained" and entry.flow.meta["pair_id"] == pair.id
    torch.testing.assert_close(pair.P, runfolder.samples(folder)[0])
    x = otcore.sample("moons", 100, seed=5)
    torch.testing.assert_close(entry.flow.transport(x), flow.transport(x), rtol=0, atol=0)
    at.switch_page("views/3_Trajectories.py").run()
    assert not at.exception and not any("no flow yet" in i.value for i in at.info)


def test_the_tensorboard_toggle_logs_a_run_in_this_session_into_its_folder(monkeypatch, runs):
    at = train_page(monkeypatch, {**TINY, "cfg_warm_steps": 30, "cfg_tensorboard": True, "pair": state.default_pair(300)})
    at.button(key="train_btn_start").click().run()
    job = at.session_state["job:train"]
    assert job.wait(60) and job.status == "finished", job.error
    events = EventAccumulator(str(job.context["folder"]), size_guidance={"scalars": 0})
    events.Reload()
    logged = [(e.step, e.value) for e in events.Scalars("warm-start/flow_matching")]
    expected = [(m.global_step, m.losses["flow_matching"]) for m in job.history]
    assert [s for s, _ in logged] == list(range(1, 31)) == [s for s, _ in expected]
    assert [v for _, v in logged] == pytest.approx([v for _, v in expected], rel=1e-6)
    job.reset()


def test_a_job_waits_for_the_servers_cap(monkeypatch, runs):
    """With the cap (OTFLOW_MAX_JOBS) taken by a running job, *Start a job* says so and starts nothing."""
    monkeypatch.setenv("OTFLOW_MAX_JOBS", "1")
    busy = runs / "busy"
    busy.mkdir(parents=True)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "--out", str(busy.resolve())])
    try:
        (busy / cli_job.JOB).write_text(json.dumps({"pid": proc.pid, "started": 1.0}))
        assert cli_job.running_folders(runs) == {busy.resolve()}
        at = train_page(monkeypatch, TINY)
        at.button(key="btn_default_pair").click().run()
        at.radio(key="cfg_run_as").set_value("job").run()
        at.button(key="train_btn_job_start").click().run()
        assert not at.exception
        assert any("cap" in w.value and "OTFLOW_MAX_JOBS" in w.value for w in at.warning)
        assert [j.folder for j in cli_job.list_jobs(runs)] == [busy.resolve()]
    finally:
        proc.kill()
        proc.wait()
