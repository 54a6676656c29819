"""Trajectories page (AppTest): the animation of the session's flow, closed-form overlay, exports."""
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import otcore
from ui.state import FlowEntry, make_pair

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def at(monkeypatch):
    monkeypatch.setenv("OTFLOW_TORCH_THREADS", str(torch.get_num_threads()))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    app.session_state["traj_particles"] = 100
    app.session_state["traj_frames"] = 12
    app.run()
    return app


def gaussian_pair():
    p = otcore.Gaussian(np.zeros(2), np.eye(2))
    q = otcore.Gaussian(np.array([4.0, 0.0]), np.array([[2.0, 0.5], [0.5, 1.0]]))
    return make_pair(p.sample(500, seed=0), q.sample(500, seed=1), label_p="N0", label_q="N1", gaussians=(p, q))


def untrained_flow(dim=2):
    return otcore.OTFlow.new(dim, otcore.FlowConfig(hidden=16, depth=1, eval_steps=4))


def spec(at):
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_without_a_flow_the_page_says_what_to_do(at):
    at.switch_page("pages/3_Trajectories.py").run()
    assert not at.exception
    assert any("no flow yet" in i.value for i in at.info)


def test_animation_with_closed_form_paths_both_directions_and_exports(at):
    at.session_state["pair"] = gaussian_pair()
    at.session_state["flow"] = FlowEntry(untrained_flow(), "uploaded", time.time())
    at.switch_page("pages/3_Trajectories.py").run()
    assert not at.exception
    fig = spec(at)
    assert len(fig["frames"]) == 12
    names = [t.get("name") for t in fig["data"]]
    assert {"particles", "velocity", "closed-form OT", "learned paths", "closed-form paths"} <= set(names)
    assert "P → Q" in fig["layout"]["title"]["text"]
    assert fig["layout"]["sliders"][0]["steps"][-1]["label"] == "1.00"
    assert any("m_1 + A" in x.value for x in at.latex)

    at.radio(key="traj_direction").set_value("Q → P").run()
    at.toggle(key="traj_arrows").set_value(False).run()
    fig = spec(at)
    assert "Q → P" in fig["layout"]["title"]["text"] and "velocity" not in [t.get("name") for t in fig["data"]]
    assert fig["layout"]["sliders"][0]["steps"][0]["label"] == "1.00"

    at.button(key="btn_prepare_gif").click().run()
    assert not at.exception
    buttons = at.get("download_button")
    assert len(buttons) == 1 and len(at.get("image")) == 1
    at.button(key="btn_prepare_html").click().run()
    assert not at.exception and len(at.get("download_button")) == 1


def test_a_flow_of_another_dimension_is_refused(at):
    at.session_state["pair"] = gaussian_pair()
    at.session_state["flow"] = FlowEntry(untrained_flow(3), "uploaded", time.time())
    at.switch_page("pages/3_Trajectories.py").run()
    assert not at.exception
    assert any("3-dimensional" in e.value for e in at.error)


def test_higher_dimensional_pairs_are_drawn_in_their_2d_view(at):
    P = otcore.random_gaussian(4, seed=1).sample(300)
    Q = otcore.random_gaussian(4, seed=2).sample(300)
    at.session_state["pair"] = make_pair(P, Q)
    at.session_state["flow"] = FlowEntry(untrained_flow(4), "uploaded", time.time())
    at.switch_page("pages/3_Trajectories.py").run()
    assert not at.exception
    assert any("4-dimensional" in c.value for c in at.caption)
    fig = spec(at)
    assert fig["layout"]["xaxis"]["title"]["text"] == "PC 1"
