"""The torch Sinkhorn coupling against POT's exact OT, and the paired-minibatch sources."""
import numpy as np
import ot
import pytest
import torch

from otcore.coupling import draw_partners, sinkhorn_log_plan, squared_distances
from otcore.pairing import pair_source


def _clouds(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64), 2 * torch.rand(n, d, generator=g, dtype=torch.float64) + 1


@pytest.mark.parametrize("d", [2, 16])
def test_plan_has_uniform_marginals_and_the_exact_cost(d):
    x, y = _clouds(150, d, seed=d)
    C = squared_distances(x, y)
    assert torch.allclose(C, torch.cdist(x, y) ** 2, atol=1e-9)
    plan = sinkhorn_log_plan(C, eps=0.003, iters=300).exp()
    n = len(x)
    assert torch.allclose(plan.sum(0), torch.full((n,), 1 / n, dtype=plan.dtype), rtol=1e-6)
    assert torch.allclose(plan.sum(1), torch.full((n,), 1 / n, dtype=plan.dtype), rtol=0.02)
    exact = ot.emd2(np.full(n, 1 / n), np.full(n, 1 / n), C.numpy())
    assert float((plan * C).sum()) == pytest.approx(exact, rel=0.01)


def test_batched_plans_equal_one_at_a_time():
    x, y = _clouds(64, 4, seed=0)
    C = squared_distances(torch.stack([x, y]), torch.stack([y, x]))
    both = sinkhorn_log_plan(C, eps=0.01)
    assert torch.allclose(both[1], sinkhorn_log_plan(C[1], eps=0.01), atol=1e-8)


def test_drawn_partners_follow_the_plan():
    x, y = _clouds(40, 3, seed=1)
    log_plan = sinkhorn_log_plan(squared_distances(x, y), eps=1e-4, iters=400)
    gen = torch.Generator().manual_seed(0)
    idx = draw_partners(log_plan, gen)
    # at tiny ε the plan is a permutation: every row's draw is that row's mass
    assert torch.equal(idx, log_plan.argmax(-1))
    assert len(set(idx.tolist())) == len(x)


@pytest.mark.parametrize("method, tolerance", [("exact", 1e-5), ("sinkhorn", 0.03)])
def test_paired_batches_pay_the_exact_cost_of_each_block(method, tolerance):
    x, y = _clouds(512, 8, seed=2)
    source = pair_source(x.float(), y.float(), batch=256, method=method, seed=0, block=128)
    try:
        x0, x1 = source.next()
    finally:
        source.close()
    assert x0.shape == x1.shape == (256, 8)
    for lo in (0, 128):
        a, b = x0[lo:lo + 128].double(), x1[lo:lo + 128].double()
        paired = float(((a - b) ** 2).sum(1).mean())
        w = np.full(128, 1 / 128)
        exact = ot.emd2(w, w, squared_distances(a, b).numpy())
        assert paired == pytest.approx(exact, rel=tolerance)
        assert float(((a - b[torch.randperm(128, generator=torch.Generator().manual_seed(0))]) ** 2).sum(1).mean()) > 1.05 * exact
