"""Saved files are untrusted input: checked before anything is allocated, every malformed field
refused with the file error; and every write is atomic."""
import time

import pytest
import torch

import otcore
from otcore import FlowFileError, OTFlow
from otcore.files import read_state, state_bytes, write_atomic


def _flow_state():
    return OTFlow.new(3, otcore.FlowConfig(hidden=16, depth=2)).state()


def _reread(state):
    return OTFlow.load(state_bytes(state))


def test_a_good_file_round_trips():
    state = _flow_state()
    flow = _reread(state)
    assert torch.equal(flow.field.state_dict()["net.0.weight"], state["weights"]["net.0.weight"])


@pytest.mark.parametrize("hidden, depth", [(6000, 12), (20000, 3)])
def test_a_small_file_describing_a_huge_network_is_refused_before_allocating(hidden, depth):
    state = _flow_state()
    state["config"] = {**state["config"], "hidden": hidden, "depth": depth}
    data = state_bytes(state)
    assert len(data) < 20_000
    start = time.perf_counter()
    with pytest.raises(FlowFileError, match="parameters"):
        OTFlow.load(data)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("field, value, message", [
    ("mean", torch.zeros(5), "'mean' must be 3"),
    ("mean", torch.tensor([0.0, float("nan"), 0.0]), "'mean' must be 3"),
    ("scale", -1.0, "'scale'"),
    ("scale", "big", "'scale'"),
    ("dim", "3", "'dim'"),
    ("dim", 0, "'dim'"),
    ("config", ["hidden", 16], "damaged"),
    ("weights", [1, 2], "weights"),
    ("version", "2beta", "whole number"),
    ("meta", ["a", "list"], "'meta'"),
])
def test_every_malformed_field_raises_the_file_error(field, value, message):
    state = _flow_state()
    state[field] = value
    with pytest.raises(FlowFileError, match=message):
        _reread(state)


def test_weights_of_the_wrong_shape_or_not_finite_are_refused():
    state = _flow_state()
    state["weights"]["net.0.weight"] = torch.zeros(4, 4)
    with pytest.raises(FlowFileError, match="wrong shape"):
        _reread(state)
    state = _flow_state()
    state["weights"]["net.2.bias"][0] = float("nan")
    with pytest.raises(FlowFileError, match="NaN"):
        _reread(state)
    state = _flow_state()
    state["weights"]["extra"] = torch.zeros(1)
    with pytest.raises(FlowFileError, match="unexpected"):
        _reread(state)


def test_a_density_ratio_file_is_checked_the_same_way():
    P, Q = torch.randn(200, 2), torch.randn(200, 2) + 1
    flow = OTFlow.new(2, otcore.FlowConfig(hidden=8, depth=1, eval_steps=2))
    ratio = otcore.fit_density_ratio(flow, P, Q, otcore.DensityRatioConfig(steps=2, batch=16, slices=2))
    state = ratio.state()
    state["weights"] = {k: torch.full_like(v, float("inf")) for k, v in state["weights"].items()}
    with pytest.raises(otcore.DensityRatioError, match="NaN or infinite"):
        otcore.DensityRatio.load(state_bytes(state))


def test_an_interrupted_write_leaves_the_previous_file_whole(tmp_path):
    path = tmp_path / "flow.pt"
    good = OTFlow.new(3, otcore.FlowConfig(hidden=16, depth=2))
    good.save(path)
    before = path.read_bytes()

    def crash(handle):
        handle.write(b"half a file")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, crash)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["flow.pt"]   # no temporary left behind
    assert read_state(path, FlowFileError, "a flow")["format"] == "otflow"


def test_two_writers_in_the_same_second_get_different_names(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from otcore.files import reserve_path

    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda _: reserve_path(tmp_path, "run", ".pt"), range(32)))
    assert len(set(paths)) == 32 and all(p.exists() and p.suffix == ".pt" for p in paths)
