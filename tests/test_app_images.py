"""Images page (AppTest): built-in digits train end to end and the scrub, grids, GIF and latent view
appear; bad uploads are explained next to the uploader; Stop/Resume/Reset work."""
import io
import time
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
TINY = {"img_ae_steps": 40, "img_flow_steps": 30, "img_width": 8}


@pytest.fixture
def at(monkeypatch):
    monkeypatch.setenv("OTFLOW_TORCH_THREADS", str(torch.get_num_threads()))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for k, v in TINY.items():
        app.session_state[k] = v
    app.run()
    app.switch_page("views/5_Images.py").run()
    yield app
    if "job:images" in app.session_state:
        app.session_state["job:images"].reset()


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def charts(at) -> list[str]:
    return [c.key for c in at.get("plotly_chart")]


def png(value: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (12, 12), value).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.slow
def test_builtin_digits_train_and_scrub(at):
    assert not at.exception and not errors(at)
    assert {"img_preview_A", "img_preview_B"} <= set(charts(at))
    assert at.selectbox(key="img_builtin_A").value == "digit 3" and at.selectbox(key="img_builtin_B").value == "digit 8"
    assert any("Train to scrub" in i.value for i in at.info)

    at.button(key="img_btn_start").click().run()
    job = at.session_state["job:images"]
    assert job.wait(300), "training did not end"
    assert job.status == "finished", job.error
    stages = [m.stage for m in job.history]
    assert stages.count("autoencoder") == 40 and stages.count("warm-start") == 30
    at.run()
    assert not at.exception and not errors(at)
    keys = set(charts(at))
    assert {"img_loss_chart", "img_recon_chart", "img_gallery_chart", "img_grid_flow_0", "img_grid_fade_0",
            "img_grid_flow_1", "img_latent_chart"} <= keys
    assert at.slider(key="img_t").value == 0.0
    at.slider(key="img_t").set_value(0.5).run()
    assert not at.exception
    at.radio(key="img_direction").set_value("reverse").run()
    at.slider(key="img_pick").set_value(3).run()
    assert not at.exception and not errors(at)
    at.toggle(key="img_play_gif").set_value(True).run()       # builds the scrub GIF and shows it
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "judged" in captions                               # the digit judge reads the frames
    assert len(at.latex) >= 5                                 # formulas beside the figures


def test_stop_resume_reset(at):
    at.session_state["img_ae_steps"] = 100_000
    at.run()
    at.button(key="img_btn_start").click().run()
    job = at.session_state["job:images"]
    end = time.time() + 30
    while job.steps < 5 and time.time() < end:
        time.sleep(0.05)
    at.button(key="img_btn_stop").click().run()
    assert job.status == "stopped"
    frozen = job.steps
    time.sleep(0.3)
    assert job.steps == frozen
    at.button(key="img_btn_resume").click().run()
    end = time.time() + 30
    while job.steps < frozen + 3 and time.time() < end:
        time.sleep(0.05)
    at.button(key="img_btn_stop").click().run()
    assert [r["step"] for r in job.rows()] == list(range(1, job.steps + 1))
    at.button(key="img_btn_reset").click().run()
    assert job.status == "idle" and job.steps == 0 and not at.exception


def test_bad_uploads_are_explained_next_to_the_uploader(at):
    at.radio(key="img_kind_A").set_value("Upload").run()
    assert not at.exception and any("Upload at least 10 images" in i.value for i in at.info)
    # the uploader only accepts image and zip names; a text file renamed .png gets through to the loader
    at.file_uploader(key="img_up_A").set_value([("notes.png", b"hello", "image/png"),
                                                 ("broken.png", png()[:40], "image/png")])
    at.run()
    assert not at.exception
    msg = errors(at)
    assert len(msg) == 1 and "no usable images" in msg[0] and "notes.png" in msg[0] and "broken.png" in msg[0]
    assert "img_btn_start" not in [b.key for b in at.button]          # nothing to train on

    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    at.file_uploader(key="img_up_A").set_value(("empty.zip", empty.getvalue(), "application/zip"))
    at.run()
    assert not at.exception and any("the zip is empty" in e for e in errors(at))

    good = io.BytesIO()
    with zipfile.ZipFile(good, "w") as z:
        for i in range(12):
            z.writestr(f"img{i}.png", png(20 * i))
        z.writestr("notes.txt", "x")
    at.selectbox(key="img_size").set_value(8)
    at.file_uploader(key="img_up_A").set_value(("good.zip", good.getvalue(), "application/zip"))
    at.run()
    assert not at.exception and not errors(at)
    assert any("10 training images and 2 held-out gallery images, 8 × 8 grey" in c.value for c in at.caption)

    # a bad upload after a good one: the message, and the good images stay in use
    at.file_uploader(key="img_up_A").set_value(("notes.png", b"just text", "image/png"))
    at.run()
    assert not at.exception and any("notes.png" in e for e in errors(at))
    assert any("Still using the images uploaded before" in c.value for c in at.caption)
    assert "img_btn_start" in [b.key for b in at.button]


def test_mismatched_domains_are_refused(at):
    at.selectbox(key="img_builtin_B").set_value("china patches (16×16 RGB)").run()
    assert not at.exception
    assert any("same size and colour" in e for e in errors(at))
    assert "img_btn_start" not in [b.key for b in at.button]
