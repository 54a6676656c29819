"""otcore.transport_table: the flow's coupling as a table — exact for a pure translation, equal to
flow.transport, invertible, chunk-independent, and written as CSV / .npz that read back exactly."""
import io

import numpy as np
import pytest
import torch

import otcore
from otcore.scaling import Standardizer
from otcore.transport_table import CHUNK_FLOATS, WRITERS, chunk_rows, table_csv, table_npz, transport_table


def random_flow(dim=2, seed=0, steps=8, solver="rk4"):
    return otcore.OTFlow.new(dim, otcore.FlowConfig(hidden=16, depth=2, eval_steps=steps, solver=solver, seed=seed))


def translation_flow(shift, scale=2.0):
    """v(x, t) = shift in user units: the last layer's weights zero, its bias shift / scale."""
    shift = torch.as_tensor(shift, dtype=torch.float32)
    flow = otcore.OTFlow.new(len(shift), otcore.FlowConfig(hidden=8, depth=1, eval_steps=5),
                             Standardizer(torch.ones(len(shift)), scale))
    last = flow.field.net[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(shift / scale)
    return flow


def points(n=50, dim=2, seed=1):
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("reverse", [False, True])
def test_a_translation_moves_every_point_by_the_shift_at_cost_its_square(reverse):
    shift = torch.tensor([3.0, -4.0])                      # |shift| = 5
    x = points()
    table = transport_table(translation_flow(shift), x, reverse=reverse)
    expected = x - shift if reverse else x + shift
    assert torch.allclose(table.images, expected, atol=1e-5)
    assert torch.allclose(table.cost, torch.full((len(x),), 25.0), rtol=1e-5)
    assert torch.allclose(table.length, torch.full((len(x),), 5.0), rtol=1e-5)
    assert torch.equal(table.points, x) and table.reverse is reverse


@pytest.mark.parametrize("solver", ["rk4", "euler", "dopri5"])
def test_images_are_the_flows_transport_and_reverse_inverts_them(solver):
    flow, x = random_flow(solver=solver), points()
    forward = transport_table(flow, x)
    assert torch.allclose(forward.images, flow.transport(x), atol=1e-5)
    back = transport_table(flow, forward.images, reverse=True)
    assert torch.allclose(back.images, flow.transport(forward.images, reverse=True), atol=1e-5)
    tol = 1e-2 if solver == "euler" else 1e-3
    assert (back.images - x).norm(dim=1).max() < tol
    for t in (forward, back):
        assert torch.isfinite(t.cost).all() and torch.isfinite(t.length).all()
        assert (t.cost >= 0).all() and (t.length >= 0).all()
        # Cauchy–Schwarz on the grid (Σ h_k = 1): (Σ ‖Δx_k‖)² ≤ Σ ‖Δx_k‖² / h_k
        assert (t.length ** 2 <= t.cost * (1 + 1e-5) + 1e-7).all()
    if solver != "dopri5":                                 # the flow's own cost uses the same grid and solver
        assert torch.allclose(forward.cost, flow.kinetic_energy(x), rtol=1e-4)


def test_chunks_do_not_change_the_table():
    flow, x = random_flow(dim=3), points(37, 3)
    whole, chunked = transport_table(flow, x), transport_table(flow, x, chunk=5)
    for a, b in ((whole.images, chunked.images), (whole.cost, chunked.cost), (whole.length, chunked.length)):
        assert a.shape == b.shape and torch.allclose(a, b, atol=1e-6)
    assert chunk_rows(64, 32) * 33 * 64 <= CHUNK_FLOATS and chunk_rows(10**7, 32) == 1
    with pytest.raises(ValueError, match="at least 1 row"):
        transport_table(flow, x, chunk=0)


def test_points_of_another_dimension_are_refused_with_both_dimensions():
    with pytest.raises(ValueError, match="3-dimensional .*flow is 2-dimensional"):
        transport_table(random_flow(), points(10, 3))


@pytest.mark.parametrize("reverse", [False, True])
def test_csv_and_npz_hold_the_table_exactly(reverse):
    table = transport_table(random_flow(), points(20), reverse=reverse)
    text = table_csv(table)
    a, b = ("y", "Tinvy") if reverse else ("x", "Tx")
    assert text.splitlines()[0] == f"{a}_1,{a}_2,{b}_1,{b}_2,cost,length" and len(text.splitlines()) == 21
    values = torch.from_numpy(np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, dtype=np.float32))
    assert torch.equal(values[:, :2], table.points) and torch.equal(values[:, 2:4], table.images)
    assert torch.equal(values[:, 4], table.cost) and torch.equal(values[:, 5], table.length)
    with np.load(io.BytesIO(table_npz(table)), allow_pickle=False) as f:
        assert np.array_equal(f[a], table.points.numpy()) and np.array_equal(f[b], table.images.numpy())
        assert np.array_equal(f["cost"], table.cost.numpy()) and bool(f["reverse"]) is reverse
    assert WRITERS["csv"](table) == text.encode()
