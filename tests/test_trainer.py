"""The trainer against truths: Gaussian closed forms, straight lines for a translation, inversion."""
import pytest
import torch

import otcore
from otcore import DeviceError, FlowConfig, Trainer
from otcore.gaussians import l2_uvp, ot_map, random_gaussian, w2_squared
from otcore.metrics import straightness

ACCURATE = FlowConfig(hidden=128, warm_steps=1000, refine_steps=10, validate_every=5, classifier_warmup=100)


@pytest.mark.slow
@pytest.mark.parametrize("dim", [2, 5])
def test_gaussian_pair_learns_the_closed_form_map_and_cost(dim):
    p, q = random_gaussian(dim, seed=1), random_gaussian(dim, seed=2)
    P, Q = p.sample(3000, seed=0), q.sample(3000, seed=1)
    flow = otcore.fit_flow(P, Q, ACCURATE, device="cpu")
    X = p.sample(2000, seed=7)  # fresh points: the map, not the training set
    TX = flow.transport(X)
    assert l2_uvp(TX, ot_map(p, q, X), q) < 3.0
    cost = float(flow.kinetic_energy(X).mean())
    exact_cost = float(((ot_map(p, q, X) - X) ** 2).sum(1).mean())  # W₂² estimated on the same points
    assert exact_cost == pytest.approx(w2_squared(p, q), rel=0.1)
    assert cost == pytest.approx(exact_cost, rel=0.05)
    assert float((flow.transport(TX, reverse=True) - X).norm(dim=1).mean()) < 1e-3 * float(X.norm(dim=1).mean())


@pytest.mark.slow
def test_a_translated_cloud_flows_along_straight_lines():
    shift = torch.tensor([3.0, -1.0])
    P = otcore.sample("moons", 2000, seed=0)
    Q = otcore.sample("moons", 2000, seed=1) + shift
    flow = otcore.fit_flow(P, Q, FlowConfig(hidden=64, warm_steps=500, refine_steps=0), device="cpu")
    paths = flow.trajectory(P[:500], torch.linspace(0, 1, 21))
    assert straightness(paths) < 1.005
    assert float((paths[-1] - (P[:500] + shift)).norm(dim=1).mean()) < 0.1


def test_stop_and_resume_reproduces_an_uninterrupted_run(tiny_config):
    P, Q = otcore.sample("gaussian", 300, seed=0), otcore.sample("8gaussians", 300, seed=1)
    a = Trainer(P, Q, tiny_config, device="cpu")
    first = list(a.run(25))
    assert len(first) == 25 and not a.done
    rest = list(a.run())
    b = Trainer(P, Q, tiny_config, device="cpu")
    whole = list(b.run())
    assert a.done and b.done and len(first) + len(rest) == len(whole)
    assert [m.losses for m in first + rest] == [m.losses for m in whole]
    x = otcore.sample("gaussian", 50, seed=5)
    assert torch.equal(a.flow.transport(x), b.flow.transport(x))
    assert a.progress() == {"warm-start": (40, 40), "refine": (4, 4)}


@pytest.mark.parametrize("method", ["qflow", "reflow"])
def test_metrics_stream_has_both_stages_and_live_readouts(tiny_config, method):
    P, Q = otcore.sample("moons", 300, seed=0), otcore.sample("circles", 300, seed=1)
    trainer = Trainer(P, Q, tiny_config.replace(refine_method=method), device="cpu")
    history = list(trainer.run())
    stages = [m.stage for m in history]
    assert stages.count("warm-start") == 40 and stages.count("refine") == 4
    refine = [m for m in history if m.stage == "refine"]
    assert all(m.transport_cost > 0 and m.fit >= 0 for m in refine)
    if method == "qflow":
        assert all(m.kl_pq is not None for m in refine)
        assert {"kl_pq", "kinetic_pq", "classifier_pq"} <= set(refine[0].losses)
        assert {"kl_qp", "kinetic_qp"} <= set(refine[1].losses)
    else:
        assert all("reflow" in m.losses for m in refine)
    assert all(m.elapsed > 0 and m.steps_per_s > 0 for m in history)
    # kept weights: the warm start's within tolerance of its best fit, the refinement's within its
    # own slack of those
    best_warm = min(v.total_fit for name, _, v in trainer.validations if name == "warm-start")
    c = tiny_config
    assert trainer.best.total_fit <= best_warm * (1 + c.fit_tolerance) * (1 + c.refine_fit_tolerance)


def test_divergence_stops_with_a_message_and_keeps_finite_weights():
    P, Q = otcore.sample("gaussian", 300, seed=0), otcore.sample("8gaussians", 300, seed=1) * 1e18
    config = FlowConfig(hidden=32, depth=2, warm_steps=50, warm_batch=64, warm_lr=10.0, standardize=False, ema=0.0)
    trainer = Trainer(P, Q, config, device="cpu")
    list(trainer.run())
    assert trainer.stage == "diverged"
    assert "diverged" in trainer.stop_reason and "integrate to finite values" in trainer.stop_reason
    assert all(torch.isfinite(p).all() for p in trainer.flow.field.parameters())
    with pytest.raises(otcore.TrainingDiverged) as err:
        otcore.fit_flow(P, Q, config, device="cpu")
    assert err.value.flow is not None


