"""The time budget, the thread rule and seeded isolation between trainers running at once."""
import threading
import time

import pytest
import torch

import otcore
from otcore import FlowConfig, Trainer
from otcore.budget import StageClock, StagePlan, split_budget
from otcore.gaussians import l2_uvp, ot_map, random_gaussian
from otcore.threads import rule


def test_budget_split_rule():
    assert split_budget(0, True, True, 0.3) == (0.0, 0.0)
    assert split_budget(100, True, True, 0.3) == pytest.approx((70.0, 30.0))
    assert split_budget(100, True, False, 0.3) == (100.0, 0.0)
    assert split_budget(100, False, True, 0.3) == (0.0, 100.0)
    clock = StageClock(StagePlan(steps=10))
    clock.steps = 5
    assert clock.fraction == 0.5 and not clock.over and clock.planned_steps == 10


def test_thread_rule():
    assert rule(cores=2, trainers=1, pairing_threads=1) == 1
    assert rule(cores=16, trainers=1, pairing_threads=1) == 15
    assert rule(cores=16, trainers=3, pairing_threads=3) == 4
    assert rule(cores=2, trainers=4, pairing_threads=4) == 1


@pytest.mark.parametrize("dim, budget", [(2, 4.0), (8, 6.0)])
def test_the_whole_training_keeps_its_budget(dim, budget, tiny_config):
    p, q = random_gaussian(dim, seed=1), random_gaussian(dim, seed=2)
    P, Q = p.sample(1000, seed=0), q.sample(1000, seed=1)
    config = tiny_config.replace(budget_s=budget, refine_min_dim=3, validate_every=5)
    start = time.perf_counter()
    trainer = Trainer(P, Q, config, device="cpu")
    history = list(trainer.run())
    wall = time.perf_counter() - start
    assert trainer.stage == "done"
    assert wall == pytest.approx(budget, rel=0.1)
    stages = {m.stage for m in history}
    assert stages == ({"warm-start", "refine"} if dim >= 3 else {"warm-start"})
    refine_time = sum(1 for m in history if m.stage == "refine")
    assert (refine_time > 0) == (dim >= 3)
    # a timed stage reports its step count once it ends
    warm = [m for m in history if m.stage == "warm-start"]
    assert warm[-1].stage_steps == len(warm)


def _train(P, Q, config, out, key):
    trainer = Trainer(P, Q, config, device="cpu")
    list(trainer.run())
    out[key] = trainer.flow.transport(P[:100])


def test_two_seeded_trainers_at_once_match_each_run_alone(tiny_config):
    P, Q = otcore.sample("moons", 400, seed=0), otcore.sample("8gaussians", 400, seed=1)
    configs = {"a": tiny_config.replace(seed=3), "b": tiny_config.replace(seed=4, pairing="sinkhorn")}
    alone = {}
    for key, config in configs.items():
        _train(P, Q, config, alone, key)
    together = {}
    workers = [threading.Thread(target=_train, args=(P, Q, config, together, key)) for key, config in configs.items()]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert torch.equal(together["a"], alone["a"]) and torch.equal(together["b"], alone["b"])
    assert not torch.equal(alone["a"], alone["b"])


def test_a_16_dimensional_gaussian_pair_is_learned_within_a_few_percent():
    p, q = random_gaussian(16, seed=3), random_gaussian(16, seed=4)
    P, Q = p.sample(4000, seed=0), q.sample(4000, seed=1)
    flow = otcore.fit_flow(P, Q, FlowConfig(hidden=128), device="cpu", seconds=25)
    X = p.sample(2000, seed=9)
    assert l2_uvp(flow.transport(X), ot_map(p, q, X), q) < 3.0
