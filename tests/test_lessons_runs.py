"""What the lessons compute (ui.lessons_runs, otcore.dre.known_kl), on tiny step counts: the pairs the
links name, the static pictures against exact truths, and each lesson's run to its end."""
import math

import numpy as np
import pytest
import torch

import otcore
from otcore.dre import gaussian_log_ratio
from otcore.dre.known_kl import kl_divergence, shifted_pair
from ui import lessons_runs
from ui.lessons_spec import LESSONS, decode


def lesson(**params):
    d = decode({k: str(v) for k, v in params.items()})
    assert d.messages == ()
    return d


@pytest.mark.parametrize("name", list(LESSONS))
def test_every_pair_of_every_lesson_is_drawn_reproducibly_from_its_seed(name):
    for pair in LESSONS[name].pairs:
        a = lessons_runs.lesson_pair(lesson(lesson=name, pair=pair, seed=3))
        b = lessons_runs.lesson_pair(lesson(lesson=name, pair=pair, seed=3))
        c = lessons_runs.lesson_pair(lesson(lesson=name, pair=pair, seed=4))
        assert torch.equal(a.P, b.P) and torch.equal(a.Q, b.Q)
        assert not torch.equal(a.P, c.P)
        assert a.P.shape == a.Q.shape and a.P.shape[0] == lessons_runs.POINTS[name]


@pytest.mark.parametrize("dim, kl, scale", [(2, 20.0, 0.7), (2, 1.0, 1.0), (5, 12.5, 1.3)])
def test_shifted_pair_has_the_asked_kl_by_closed_form_and_by_monte_carlo(dim, kl, scale):
    p, q = shifted_pair(dim, kl, scale)
    assert kl_divergence(q, p) == pytest.approx(kl, rel=1e-9)
    x = q.sample(40000, seed=0)
    assert float(gaussian_log_ratio(p, q, x).double().mean()) == pytest.approx(kl, rel=0.03)


def test_shifted_pair_refuses_a_kl_below_what_the_scale_alone_gives():
    with pytest.raises(ValueError):
        shifted_pair(2, 0.01, 0.3)
    with pytest.raises(ValueError):
        shifted_pair(2, math.nan)


def test_gaussian_lesson_preview_is_the_exact_map_and_the_run_trains_the_flow():
    d = lesson(lesson="gaussians", pair="stretch", steps=30)
    problem = lessons_runs.lesson_problem(d)
    exact = lessons_runs.run_result("closed-form", problem)
    w2 = otcore.w2_squared(*problem.gaussians)
    assert exact.cost == pytest.approx(w2, rel=0.1)            # 600 samples of the exact map's cost
    assert exact.cost >= problem.exact_cost * 0.9              # no map beats the discrete optimum by much
    assert lessons_runs.path_gap(exact, exact) == 0.0
    run = lessons_runs.run_for(d, problem)
    for _ in run.run():
        pass
    assert set(run.results) == {"pipeline", "closed-form"}
    flow = run.results["pipeline"]
    assert flow.paths.shape == exact.paths.shape and lessons_runs.path_gap(flow, exact) > 0


def test_independent_pairs_cost_more_than_the_exact_plan_of_the_same_points():
    problem = lessons_runs.lesson_problem(lesson(lesson="straight", pair="moons-8gaussians", steps=10))
    independent = lessons_runs.independent_pairs(problem)
    exact = lessons_runs.run_result("exact", problem)
    assert independent.pairs.cost > 1.5 * exact.pairs.cost
    assert exact.pairs.cost == pytest.approx(problem.exact_cost, rel=1e-6)
    assert torch.equal(independent.pairs.source, problem.X)


def test_ratio_lesson_runs_all_three_stages_and_measures_on_both_sides():
    run = lessons_runs.run_for(lesson(lesson="ratio", pair="shift", kl=10, flow_steps=10, ratio_steps=20))
    stages = [step.stage for step in run.run()]
    assert stages[0] == "flow" and stages[-1] == "one-step" and stages.count("ratio") == 20
    r = run.result()
    assert r.kl_true == pytest.approx(10.0)
    assert r.truth.shape == r.bridge.shape == r.one_step.shape == (1000,)
    assert r.from_q.sum() == 500
    assert float(r.truth[r.from_q].mean()) == pytest.approx(10.0, rel=0.1)   # fresh points of Q: the true KL


def test_refine_lesson_trains_warm_start_and_pipeline_in_eight_dimensions():
    d = lesson(lesson="refine", pair="gauss8", steps=20, refine_steps=3)
    run = lessons_runs.run_for(d)
    for _ in run.run():
        pass
    assert list(run.results) == ["warm-start", "pipeline", "closed-form"]
    assert run.problem.dim == 8
    assert run.results["pipeline"].flow.config.refine_steps == 3
    assert run.results["warm-start"].flow.config.refine_steps == 0
