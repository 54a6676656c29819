import math

import pytest
import torch
from torch import nn

from otcore.integrate import SOLVERS, grid, odeint_at, path_kinetic_energy, path_length
from otcore.metrics import straightness


class Linear(nn.Module):
    """v(x, t) = a·x, exact solution x(t) = x0·e^{a t}."""

    def __init__(self, a: float):
        super().__init__()
        self.a = a

    def forward(self, t, x):
        return self.a * x


class Constant(nn.Module):
    def __init__(self, v):
        super().__init__()
        self.v = v

    def forward(self, t, x):
        return self.v.expand_as(x)


@pytest.mark.parametrize("solver,tol", [("rk4", 1e-6), ("dopri5", 1e-4), ("midpoint", 1e-3)])
def test_forward_and_backward_match_the_exact_solution(solver, tol):
    x0 = torch.randn(20, 3, dtype=torch.float64)
    times = torch.linspace(0, 1, 5, dtype=torch.float64)
    path = odeint_at(Linear(0.7), x0, times, steps=32, solver=solver)
    exact = x0[None] * torch.exp(0.7 * times)[:, None, None]
    assert torch.allclose(path, exact, rtol=tol, atol=tol)
    back = odeint_at(Linear(0.7), path[-1], times.flip(0), steps=32, solver=solver)[-1]
    assert torch.allclose(back, x0, atol=10 * tol)


def test_kinetic_energy_of_constant_velocity_is_speed_squared_and_paths_are_straight():
    v = torch.tensor([3.0, -4.0])
    x0 = torch.randn(10, 2)
    times = grid(4, 2)
    path = odeint_at(Constant(v), x0, times, steps=8)
    assert torch.allclose(path_kinetic_energy(path, times), torch.full((10,), 25.0), rtol=1e-5)
    assert torch.allclose(path_length(path), torch.full((10,), 5.0), rtol=1e-5)
    assert straightness(path) == pytest.approx(1.0, abs=1e-5)
    assert torch.equal(grid(2, 2, reverse=True), torch.tensor([1.0, 0.75, 0.5, 0.25, 0.0]))


def test_kinetic_energy_of_a_curved_path_exceeds_its_chord():
    # circle of radius 1 travelled in unit time: speed 2π, energy 4π², chord 0 → use half circle
    t = torch.linspace(0, 1, 201)
    path = torch.stack([torch.cos(math.pi * t), torch.sin(math.pi * t)], -1)[:, None, :]
    assert path_kinetic_energy(path, t).item() == pytest.approx(math.pi ** 2, rel=1e-3)
    assert straightness(path) == pytest.approx(math.pi / 2, rel=1e-3)


def test_unknown_solver_is_refused():
    assert "rk4" in SOLVERS
    with pytest.raises(ValueError, match="unknown solver"):
        odeint_at(Linear(1.0), torch.zeros(1, 1), torch.tensor([0.0, 1.0]), solver="leapfrog")


def test_adjoint_and_plain_backprop_give_the_same_gradient():
    torch.manual_seed(0)
    field = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))

    class F(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = field

        def forward(self, t, x):
            return self.net(x)

    f, x, times = F(), torch.randn(16, 2, dtype=torch.float64), grid(2, 2).double()
    f.double()
    grads = []
    for adjoint in (False, True):
        f.zero_grad()
        path_kinetic_energy(odeint_at(f, x, times, steps=4, adjoint=adjoint), times).mean().backward()
        grads.append(torch.cat([p.grad.flatten() for p in f.parameters()]))
    assert torch.allclose(grads[0], grads[1], rtol=1e-4, atol=1e-7)
