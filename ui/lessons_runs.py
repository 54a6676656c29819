"""What each lesson computes, from its decoded link (``ui.lessons_spec.Decoded``): the pair, the
shared problem, the static pictures drawn at once, and the step-wise run its one button starts.

Streamlit-free (tests drive it directly). The flows and maps are ``otcore.compare``'s methods;
the ratio lesson is ``otcore.dre.known_kl``. Everything is seeded by the lesson's ``seed`` and
trains for step counts (never a time budget), so a link gives the same flows on any machine.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

import otcore
from otcore.compare import CompareConfig, Comparison, MatchedPairs, MethodResult, Problem, make_problem, run_method
from otcore.compare.static import map_cost, static_result
from otcore.dre import DensityRatioConfig
from otcore.dre.known_kl import KnownKLRun, shifted_pair

from .lessons_spec import LESSONS, Decoded

POINTS = {"gaussians": 2000, "straight": 2000, "ratio": 3000, "refine": 4000}   # samples a side
#: small and quick flows for the 2-D lessons (a projector, 2 CPU cores); the refine lesson keeps the defaults
FLOW_2D = otcore.FlowConfig(hidden=128, warm_batch=256)
GAUSSIANS_2D = {
    "stretch": ((np.zeros(2), np.eye(2)), (np.array([3.0, 1.0]), np.array([[2.0, 0.6], [0.6, 0.5]]))),
    "shift": ((np.zeros(2), np.eye(2)), (np.array([4.0, 0.0]), np.eye(2))),
    "squeeze": ((np.zeros(2), np.diag([2.0, 0.3])), (np.zeros(2), np.diag([0.3, 2.0]))),
}
SCALES = {"shift-scale": 0.7, "shift": 1.0}      # the ratio lesson: Q's standard deviation
DIMS = {"gauss8": 8, "gauss16": 16}


@dataclass(frozen=True, eq=False)
class LessonPair:
    P: torch.Tensor
    Q: torch.Tensor
    gaussians: tuple[otcore.Gaussian, otcore.Gaussian] | None
    title: str


def lesson_pair(d: Decoded) -> LessonPair:
    """The samples of the lesson's pair (seeded by ``d.settings['seed']``)."""
    seed, n, desc = int(d.settings["seed"]), POINTS[d.lesson], LESSONS[d.lesson].pairs[d.pair]
    if d.lesson == "gaussians":
        (m0, c0), (m1, c1) = GAUSSIANS_2D[d.pair]
        g = (otcore.Gaussian(m0, c0), otcore.Gaussian(m1, c1))
    elif d.lesson == "ratio":
        g = shifted_pair(2, float(d.settings["kl"]), SCALES[d.pair])
    elif d.lesson == "refine":
        dim = DIMS[d.pair]
        g = (otcore.random_gaussian(dim, seed=2 * seed + 1), otcore.random_gaussian(dim, seed=2 * seed + 2, spread=1.5))
    else:
        p_name, q_name = d.pair.split("-")
        return LessonPair(otcore.sample(p_name, n, seed=2 * seed), otcore.sample(q_name, n, seed=2 * seed + 1), None, desc)
    return LessonPair(g[0].sample(n, seed=2 * seed), g[1].sample(n, seed=2 * seed + 1), g, desc)


def lesson_problem(d: Decoded) -> Problem:
    """The points every method of a comparison lesson is measured on and draws."""
    pair = lesson_pair(d)
    seed = int(d.settings["seed"])
    config = CompareConfig(particles=200, exact_points=600, fit_points=1000, flow_seconds=0.0, seed=seed)
    if d.lesson == "refine":
        flow = otcore.FlowConfig(refine_steps=int(d.settings["refine_steps"]))
    else:
        flow = FLOW_2D
    flow = flow.replace(warm_steps=int(d.settings["steps"]), seed=seed)
    return make_problem(pair.P, pair.Q, config, flow, gaussians=pair.gaussians)


def independent_pairs(problem: Problem) -> MethodResult:
    """The independent coupling of the problem's points: X_i with Y_i (both drawn at random), as
    segments: what independent-coupling flow matching regresses on."""
    pairs = MatchedPairs(problem.X, problem.Y, map_cost(problem.X, problem.Y))
    return static_result(problem, "independent-pairs", "independent pairs (x_i, y_i)", problem.Y, 0.0, pairs=pairs)


def run_result(method: str, problem: Problem) -> MethodResult:
    """A static method's result at once ('exact', 'closed-form'): what the lesson draws before training."""
    return run_method(method, problem)


def path_gap(a: MethodResult, b: MethodResult) -> float:
    """Mean distance between the same particles on two methods' paths, over particles and times."""
    return float((a.paths - b.paths).norm(dim=-1).mean())


def run_for(d: Decoded, problem: Problem | None = None):
    """The step-wise run of the lesson's button: a Comparison of the lesson's methods, or the ratio run."""
    if d.lesson == "ratio":
        pair = lesson_pair(d)
        steps = int(d.settings["ratio_steps"])
        return KnownKLRun(*pair.gaussians, points=POINTS["ratio"],
                          config=DensityRatioConfig(steps=steps, validate_every=max(10, steps // 10)),
                          flow_config=FLOW_2D.replace(refine_steps=0, warm_steps=int(d.settings["flow_steps"])),
                          seed=int(d.settings["seed"]))
    return Comparison(problem if problem is not None else lesson_problem(d), LESSONS[d.lesson].methods)
