"""The infinitesimal density ratio (otcore.dre): accuracy on a Gaussian pair, consistency of the
time integrals, step-wise training, save/load and clear errors."""
import numpy as np
import pytest
import torch

import otcore
from otcore.dre import (DensityRatio, DensityRatioConfig, DensityRatioError, DensityRatioTrainer,
                        fit_density_ratio, gaussian_log_ratio)
from otcore.dre.ratio import build_network
from otcore.scaling import Standardizer

P_GAUSS = otcore.Gaussian(np.array([0.0, 0.0]), np.array([[1.0, 0.3], [0.3, 0.5]]))
Q_GAUSS = otcore.Gaussian(np.array([2.0, 1.0]), np.array([[0.6, -0.2], [-0.2, 1.2]]))
QUICK_FLOW = otcore.FlowConfig(hidden=64, depth=2, warm_steps=300, warm_batch=256, refine_steps=0)


def random_ratio(dim=2, seed=0, slices=5):
    torch.manual_seed(seed)
    config = DensityRatioConfig(slices=slices)
    net = build_network(dim, config)
    with torch.no_grad():                         # make the quadratic head and time input matter
        for p in net.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return DensityRatio(net, config, Standardizer(torch.full((dim,), 0.5), 2.0))


def tiny_flow(dim=2):
    return otcore.OTFlow.new(dim, otcore.FlowConfig(hidden=16, depth=1, eval_steps=4))


# --- consistency of the time integrals (true for any network) -----------------------------------
def test_sub_intervals_add_up_to_the_whole_interval():
    ratio = random_ratio()
    x = torch.randn(200, 2)
    whole = ratio.log_ratio(x)
    on_grid = ratio.log_ratio(x, 0.0, 0.4) + ratio.log_ratio(x, 0.4, 1.0)
    assert torch.allclose(on_grid, whole, atol=1e-4 * (1 + whole.abs().max()))
    # off the grid the pieces are finer Simpson panels: equal up to the quadrature error
    off_grid = ratio.log_ratio(x, 0.0, 0.37) + ratio.log_ratio(x, 0.37, 0.81) + ratio.log_ratio(x, 0.81, 1.0)
    assert torch.allclose(off_grid, whole, rtol=1e-2, atol=1e-2 * whole.abs().mean())
    assert torch.allclose(ratio.log_ratio(x, 1.0, 0.0), -whole, atol=1e-5 * (1 + whole.abs().max()))
    assert torch.equal(ratio.log_ratio(x, 0.3, 0.3), torch.zeros(200))


def test_log_ratio_path_matches_log_ratio_and_the_score_is_its_derivative():
    ratio = random_ratio()
    x = torch.randn(100, 2)
    times = torch.tensor([0.0, 0.2, 0.5, 1.0])
    path = ratio.log_ratio_path(x, times)
    assert path.shape == (4, 100)
    assert torch.equal(path[0], torch.zeros(100))
    for k, t in enumerate(times.tolist()):
        assert torch.allclose(path[k], ratio.log_ratio(x, 0.0, t), atol=1e-4 * (1 + path[k].abs().max()))
    h = 1e-2
    slope = (ratio.log_ratio(x, 0.0, 0.5 + h) - ratio.log_ratio(x, 0.0, 0.5 - h)) / (2 * h)
    assert torch.allclose(slope, ratio.time_score(x, 0.5), rtol=2e-2, atol=2e-2 * ratio.time_score(x, 0.5).abs().mean())


# --- files ---------------------------------------------------------------------------------------
def test_save_load_gives_identical_outputs(tmp_path):
    ratio = random_ratio(dim=3)
    x = torch.randn(64, 3)
    path = ratio.save(tmp_path / "r.pt")
    for again in (DensityRatio.load(path), DensityRatio.load(ratio.to_bytes())):
        assert torch.equal(again.log_ratio(x), ratio.log_ratio(x))
        assert torch.equal(again.time_score(x, 0.3), ratio.time_score(x, 0.3))
        assert again.config == ratio.config


def test_bad_files_raise_the_clear_error(tmp_path):
    with pytest.raises(DensityRatioError, match="not a density ratio"):
        DensityRatio.load(b"definitely not a torch file")
    flow_file = tiny_flow().save(tmp_path / "flow.pt")
    with pytest.raises(DensityRatioError, match="not a density ratio"):
        DensityRatio.load(flow_file)
    state = random_ratio().state()
    state["version"] = 99
    torch.save(state, tmp_path / "new.pt")
    with pytest.raises(DensityRatioError, match="newer version"):
        DensityRatio.load(tmp_path / "new.pt")


