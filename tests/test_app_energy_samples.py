"""Energy-density tab (AppTest): on the digits, after training, the model's samples are drawn beside
real held-out digits and the base's samples, each row with its energy distance to the held-out digits."""
import json

import pytest
import torch
from streamlit.testing.v1 import AppTest

from test_app_density import PAGE, ROOT


@pytest.fixture
def at(monkeypatch):
    monkeypatch.setenv("OTFLOW_TORCH_THREADS", "1")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    app.run()
    return app


def test_digits_samples_are_shown_beside_real_ones_with_their_distance(at):
    at.switch_page(PAGE).run()
    at.radio(key="energy_data").set_value("8×8 digits (scikit-learn, 64-D)").run()
    for key, value in dict(energy_flow_steps=30, energy_steps=30).items():
        at.session_state[key] = value
    at.button(key="energy_btn_start").click().run()
    job = at.session_state["job:energy"]
    assert job.wait(900), "the background job did not finish"     # 64-D: slower than the 2-D tests' jobs
    assert job.status == "finished", job.error
    at.run()
    assert not at.exception
    model, comparison = job.context["samples"]
    q = comparison.quality
    assert comparison.generated.shape == (q.n, 64) and torch.isfinite(comparison.generated).all()
    assert q.n == job.context["result"].n_test and 1 <= comparison.ess <= comparison.proposals
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    labels = next(t for sp in specs if (t := sp["layout"].get("yaxis", {}).get("ticktext")) and len(t) == 3)
    assert labels == [f"real (held out) · {q.real:.3f}", f"Gaussian base · {q.base:.3f}", f"energy model · {q.generated:.3f}"]
    assert any("New digits from the energy model" in m.value for m in at.markdown)
