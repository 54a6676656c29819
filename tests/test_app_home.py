"""Home page (AppTest): loads, and the demo button trains moons → 8gaussians and opens Trajectories."""
import re
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


def test_every_page_opens_through_the_entrypoint_with_its_title_and_url(at):
    at.run()
    assert not at.exception
    expected = {"views/1_Distributions.py": "Distributions", "views/2_Train.py": "Train",
                "views/3_Trajectories.py": "Trajectories", "views/4_Density_ratio.py": "Density ratio",
                "views/5_Images.py": "Images: translation through a latent OT flow"}
    for path, title in expected.items():
        at.switch_page(path).run()
        assert not at.exception, path
        assert at.title[0].value == title
    links = at.switch_page("views/home.py").run().get("page_link")
    assert not at.exception and at.title[0].value == "OT Flow Studio"
    assert len(links) == 3 and all(link.proto.page_script_hash for link in links)   # registered pages


def test_the_pages_have_sensible_titles_and_urls():
    import ast

    tree = ast.parse((ROOT / "app.py").read_text())
    pages = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "PAGES")
    assert pages[0] == ("views/home.py", "Home", "")                   # the root URL, titled "Home"
    urls = [url for _, _, url in pages[1:]]
    assert all(re.fullmatch(r"[a-z_]+", u) for u in urls) and len(set(urls)) == len(urls)
    assert all((ROOT / path).is_file() for path, _, _ in pages)


def test_no_deploy_button_in_the_toolbar():
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert 'toolbarMode = "minimal"' in config
