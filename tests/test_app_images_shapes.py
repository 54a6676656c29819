"""Images page (AppTest): the drawn circles and squares are built-in choices; picking them switches
the autoencoder's settings to the 32 × 32 RGB preset, a short training runs, and the scrub reads
the shape, position, size and colour of each image. Back on digits the digit defaults return."""
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from otcore.images import AEConfig

ROOT = Path(__file__).resolve().parent.parent
TINY = {"img_ae_steps": 30, "img_flow_steps": 20, "img_width": 8}


@pytest.fixture
def at(monkeypatch):
    monkeypatch.setenv("OTFLOW_TORCH_THREADS", str(torch.get_num_threads()))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.run()
    app.switch_page("views/5_Images.py").run()
    yield app
    if "job:images" in app.session_state:
        app.session_state["job:images"].reset()


def test_builtin_shapes_can_be_picked_and_translated(at):
    assert not at.exception
    options = at.selectbox(key="img_builtin_A").options
    assert "circles (32×32 RGB)" in options and "squares (32×32 RGB)" in options and "digit 3" in options
    at.selectbox(key="img_builtin_A").set_value("circles (32×32 RGB)").run()
    at.selectbox(key="img_builtin_B").set_value("squares (32×32 RGB)").run()
    assert not at.exception and not at.error
    assert {"img_preview_A", "img_preview_B"} <= {c.key for c in at.get("plotly_chart")}
    assert any("400 training images and 24 held-out gallery images, 32 × 32 RGB" in c.value for c in at.caption)
    preset = AEConfig.for_images(32, 3)
    assert at.number_input(key="img_width").value == preset.width != AEConfig().width
    assert at.number_input(key="img_latent").value == preset.latent
    assert at.number_input(key="img_kl").value == pytest.approx(preset.kl)

    for key, value in TINY.items():
        at.session_state[key] = value
    at.run()
    assert at.number_input(key="img_width").value == 8           # the user's choice is kept from now on
    at.button(key="img_btn_start").click().run()
    job = at.session_state["job:images"]
    assert job.wait(60), "training did not end"
    assert job.status == "finished", job.error
    trained = job.context["ae_config"]                           # the preset's colour path and domain head
    assert trained.width == 8 and trained.colour_path and trained.domain_weight == preset.domain_weight
    at.run()
    assert not at.exception and not at.error
    shown = [c for img in at.get("image") for c in img.captions]
    assert any(c.startswith("source · judged: circle at (") and "half-width" in c for c in shown), shown
    assert any(c.startswith("latent OT flow, t = 0.00 · judged:") for c in shown), shown
    assert any("Optimal transport should change the shape" in c.value for c in at.caption)

    at.selectbox(key="img_builtin_A").set_value("digit 3").run()
    at.selectbox(key="img_builtin_B").set_value("digit 8").run()
    assert not at.exception
    assert at.number_input(key="img_width").value == AEConfig().width
    assert at.number_input(key="img_kl").value == pytest.approx(AEConfig().kl)
