"""Home page (AppTest): loads, and the demo button trains moons → 8gaussians and opens Trajectories."""
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def at(monkeypatch, tmp_path):
    monkeypatch.setenv("OTFLOW_TORCH_THREADS", str(torch.get_num_threads()))
    monkeypatch.setenv("OTFLOW_RUNS_DIR", str(tmp_path / "runs"))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    yield app
    job = app.session_state["job:train"] if "job:train" in app.session_state else None
    if job is not None:
        job.reset()


def test_home_loads_with_a_picture_and_the_demo_button(at):
    at.run()
    assert not at.exception
    assert at.title[0].value == "OT Flow Studio"
    assert at.button(key="btn_demo").label.endswith("Try the demo")
    assert len(at.get("image")) == 1
    assert any("W_2^2" in x.value for x in at.latex)


def test_demo_trains_in_the_background_and_shows_the_trajectories(at):
    at.run()
    at.button(key="btn_demo").click().run()
    assert not at.exception
    job = at.session_state["job:train"]
    pair = at.session_state["pair"]
    assert pair.title == "moons → 8gaussians" and job.context["pair_id"] == pair.id
    end = time.time() + 60
    while job.steps < 3 and time.time() < end:
        time.sleep(0.1)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Trajectories"           # switched page
    assert job.running or job.steps > 0
    assert at.get("plotly_chart"), "the animation of the flow as it stands is drawn while training continues"
