"""Distributions page (AppTest): toys, Gaussians, uploads, refusals — the pair in use is always valid."""
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"


@pytest.fixture
def at(monkeypatch):
    monkeypatch.setenv("OTFLOW_TORCH_THREADS", str(torch.get_num_threads()))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    app.run()
    app.switch_page("views/1_Distributions.py").run()
    assert not app.exception
    return app


def errors(at):
    return [e.value for e in at.error]


def test_default_pair_is_moons_to_8gaussians_with_a_preview(at):
    pair = at.session_state["pair"]
    assert pair.title == "moons → 8gaussians" and tuple(pair.P.shape) == (2000, 2)
    assert pair.view.is_identity and pair.gaussians is None
    assert any(s.value == "In use: moons → 8gaussians" for s in at.subheader)
    assert at.get("plotly_chart") and at.latex
    assert len(at.get("download_button")) == 3          # the example files


def test_toy_parameters_change_the_pair(at):
    at.selectbox(key="dist_q_toy").set_value("rings")
    at.number_input(key="dist_q_n").set_value(500)
    at.number_input(key="dist_q_rot").set_value(90.0)
    at.number_input(key="dist_q_sx").set_value(10.0)
    at.run()
    assert not at.exception
    pair = at.session_state["pair"]
    assert pair.label_q == "rings" and len(pair.Q) == 500
    # rings are centred at the origin: the shift moves the mean to (10, 0)
    np.testing.assert_allclose(pair.Q.mean(0).numpy(), [10.0, 0.0], atol=0.3)
    assert "rotated 90°" in pair.desc_q


def test_bad_upload_shows_the_loader_message_and_keeps_the_previous_file(at):
    at.radio(key="dist_p_kind").set_value("Upload").run()
    assert not errors(at) and any("Upload a file" in i.value for i in at.info)
    at.file_uploader(key="up_p").upload("example_moons.csv", (ASSETS / "example_moons.csv").read_bytes(), "text/csv")
    at.run()
    pair = at.session_state["pair"]
    assert pair.label_p == "example_moons" and tuple(pair.P.shape) == (300, 2)
    good_id = pair.id

    at.file_uploader(key="up_p").set_value(("bad.csv", b"x,y\n1,2\n3,oops\n5,6\n", "text/csv"))
    at.run()
    assert not at.exception
    msg = errors(at)
    assert len(msg) == 1 and "bad.csv" in msg[0] and "not a number" in msg[0] and "example_moons.csv" in msg[0]
    assert at.session_state["pair"].id == good_id      # the previous valid choice stays in use


def test_different_dimensions_are_refused_and_higher_dimensions_get_a_2d_view(at):
    good = at.session_state["pair"]
    at.radio(key="dist_p_kind").set_value("Upload").run()
    at.file_uploader(key="up_p").upload("example_ring3d.npz", (ASSETS / "example_ring3d.npz").read_bytes())
    at.run()
    assert not at.exception
    assert any("3-dimensional" in e and "2-dimensional" in e for e in errors(at))
    assert at.session_state["pair"].id == good.id

    at.radio(key="dist_q_kind").set_value("Gaussian").run()
    at.number_input(key="dist_q_dim").set_value(3).run()
    assert not at.exception and not errors(at)
    pair = at.session_state["pair"]
    assert pair.dim == 3 and pair.view.kind == "pca"
    assert any("3-dimensional" in i.value for i in at.info)     # the note about the 2-D view
    at.radio(key="dist_view").set_value("coordinates").run()
    at.number_input(key="dist_view_j").set_value(3).run()
    assert at.session_state["pair"].view.labels == ("x₁", "x₃")


def test_gaussian_pair_gets_the_closed_form_and_bad_numbers_are_explained(at):
    for s in "pq":
        at.radio(key=f"dist_{s}_kind").set_value("Gaussian")
    at.run()
    at.radio(key="dist_q_gmode").set_value("matrix").run()
    pair = at.session_state["pair"]
    assert pair.gaussians is not None
    p, q = pair.gaussians
    np.testing.assert_allclose(q.cov, [[2.0, 0.8], [0.8, 1.0]])
    np.testing.assert_allclose(q.mean, [3.0, 3.0])
    assert any("W₂² =" in m.value for m in at.markdown)

    at.text_area(key="dist_q_cov").input("1, 2; 2, 1").run()
    assert not at.exception
    assert any("positive definite" in e for e in errors(at))
    assert at.session_state["pair"].id == pair.id
