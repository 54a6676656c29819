"""Train page (AppTest): Start advances, Stop freezes, Resume continues, Reset clears, a saved flow
reopens with identical transports, bad flow files are explained, a diverged run keeps its weights."""
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

import otcore

ROOT = Path(__file__).resolve().parent.parent
TINY = {"cfg_hidden": 32, "cfg_depth": 2, "cfg_warm_steps": 3000, "cfg_warm_batch": 64, "cfg_refine_steps": 0,
        "cfg_eval_steps": 8, "cfg_validate_every": 5}


@pytest.fixture
def at(monkeypatch, tmp_path):
    monkeypatch.setenv("OTFLOW_TORCH_THREADS", str(torch.get_num_threads()))
    monkeypatch.setenv("OTFLOW_RUNS_DIR", str(tmp_path / "runs"))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for k, v in TINY.items():
        app.session_state[k] = v
    app.run()
    app.switch_page("views/2_Train.py").run()
    yield app
    if "job:train" in app.session_state:
        app.session_state["job:train"].reset()


def wait_steps(job, n, timeout=60):
    end = time.time() + timeout
    while job.steps < n and time.time() < end and (job.running or job.steps == 0):
        time.sleep(0.05)
    assert job.steps >= n, f"only {job.steps} steps ({job.status}: {job.error})"


def captions(at):
    return " ".join(c.value for c in at.caption)


def test_needs_a_pair_then_start_stop_resume_reset(at):
    assert not at.exception
    assert any("No distributions" in i.value for i in at.info)
    at.button(key="btn_default_pair").click().run()
    assert at.session_state["pair"].title == "moons → 8gaussians"
    assert at.button(key="train_btn_stop").disabled and at.button(key="train_btn_resume").disabled
    assert at.selectbox(key="cfg_device").options == list(otcore.available_devices().values())

    at.button(key="train_btn_start").click().run()
    assert not at.exception
    job = at.session_state["job:train"]
    assert job.context["config"].hidden == 32 and job.context["config"].warm_steps == 3000
    wait_steps(job, 10)
    at.run()
    assert "Status: **running**" in captions(at)
    assert not at.button(key="train_btn_stop").disabled
    assert at.get("plotly_chart"), "live loss chart"

    at.button(key="train_btn_stop").click().run()
    assert job.status == "stopped"
    frozen = job.steps
    time.sleep(0.5)
    at.run()
    assert job.steps == frozen and "Status: **stopped**" in captions(at)
    assert any(m.label == "Step" and m.value == str(frozen) for m in at.metric)
    assert not at.button(key="train_btn_resume").disabled

    at.button(key="train_btn_resume").click().run()
    wait_steps(job, frozen + 5)
    at.button(key="train_btn_stop").click().run()
    assert [r["global_step"] for r in job.rows()] == list(range(1, job.steps + 1))   # nothing lost or repeated

    at.button(key="train_btn_reset").click().run()
    assert job.status == "idle" and job.steps == 0
    assert "Status: **not started**" in captions(at)
    assert "Train (or open) a flow to save it." in captions(at)


def test_saved_flow_reopens_with_identical_transports_and_bad_files_are_explained(at, tmp_path):
    at.button(key="btn_default_pair").click().run()
    at.button(key="train_btn_start").click().run()
    job = at.session_state["job:train"]
    wait_steps(job, 20)
    at.button(key="train_btn_stop").click().run()
    assert not at.exception
    trained = at.session_state["job:train"].context["trainer"].flow
    at.button(key="btn_write_flow").click().run()
    saved = list((tmp_path / "runs").glob("*.pt"))
    assert len(saved) == 1 and any(str(saved[0]) in s.value for s in at.success)

    at.button(key="train_btn_reset").click().run()
    at.file_uploader(key="up_flow").upload("mine.pt", saved[0].read_bytes()).run()
    assert not at.exception
    assert any("Opened mine.pt: a 2-D flow" in s.value for s in at.success)
    entry = at.session_state["flow"]
    assert entry.source == "uploaded"
    x = otcore.sample("moons", 200, seed=5)
    torch.testing.assert_close(entry.flow.transport(x), trained.transport(x), rtol=0, atol=0)

    at.file_uploader(key="up_flow").set_value(("notes.pt", b"this is not a flow", "application/octet-stream")).run()
    assert not at.exception
    assert any("notes.pt" in e.value and "not a flow" in e.value for e in at.error)


def test_a_diverged_run_says_why_and_keeps_its_last_good_weights(at):
    at.session_state["cfg_warm_lr"] = 1e12
    at.button(key="btn_default_pair").click().run()
    at.button(key="train_btn_start").click().run()
    job = at.session_state["job:train"]
    assert job.wait(60)
    at.run()
    assert not at.exception
    assert job.status == "diverged"
    msg = [e.value for e in at.error]
    assert any(m.startswith("Training stopped: training diverged") for m in msg)
    flow = at.session_state["job:train"].context["trainer"].flow
    assert all(torch.isfinite(p).all() for p in flow.field.parameters())
    assert at.get("download_button"), "the last good weights can still be saved"


def test_two_sessions_train_independently(at):
    other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    other.run()
    other.switch_page("views/2_Train.py").run()
    at.button(key="btn_default_pair").click().run()
    at.button(key="train_btn_start").click().run()
    wait_steps(at.session_state["job:train"], 3)
    other.run()
    assert "pair" not in other.session_state and "job:train" not in other.session_state
    assert any("No distributions" in i.value for i in other.info)


def test_beyond_the_server_cap_the_page_says_the_run_waits_and_it_starts_by_itself(at, monkeypatch):
    monkeypatch.setenv("OTFLOW_MAX_JOBS", "1")
    other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for k, v in TINY.items():
        other.session_state[k] = v
    other.run()
    other.switch_page("views/2_Train.py").run()
    at.button(key="btn_default_pair").click().run()
    other.button(key="btn_default_pair").click().run()
    at.button(key="train_btn_start").click().run()
    first = at.session_state["job:train"]
    wait_steps(first, 3)
    other.button(key="train_btn_start").click().run()
    second = other.session_state["job:train"]
    try:
        assert second.status == "queued" and second.steps == 0
        assert "Status: **waiting for a free slot**" in captions(other)
        assert any("waits in the queue (place 1 of 1)" in i.value and "1 at once" in i.value for i in other.info)
        assert not other.button(key="train_btn_stop").disabled       # it can leave the queue
        at.button(key="train_btn_stop").click().run()                # the first run frees its slot
        wait_steps(second, 3)
        assert second.status == "running"
    finally:
        second.reset()
