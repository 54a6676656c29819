import json
import subprocess
import sys

import pytest
import torch

import otcore
from otcore import FlowFileError, OTFlow
from otcore.flow import FORMAT_VERSION


@pytest.fixture(scope="module")
def trained():
    config = otcore.FlowConfig(hidden=32, depth=2, warm_steps=60, warm_batch=128, refine_steps=4, refine_batch=128,
                               classifier_warmup=10, validate_every=2, eval_steps=8)
    P, Q = otcore.sample("moons", 400, seed=0), otcore.sample("8gaussians", 400, seed=1)
    return otcore.fit_flow(P, Q, config, device="cpu"), P, Q


def test_save_load_gives_identical_transports(trained, tmp_path):
    flow, P, _ = trained
    flow.meta["note"] = "hello"
    loaded = OTFlow.load(flow.save(tmp_path / "f.pt"))
    assert torch.equal(loaded.transport(P), flow.transport(P))
    assert torch.equal(loaded.transport(P, reverse=True), flow.transport(P, reverse=True))
    assert loaded.config == flow.config and loaded.meta["note"] == "hello"
    assert torch.equal(OTFlow.load(flow.to_bytes()).transport(P), flow.transport(P))


def test_files_that_are_not_flows_get_a_clear_error(trained, tmp_path):
    flow, _, _ = trained
    with pytest.raises(FlowFileError, match="not a flow"):
        OTFlow.load(b"garbage bytes")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(FlowFileError, match="not a flow"):
        OTFlow.load(tmp_path / "other.pt")
    state = flow.state()
    state["version"] = FORMAT_VERSION + 1
    torch.save(state, tmp_path / "newer.pt")
    with pytest.raises(FlowFileError, match="newer version"):
        OTFlow.load(tmp_path / "newer.pt")
    state = flow.state()
    del state["weights"]["net.0.weight"]
    torch.save(state, tmp_path / "broken.pt")
    with pytest.raises(FlowFileError, match="damaged"):
        OTFlow.load(tmp_path / "broken.pt")


def test_a_pickle_payload_is_never_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (exec, ("open(%r, 'w').write('pwned')" % str(tmp_path / "pwned"),))

    torch.save({"format": "otflow", "x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(FlowFileError):
        OTFlow.load(tmp_path / "evil.pt")
    assert not (tmp_path / "pwned").exists()


def test_velocity_is_the_time_derivative_of_trajectories_in_user_units(trained):
    flow, P, _ = trained
    x = P[:50]
    h = 1e-3  # central differences: error O(h²·x‴); the time features oscillate up to 8π
    path = flow.trajectory(x, torch.tensor([0.5 - h, 0.5, 0.5 + h]), solver="dopri5")
    fd = (path[2] - path[0]) / (2 * h)
    assert torch.allclose(flow.velocity(path[1], 0.5), fd, atol=1e-3 * float(fd.abs().max()))


def test_trajectory_shapes_reverse_and_flow_to(trained):
    flow, P, _ = trained
    paths = flow.trajectory(P[:10], times=torch.linspace(0, 1, 41))
    assert paths.shape == (41, 10, 2)
    assert torch.allclose(paths[0], P[:10])
    assert torch.allclose(flow.flow_to(P[:10], 0.0, 1.0), paths[-1], atol=1e-5)
    back = flow.trajectory(paths[-1], reverse=True)
    assert torch.allclose(back[-1], P[:10], atol=1e-3)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        flow.transport(torch.zeros(5, 3))


def test_importing_otcore_does_not_import_streamlit():
    code = "import sys, otcore; print(json.dumps(sorted(m for m in sys.modules if m.startswith('streamlit'))))"
    out = subprocess.run([sys.executable, "-c", "import json;" + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_public_api_names_exist():
    for name in otcore.__all__:
        assert hasattr(otcore, name), name