# --- bad inputs ----------------------------------------------------------------------------------
def test_bad_inputs_raise_the_clear_error():
    ratio, flow = random_ratio(), tiny_flow()
    P, Q = torch.randn(100, 2), torch.randn(100, 2) + 1
    with pytest.raises(DensityRatioError, match=r"shape \(n, 2\)"):
        ratio.log_ratio(torch.randn(5, 3))
    with pytest.raises(DensityRatioError, match=r"\[0, 1\]"):
        ratio.log_ratio(torch.randn(5, 2), 0.0, 1.5)
    with pytest.raises(DensityRatioError, match="OTFlow"):
        DensityRatioTrainer("not a flow", P, Q)
    with pytest.raises(DensityRatioError, match="NaN"):
        DensityRatioTrainer(flow, torch.full((100, 2), float("nan")), Q)
    with pytest.raises(DensityRatioError, match="dimension 3"):
        DensityRatioTrainer(flow, P, torch.randn(100, 3))
    with pytest.raises(DensityRatioError, match="at least 10"):
        DensityRatioTrainer(flow, P[:3], Q)
    with pytest.raises(DensityRatioError, match="DensityRatioConfig"):
        DensityRatioTrainer(flow, P, Q, config={"steps": 3})
    with pytest.raises(DensityRatioError, match="slices"):
        DensityRatioConfig(slices=0)


# --- step-wise training --------------------------------------------------------------------------
def test_trainer_steps_resumes_and_keeps_the_best_validated_weights():
    P, Q = P_GAUSS.sample(400, seed=0), Q_GAUSS.sample(400, seed=1)
    config = DensityRatioConfig(slices=4, steps=12, batch=32, validate_every=5)
    trainer = DensityRatioTrainer(tiny_flow(), P, Q, config)
    first = list(trainer.run(7))
    assert [m.step for m in first] == list(range(1, 8)) and not trainer.done
    assert first[4].validation is not None and first[3].validation is None
    rest = list(trainer.run())
    assert [m.step for m in rest] == list(range(8, 13)) and trainer.done
    assert trainer.progress() == (12, 12)
    assert rest[-1].validation is not None and len(rest[-1].validation.per_interval) == 4
    best = min((v for _, v in trainer.validations), key=lambda v: v.loss)
    assert trainer.best is best and trainer.ratio.meta["val_loss"] == best.loss
    with pytest.raises(RuntimeError):
        trainer.step()


def test_a_sampler_for_p_refreshes_the_pushed_particles():
    gen_samples = lambda n, g: torch.randn(n, 2, generator=g)      # noqa: E731
    config = DensityRatioConfig(slices=3, steps=3, batch=16, validate_every=3)
    trainer = DensityRatioTrainer(tiny_flow(), gen_samples, torch.randn(200, 2) + 2, config)
    before = trainer.train_bridge.pushed.clone()
    list(trainer.run())
    changed = (trainer.train_bridge.pushed != before).any(-1).any(0)
    assert int(changed.sum()) == 3 * 16


# --- accuracy on a Gaussian pair ------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    P, Q = P_GAUSS.sample(3000, seed=0), Q_GAUSS.sample(3000, seed=1)
    flow = otcore.fit_flow(P, Q, QUICK_FLOW, device="cpu")
    ratio = fit_density_ratio(flow, P, Q, DensityRatioConfig(steps=200, batch=128))
    return flow, ratio


@pytest.mark.slow
def test_gaussian_pair_log_ratio_matches_the_closed_form(trained):
    _, ratio = trained
    x = torch.cat([P_GAUSS.sample(1000, seed=5), Q_GAUSS.sample(1000, seed=6)])
    truth, est = gaussian_log_ratio(P_GAUSS, Q_GAUSS, x), ratio.log_ratio(x)
    assert np.corrcoef(est, truth)[0, 1] > 0.95
    assert abs(float((est - truth).mean())) < 0.1 * float(truth.std())
    assert float((est - truth).abs().mean()) < 0.2 * float(truth.std())
    # along the way: log p_t − log p_0 of the flow's bridge tracks the McCann path's (the flow is near OT)
    half = ratio.log_ratio(x, 0.0, 0.5)
    assert np.corrcoef(half, gaussian_log_ratio(P_GAUSS, Q_GAUSS, x, 0.0, 0.5))[0, 1] > 0.9


@pytest.mark.slow
def test_trained_time_score_integrates_consistently(trained):
    _, ratio = trained
    x = torch.cat([P_GAUSS.sample(500, seed=7), Q_GAUSS.sample(500, seed=8)])
    whole = ratio.log_ratio(x)
    pieces = sum(ratio.log_ratio(x, a, b) for a, b in [(0.0, 0.13), (0.13, 0.5), (0.5, 0.77), (0.77, 1.0)])
    assert float((pieces - whole).abs().max()) < 2e-3 * float(whole.abs().max())
