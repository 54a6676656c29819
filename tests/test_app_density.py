"""Density-ratio page (AppTest): no flow → a link to Train; with a flow, Start trains the ratio network
in the background and the maps, baselines and errors appear; the mutual-information section runs."""
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
PAGE = "views/4_Density_ratio.py"


@pytest.fixture
def at(monkeypatch):
    monkeypatch.setenv("OTFLOW_TORCH_THREADS", str(torch.get_num_threads()))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    app.run()
    for key, value in dict(dre_steps=20, dre_batch=32, dre_slices=4, dre_frames=5, dre_resolution=20,
                           dre_particles=50, mi_dim=4, mi_true=1.0, mi_n=600, mi_flow_steps=20, mi_steps=20).items():
        app.session_state[key] = value
    return app


def gaussian_pair():
    p = otcore.Gaussian(np.zeros(2), np.eye(2))
    q = otcore.Gaussian(np.array([3.0, 0.0]), np.array([[1.5, 0.3], [0.3, 0.7]]))
    return make_pair(p.sample(400, seed=0), q.sample(400, seed=1), label_p="N0", label_q="N1", gaussians=(p, q))


def tiny_flow(dim=2):
    return otcore.OTFlow.new(dim, otcore.FlowConfig(hidden=16, depth=1, eval_steps=4))


def charts(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def wait_for(at, key):
    job = at.session_state[f"job:{key}"]
    assert job.wait(300), "the background job did not finish"
    return job


def run_job(at, button, key):
    """Open the page, press ``button``, wait for job ``key`` to finish and redraw; returns the job."""
    at.switch_page(PAGE).run()
    assert not at.exception
    at.button(key=button).click().run()
    job = wait_for(at, key)
    assert job.status == "finished", job.error
    at.run()
    assert not at.exception
    return job


def test_without_a_flow_the_page_links_to_train(at):
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("no flow yet" in i.value for i in at.info)
    links = at.get("page_link")
    assert links and links[0].proto.page == "train" and links[0].proto.label == "Go to Train"
    assert any("Simpson" in m.value for m in at.markdown)
    assert len(at.latex) >= 2


def test_start_trains_the_ratio_and_draws_maps_baselines_and_errors(at):
    at.session_state["pair"] = gaussian_pair()
    at.session_state["flow"] = FlowEntry(tiny_flow(), "uploaded", time.time())
    run_job(at, "dre_btn_start", "ratio")
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [s["layout"].get("title", {}).get("text", "") for s in specs]
    assert any(t.startswith("Ratio network") for t in titles)
    anim = [s for s in specs if "frames" in s and s["frames"]]
    assert len(anim) == 2 and len(anim[0]["frames"]) == 5          # log-ratio and time-score animations
    compare = next(s for s in specs if s["layout"].get("title", {}).get("text") == "log q(x) − log p(x)")
    names = [t.get("name") for t in compare["data"] if t["type"] == "heatmap"]
    assert names == ["bridge (infinitesimal)", "one step", "closed form", "kernel"]
    table = at.dataframe[0].value
    assert set(table["estimator"]) == {"bridge (infinitesimal)", "one step", "kernel"}
    assert (table["MAE (nats)"] >= 0).all()
    downloads = {d.proto.label for d in at.get("download_button")}
    assert downloads == {"⬇ Download the density ratio (.pt)", "⬇ Download the maps (.npz)"}
    at.button(key="dre_btn_reset").click().run()
    assert not at.exception and at.session_state["job:ratio"].status == "idle"


def test_three_dimensional_data_are_shown_on_a_chosen_slice_through_the_mean(at):
    p = otcore.Gaussian(np.zeros(3), np.eye(3))
    q = otcore.Gaussian(np.array([2.0, 0.0, 5.0]), np.diag([0.5, 1.0, 2.0]))
    at.session_state["pair"] = make_pair(p.sample(400, seed=0), q.sample(400, seed=1), gaussians=(p, q))
    at.session_state["flow"] = FlowEntry(tiny_flow(3), "uploaded", time.time())
    run_job(at, "dre_btn_start", "ratio")
    assert at.radio(key="dre_slice").value == "principal plane (PCA)"
    assert any("slice of R^d" in c.value for c in at.caption)
    at.radio(key="dre_slice").set_value("two coordinates").run()
    at.number_input(key="dre_slice_i").set_value(3).run()
    assert not at.exception
    anim = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "").startswith("log p_t"))
    assert anim["layout"]["xaxis"]["title"]["text"] == "x₃" and anim["layout"]["yaxis"]["title"]["text"] == "x₂"
    xs = anim["data"][0]["x"]
    assert xs[0] < 0.0 < 5.0 < xs[-1]              # x₃ spans both clouds (P around 0, Q around 5)
    at.number_input(key="dre_slice_j").set_value(3).run()
    assert any("two different coordinates" in e.value for e in at.error)


def test_a_flow_of_another_dimension_is_refused(at):
    at.session_state["pair"] = gaussian_pair()
    at.session_state["flow"] = FlowEntry(tiny_flow(3), "uploaded", time.time())
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("3-dimensional" in e.value for e in at.error)


def test_mutual_information_section_runs_and_shows_estimate_vs_truth(at):
    run_job(at, "mi_btn_start", "mi")
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"].get("title", {}).get("text") == "Mutual information (nats)")
    assert spec["layout"]["shapes"][0]["x0"] == 1.0
    assert [m.label for m in at.metric][:2] == ["Estimate (nats)", "One-step classifier (nats)"]


def test_energy_density_of_the_pair_q_shows_bits_per_dimension_and_maps(at):
    at.session_state["pair"] = gaussian_pair()
    for key, value in dict(energy_flow_steps=30, energy_steps=30).items():
        at.session_state[key] = value
    run_job(at, "energy_btn_start", "energy")
    table = next(d.value for d in at.dataframe if "bits / dim" in d.value.columns)
    assert list(table["model"]) == ["Gaussian base alone", "Gaussian × one-step ratio", "Gaussian × bridge ratio"]
    maps = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"].get("title", {}).get("text") == "log density")
    assert [t["name"] for t in maps["data"] if t["type"] == "heatmap"] == ["Gaussian base p", "energy model q"]
    assert maps["data"][0]["colorscale"] is not None


def test_energy_density_without_a_pair_offers_the_digits(at):
    at.switch_page(PAGE).run()
    assert any("built-in digits" in i.value for i in at.info)
    at.radio(key="energy_data").set_value("8×8 digits (scikit-learn, 64-D)").run()
    assert not at.exception and not at.button(key="energy_btn_start").disabled