@pytest.mark.parametrize("lr", [1e3, 1e38])
def test_absurd_learning_rates_diverge_with_a_message_and_a_flow_that_integrates(lr, tiny_config):
    P, Q = otcore.sample("moons", 300, seed=0), otcore.sample("8gaussians", 300, seed=1)
    trainer = Trainer(P, Q, tiny_config.replace(warm_lr=lr, warm_steps=200), device="cpu")
    list(trainer.run())
    assert trainer.stage == "diverged", trainer.history[-1].losses
    assert "diverged at warm-start" in trainer.stop_reason
    assert torch.isfinite(trainer.flow.transport(P[:200])).all()


def test_bad_inputs_are_refused_clearly(tiny_config):
    P = otcore.sample("moons", 100, seed=0)
    with pytest.raises(ValueError, match="same dimension"):
        Trainer(P, torch.randn(100, 3), tiny_config)
    bad = P.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        Trainer(bad, P, tiny_config)
    with pytest.raises(ValueError, match="at least 10"):
        Trainer(P[:5], P, tiny_config)
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        Trainer(torch.zeros(10, 2, 2), P, tiny_config)
    with pytest.raises(ValueError, match="unknown solver"):
        FlowConfig(solver="leapfrog")
    with pytest.raises(ValueError, match="≥ 1"):
        FlowConfig(hidden=0)


def test_devices_are_honoured_or_refused():
    assert otcore.resolve_device("cpu").type == "cpu"
    assert otcore.resolve_device("auto").type in {"cpu", "cuda", "mps"}
    assert "cpu" in otcore.available_devices()
    with pytest.raises(DeviceError, match="unknown device"):
        otcore.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no CUDA GPU"):
            otcore.resolve_device("cuda")


def test_refinement_ends_early_without_progress_and_keeps_the_best(tiny_config):
    P, Q = otcore.sample("moons", 300, seed=0), otcore.sample("circles", 300, seed=1)
    config = tiny_config.replace(refine_steps=200, validate_every=1, patience=2, refine_method="qflow")
    trainer = Trainer(P, Q, config, device="cpu")
    history = list(trainer.run())
    refine = [m for m in history if m.stage == "refine"]
    assert trainer.done and trainer.stage == "done" and len(refine) < 200
    assert "ended early" in trainer.note and trainer.stop_reason is None
    # the last two validations did not improve on the kept flow, which the trainer now holds
    with torch.no_grad():
        kept = trainer.validator(trainer.field).validation
    assert kept.total_fit == pytest.approx(trainer.best.total_fit, rel=1e-6)


def test_low_dimensional_data_skips_the_refinement_with_a_note(tiny_config):
    P, Q = otcore.sample("moons", 300, seed=0), otcore.sample("circles", 300, seed=1)
    trainer = Trainer(P, Q, tiny_config.replace(refine_min_dim=3), device="cpu")
    stages = {m.stage for m in trainer.run()}
    assert stages == {"warm-start"} and trainer.stage == "done"
    assert "refinement skipped" in trainer.note and trainer.progress()["refine"] == (0, 0)


def test_reflow_pairs_are_the_teachers_map_on_both_sides():
    from otcore.reflow import teacher_pairs

    class Drift(torch.nn.Module):   # v(x, t) = c: T(x) = x + c exactly
        def forward(self, t, x):
            return torch.ones_like(x) * torch.tensor([1.0, -2.0])

    P, Q = torch.randn(50, 2, generator=torch.Generator().manual_seed(0)), torch.randn(30, 2) + 5
    x0, x1 = teacher_pairs(Drift(), P, Q, steps=4, solver="rk4")
    assert x0.shape == x1.shape == (80, 2)
    assert torch.allclose(x1 - x0, torch.tensor([1.0, -2.0]).expand(80, 2), atol=1e-5)
    assert torch.equal(x0[:50], P) and torch.equal(x1[50:], Q)


@pytest.mark.parametrize("method, stop_at", [("reflow", 25), ("qflow", 25), ("qflow", 42)])
def test_a_run_resumed_from_its_checkpoint_ends_with_the_same_flow(tiny_config, method, stop_at):
    from otcore.files import read_state, state_bytes

    P, Q = otcore.sample("moons", 400, seed=0), otcore.sample("8gaussians", 400, seed=1)
    config = tiny_config.replace(refine_method=method, refine_steps=6)
    whole = Trainer(P, Q, config, device="cpu")
    list(whole.run())
    first = Trainer(P, Q, config, device="cpu")
    list(first.run(stop_at))
    saved = state_bytes(first.checkpoint())
    first.close()
    second = Trainer.resume(P, Q, read_state(saved, ValueError, "a checkpoint"), device="cpu")
    list(second.run())
    assert second.stage == whole.stage == "done"
    x = otcore.sample("gaussian", 64, seed=3)
    assert torch.equal(second.flow.transport(x), whole.flow.transport(x))
    assert second.progress() == whole.progress()
    assert [v.transport_cost for _, _, v in second.validations] == [v.transport_cost for _, _, v in whole.validations]
