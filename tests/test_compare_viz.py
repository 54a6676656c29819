"""The Compare page's small multiples: one panel per method, the same particles at the chosen time."""
import numpy as np
import pytest

import otcore
from otcore.compare import CompareConfig, Comparison, make_problem
from otcore.projection import pca_view
from otcore.viz.compare import compare_figure


@pytest.fixture(scope="module")
def results():
    p, q = otcore.random_gaussian(3, seed=1), otcore.random_gaussian(3, seed=2)
    problem = make_problem(p.sample(400, seed=0), q.sample(400, seed=1),
                           CompareConfig(exact_points=100, particles=30, frames=5), gaussians=(p, q))
    comparison = Comparison(problem, ["exact", "entropic", "closed-form"])
    list(comparison.run())
    return problem, list(comparison.results.values())


@pytest.mark.parametrize("frame", [0, 2, 4])
def test_every_panel_shows_the_same_particles_projected_at_the_chosen_time(results, frame):
    problem, res = results
    view = pca_view(problem.P, problem.Q)
    fig = compare_figure(res, frame, view=view, background={"P": problem.P, "Q": problem.Q}, columns=2)
    particles = [t for t in fig.data if t.name.startswith("particles")]
    assert len(particles) == 3 and f"t = {float(problem.times[frame]):.2f}" in fig.layout.title.text
    for trace, r in zip(particles, res):
        assert np.allclose(np.c_[trace.x, trace.y], view.points(r.paths[frame]))
    if frame == 0:   # t = 0: every method starts from the same particles
        assert all(np.allclose(particles[0].x, p.x) for p in particles)
    segments = [t for t in fig.data if t.name == "matched pairs"]
    assert len(segments) == 1 and np.isnan(segments[0].x).sum() == 30   # one segment per drawn pair
    assert [a.text for a in fig.layout.annotations] == [r.label for r in res]


def test_nothing_to_draw_is_an_error():
    with pytest.raises(ValueError):
        compare_figure([], 0)
