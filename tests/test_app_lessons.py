"""Lessons page (AppTest, through the entrypoint): each lesson's link sets up the lesson, its settings
and its picture; its one button trains in the background and draws the results; the URL follows the
widgets; a bad link falls back to the defaults with messages."""
import json

import pytest
from app_helpers import open_app

from ui.lessons_spec import LESSONS, encode

PAGE = "views/7_Lessons.py"
#: tiny step counts: the test checks the lesson's set-up and drawing, not the flows' quality
TINY = {"gaussians": {"steps": 30}, "straight": {"steps": 30}, "ratio": {"kl": 12.5, "flow_steps": 10, "ratio_steps": 20},
        "refine": {"steps": 20, "refine_steps": 3}}


@pytest.fixture
def at(monkeypatch):
    return open_app(monkeypatch)


def link(name: str) -> dict[str, str]:
    spec = LESSONS[name]
    return encode(name, list(spec.pairs)[-1], {**spec.defaults(), **TINY[name], "seed": 5})


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def open_link(at, params):
    at.switch_page(PAGE)
    at.query_params = dict(params)
    return at.run()


@pytest.mark.parametrize("name", list(LESSONS))
def test_a_lesson_link_reproduces_the_lesson_and_its_button_draws_the_results(at, name):
    params = link(name)
    open_link(at, params)
    assert not at.exception
    assert not at.warning, [w.value for w in at.warning]
    assert [h.value for h in at.header] == [LESSONS[name].title]
    assert at.selectbox(key="lesson_pick").value == name
    assert at.selectbox(key=f"lesson_{name}_pair").value == params["pair"]
    for s in LESSONS[name].settings:
        assert at.number_input(key=f"lesson_{name}_{s.name}").value == pytest.approx(float(params[s.name]))
    assert {k: (v if isinstance(v, str) else v[0]) for k, v in at.query_params.items()} == params
    assert len(at.latex) >= 2
    assert len(charts(at)) == 1                                # the picture before any training
    assert any(params["lesson"] in c.value for c in at.code)   # the shareable link is on the page

    at.button(key=f"lesson_{name}_btn_start").click().run()
    job = at.session_state[f"job:lesson_{name}"]
    assert job.wait(600), "the lesson did not finish"
    assert job.status == "finished", job.error
    at.run()
    assert not at.exception
    figs = charts(at)
    assert len(figs) == 2
    titles = [a["text"] for a in figs[-1]["layout"].get("annotations", [])]   # [0]: the picture before training
    if name == "ratio":
        assert titles == ["one classifier", "telescoping (along the flow)"]
        assert [m.label for m in at.metric] == ["True KL(Q‖P)", "One classifier", "Telescoping"]
        assert at.metric[0].value == "12.50 nats"
    else:
        run = job.context["run"]
        assert titles == [run.results[m].label for m in LESSONS[name].methods]
        table = at.dataframe[0].value
        assert list(table["method"]) == titles
        assert ("cost / W₂²" in table.columns) == (run.problem.gaussians is not None)
        if name == "refine":
            assert run.problem.dim >= 8
            assert any(f"{run.problem.dim}-dimensional" in c.value for c in at.caption)   # drawn projected


def test_a_hostile_link_falls_back_to_the_defaults_with_messages(at):
    open_link(at, {"lesson": "ratio", "kl": "1e999", "ratio_steps": "<b>9</b>", "evil": "x" * 10000})
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "'kl'" in warnings and "'ratio_steps'" in warnings and "Ignored" in warnings
    assert at.number_input(key="lesson_ratio_kl").value == LESSONS["ratio"].defaults()["kl"]
    assert at.query_params.get("kl") in ("20", ["20"])         # the URL now holds the link of what is shown
    assert "evil" not in at.query_params


def test_the_url_follows_the_widgets_and_survives_a_page_switch(at):
    open_link(at, link("straight"))
    at.number_input(key="lesson_straight_steps").set_value(77).run()
    assert at.query_params.get("steps") in ("77", ["77"])
    at.selectbox(key="lesson_pick").set_value("refine").run()
    assert at.query_params.get("lesson") in ("refine", ["refine"])
    assert [h.value for h in at.header] == [LESSONS["refine"].title]
    at.selectbox(key="lesson_pick").set_value("straight").run()
    at.switch_page("views/home.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.selectbox(key="lesson_pick").value == "straight"
    assert at.number_input(key="lesson_straight_steps").value == 77
