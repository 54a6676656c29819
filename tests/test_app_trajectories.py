"""Trajectories page (AppTest): the animation of the session's flow, closed-form overlay, exports."""
import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.runtime.media_file_manager import MediaFileManager
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
    at.switch_page("views/3_Trajectories.py").run()
    assert not at.exception
    assert any("no flow yet" in i.value for i in at.info)


def test_animation_with_closed_form_paths_both_directions_and_exports(at):
    at.session_state["pair"] = gaussian_pair()
    at.session_state["flow"] = FlowEntry(untrained_flow(), "uploaded", time.time())
    at.switch_page("views/3_Trajectories.py").run()
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
    assert downloads(at) == ["btn_download_pairs", "btn_download_export"] and len(at.get("image")) == 1
    at.button(key="btn_prepare_html").click().run()
    assert not at.exception and downloads(at) == ["btn_download_pairs", "btn_download_export"]


def downloads(at):
    """The keys of the page's download buttons, in order."""
    return [b.proto.id.rsplit("-", 1)[-1] for b in at.get("download_button")]


def test_the_transport_table_downloads_every_source_point_with_its_image(at, monkeypatch):
    tables = {}                       # the button's deferred CSV maker, run here as a click would
    real = MediaFileManager.add_deferred

    def spy(self, data, mimetype, coordinates, file_name=None, **kw):
        tables[file_name] = (data, mimetype)
        return real(self, data, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    pair, flow = gaussian_pair(), untrained_flow()
    at.session_state["pair"] = pair
    at.session_state["flow"] = FlowEntry(flow, "uploaded", time.time())
    at.switch_page("views/3_Trajectories.py").run()
    assert not at.exception and "btn_download_pairs" in downloads(at)
    for direction, cloud, reverse in (("P → Q", pair.P, False), ("Q → P", pair.Q, True)):
        at.radio(key="traj_direction").set_value(direction).run()
        assert not at.exception
        label = next(b.proto.label for b in at.get("download_button") if b.proto.id.endswith("btn_download_pairs"))
        assert f"{len(cloud)} points" in label
        make, mime = tables[f"N0_to_N1{'_reverse' if reverse else ''}_pairs.csv"]
        text = make()
        header = text.splitlines()[0].split(",")
        values = torch.from_numpy(np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, dtype=np.float32))
        assert mime == "text/csv" and len(values) == len(cloud)
        assert header[:3:2] == (["y_1", "Tinvy_1"] if reverse else ["x_1", "Tx_1"])
        assert torch.equal(values[:, :2], cloud)
        assert torch.allclose(values[:, 2:4], flow.transport(cloud, reverse=reverse), atol=1e-5)
        assert (values[:, 4] >= 0).all() and (values[:, 5] >= 0).all()


def test_a_flow_of_another_dimension_is_refused(at):
    at.session_state["pair"] = gaussian_pair()
    at.session_state["flow"] = FlowEntry(untrained_flow(3), "uploaded", time.time())
    at.switch_page("views/3_Trajectories.py").run()
    assert not at.exception
    assert any("3-dimensional" in e.value for e in at.error)


def test_higher_dimensional_pairs_are_drawn_in_their_2d_view(at):
    P = otcore.random_gaussian(4, seed=1).sample(300)
    Q = otcore.random_gaussian(4, seed=2).sample(300)
    at.session_state["pair"] = make_pair(P, Q)
    at.session_state["flow"] = FlowEntry(untrained_flow(4), "uploaded", time.time())
    at.switch_page("views/3_Trajectories.py").run()
    assert not at.exception
    assert any("4-dimensional" in c.value for c in at.caption)
    fig = spec(at)
    assert fig["layout"]["xaxis"]["title"]["text"] == "PC 1"
