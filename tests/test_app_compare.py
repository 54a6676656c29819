"""Compare page (AppTest, through the entrypoint): no pair → a link; Start runs the chosen methods in
the background; small multiples with one time slider, the table and its CSV appear."""
import base64
import json

import numpy as np
import pytest
from app_helpers import open_app

import otcore
from ui.state import make_pair

PAGE = "views/6_Compare.py"


@pytest.fixture
def at(monkeypatch):
    return open_app(monkeypatch)


def gaussian_pair():
    p = otcore.Gaussian(np.zeros(2), np.eye(2))
    q = otcore.Gaussian(np.array([3.0, 0.0]), np.array([[1.5, 0.3], [0.3, 0.7]]))
    return make_pair(p.sample(600, seed=0), q.sample(600, seed=1), label_p="N0", label_q="N1", gaussians=(p, q))


def values(v):
    """A plotly JSON array: a list, or a typed array {'dtype', 'bdata'} (base64)."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
    return np.asarray(v, dtype=float)


def test_without_a_pair_the_page_links_to_distributions(at):
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("no pair yet" in i.value for i in at.info)
    assert at.get("page_link")[0].proto.page == "distributions"
    assert len(at.latex) >= 1


def test_start_compares_and_draws_panels_slider_table_and_csv(at):
    at.session_state["pair"] = gaussian_pair()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert "closed form (Gaussians)" in at.multiselect(key="cmp_methods").options
    at.multiselect(key="cmp_methods").set_value(["exact", "entropic", "closed-form", "independent"])
    at.number_input(key="cmp_seconds").set_value(2.0)
    at.number_input(key="cmp_particles").set_value(40).run()
    at.button(key="cmp_btn_start").click().run()
    job = at.session_state["job:compare"]
    assert job.wait(120), "the comparison did not finish"
    assert job.status == "finished", job.error
    at.run()
    assert not at.exception
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert len(titles) == 4 and "exact OT (POT)" in titles and "independent flow matching" in titles
    particles = [t for t in fig["data"] if t["name"].startswith("particles")]
    assert len(particles) == 4 and all(len(values(t["x"])) == 40 for t in particles)
    assert "t = 0.50" in fig["layout"]["title"]["text"]
    at.select_slider(key="cmp_t").set_value(0).run()   # one slider moves every panel
    fig0 = json.loads(at.get("plotly_chart")[0].proto.spec)
    starts = [t for t in fig0["data"] if t["name"].startswith("particles")]
    assert "t = 0.00" in fig0["layout"]["title"]["text"]
    assert all(np.allclose(values(s["x"]), values(starts[0]["x"])) for s in starts)   # the same particles in every panel
    table = at.dataframe[0].value
    assert list(table["method"]) == ["independent flow matching", "exact OT (POT)", "entropic OT (ε = 0.05)",
                                     "closed form (Gaussians)"]
    exact = table[table["method"] == "exact OT (POT)"].iloc[0]
    assert exact["cost / exact"] == pytest.approx(1.0) and exact["inversion error"] == "n/a"
    assert float(table.iloc[0]["inversion error"]) < 0.05
    assert [d.proto.label for d in at.get("download_button")] == ["Download the table (CSV)"]
    at.select_slider(key="cmp_eps").set_value(0.01).run()   # only the entropic map is redone
    assert not at.exception and job.status == "finished"
    assert "entropic OT (ε = 0.01)" in list(at.dataframe[0].value["method"])


def test_a_pair_without_gaussians_offers_no_closed_form(at):
    at.session_state["pair"] = make_pair(otcore.sample("moons", 300, seed=0), otcore.sample("8gaussians", 300, seed=1))
    at.switch_page(PAGE).run()
    assert not at.exception
    assert "closed form (Gaussians)" not in at.multiselect(key="cmp_methods").options
    at.toggle(key="cmp_fit_gaussians").set_value(True).run()
    assert "closed form (Gaussians)" in at.multiselect(key="cmp_methods").options


def test_results_of_an_earlier_pair_of_another_dimension_still_draw(at):
    p, q = otcore.random_gaussian(3, seed=1), otcore.random_gaussian(3, seed=2)
    at.session_state["pair"] = make_pair(p.sample(300, seed=0), q.sample(300, seed=1), gaussians=(p, q))
    at.switch_page(PAGE).run()
    at.multiselect(key="cmp_methods").set_value(["exact", "closed-form"]).run()
    at.button(key="cmp_btn_start").click().run()
    assert at.session_state["job:compare"].wait(60)
    at.session_state["pair"] = gaussian_pair()           # now a 2-D pair
    at.run()
    assert not at.exception
    assert any("earlier pair" in w.value for w in at.warning)
    assert any("3-dimensional" in c.value for c in at.caption)   # drawn in the 3-D results' own view
