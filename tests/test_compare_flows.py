"""The learned flows of otcore.compare: their configs, what they yield, and OT pairing straightening paths."""
import math

import pytest
import torch

import otcore
from otcore.compare import FLOW_VARIANTS, METHODS, CompareConfig, Comparison, make_problem, run_method, variant_config
from otcore.metrics import straightness

FAST = otcore.FlowConfig(hidden=64, depth=2, warm_steps=300, warm_batch=256, eval_steps=16, refine_steps=300)
STEPS = CompareConfig(flow_seconds=0, particles=50, frames=6, exact_points=300, fit_points=500)


@pytest.fixture(scope="module")
def toy():
    P, Q = otcore.sample("moons", 1200, seed=0), otcore.sample("8gaussians", 1200, seed=1)
    return make_problem(P, Q, STEPS, FAST)


def test_variant_configs_follow_the_brief(toy):
    assert variant_config("pipeline", toy) == FAST
    assert variant_config("warm-start", toy).refine_steps == 0
    indep = variant_config("independent", toy)
    assert indep.pairing == "independent" and indep.refine_steps == 0
    rect = variant_config("rectified", toy)
    assert rect.pairing == "independent" and rect.refine_method == "reflow" and rect.refine_min_dim <= 2
    timed = make_problem(toy.P, toy.Q, CompareConfig(flow_seconds=7), FAST)
    assert all(variant_config(name, timed).budget_s == 7 for name in FLOW_VARIANTS)


@pytest.fixture(scope="module")
def flows(toy):
    comparison = Comparison(toy, ["pipeline", "independent", "rectified"])   # the reflow starts from 'independent'
    list(comparison.run())
    return comparison.results


def test_flow_results_have_the_promised_shapes_and_invert(toy, flows):
    for r in flows.values():
        assert r.paths.shape == (6, 50, 2) and torch.allclose(r.paths[0], toy.drawn, atol=1e-6)
        assert torch.equal(r.times, torch.linspace(0, 1, 6))
        assert r.is_flow and r.inversion_error < 1e-2 * float(toy.X.std())
        assert r.exact_cost == toy.exact_cost and math.isfinite(r.fit) and r.seconds > 0
        assert straightness(r.paths) <= r.straightness + 1e-3   # coarse frames never look less straight


def test_pipeline_is_straighter_and_cheaper_than_independent_flow_matching(flows):
    pipe, indep = flows["pipeline"], flows["independent"]
    assert pipe.straightness < 1.02 < indep.straightness
    assert pipe.cost < indep.cost
    assert "refinement skipped" in pipe.note   # d = 2: the pipeline is its warm start (refine_min_dim)


def test_one_reflow_straightens_the_independent_flow_and_keeps_its_map(toy, flows):
    rect, indep = flows["rectified"], flows["independent"]
    assert "started from the independent flow matching" in rect.note
    assert rect.straightness < indep.straightness - 0.05
    assert rect.cost < 0.8 * indep.cost
    moved = (indep.paths[-1] - indep.paths[0]).norm(dim=1).mean()
    assert (rect.paths[-1] - indep.paths[-1]).norm(dim=1).mean() < 0.25 * moved   # nearly the same end points
    config = variant_config("rectified", toy, from_teacher=True)
    assert config.warm_steps == 0 and config.refine_steps == FAST.refine_steps


def test_a_flow_method_yields_progress_then_one_result(toy):
    quick = make_problem(toy.P, toy.Q, STEPS, FAST.replace(warm_steps=40, refine_steps=20))
    steps = list(METHODS["rectified"].steps(quick))
    stages = [s.stage for s in steps]
    assert "warm-start" in stages and "refine" in stages and stages[-1] == "done"
    fractions = [s.fraction for s in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert steps[-1].result is not None and all(s.result is None for s in steps[:-1])
    assert steps[-1].result.paths.shape == (6, 50, 2)


def test_comparison_runs_every_available_method_and_resumes(toy):
    comparison = Comparison(toy, ["exact", "closed-form", "entropic"])
    assert comparison.methods == ["exact", "entropic"]   # no Gaussians: no closed form
    first = list(comparison.run(1))
    assert len(first) == 1 and comparison.progress < 1
    list(comparison.run())
    assert comparison.done and comparison.progress == 1.0 and list(comparison.results) == ["exact", "entropic"]
    with pytest.raises(ValueError):
        Comparison(toy, ["nope"])


def test_closing_a_comparison_mid_flow_keeps_finished_results(toy):
    comparison = Comparison(toy, ["exact", "independent"])
    for step in comparison.run():
        if step.method == "independent":
            break
    comparison.close()
    assert list(comparison.results) == ["exact"] and not comparison.done
    assert list(comparison.run()) == []


def test_flows_in_three_dimensions_draw_three_dimensional_particles():
    p, q = otcore.random_gaussian(3, seed=1), otcore.random_gaussian(3, seed=2)
    problem = make_problem(p.sample(300, seed=0), q.sample(300, seed=1), STEPS,
                           FAST.replace(warm_steps=20, refine_steps=5, hidden=16, validate_every=5))
    for name in ("pipeline", "rectified"):
        r = run_method(name, problem)
        assert r.paths.shape == (6, 50, 3) and r.is_flow and math.isfinite(r.cost)
    assert "refinement skipped" not in run_method("pipeline", problem).note   # d = 3: the pipeline refines
