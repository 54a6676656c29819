"""Integrating a velocity field with torchdiffeq: transport, trajectories, kinetic energy."""
from __future__ import annotations

import torch
from torch import nn
from torchdiffeq import odeint, odeint_adjoint

#: solver name -> whether it runs on a fixed step grid
SOLVERS: dict[str, bool] = {"rk4": True, "midpoint": True, "euler": True, "dopri5": False}


def odeint_at(field: nn.Module, x: torch.Tensor, times: torch.Tensor, *, steps: int = 32,
              solver: str = "rk4", rtol: float = 1e-5, atol: float = 1e-5, adjoint: bool = False) -> torch.Tensor:
    """Positions of the particles x: (n, d) at each of ``times``: (m,) -> (m, n, d).

    ``times`` may decrease (backward integration). Fixed-grid solvers take ``steps`` steps over a
    unit of time; 'dopri5' adapts its steps to rtol/atol. ``adjoint`` computes gradients by the
    adjoint ODE (constant memory, usually slower than plain backpropagation on small problems).
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    times = times.to(device=x.device, dtype=x.dtype)
    solve = odeint_adjoint if adjoint else odeint
    if SOLVERS[solver]:
        return solve(field, x, times, method=solver, options={"step_size": 1.0 / steps})
    return solve(field, x, times, method=solver, rtol=rtol, atol=atol)


def grid(blocks: int, steps_per_block: int, *, reverse: bool = False, device=None) -> torch.Tensor:
    """The training grid: every solver node of K blocks, (K·s + 1,) from 0 to 1 (or 1 to 0)."""
    t = torch.linspace(0.0, 1.0, blocks * steps_per_block + 1, device=device)
    return t.flip(0) if reverse else t


def path_kinetic_energy(path: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
    """Discretised kinetic energy per particle: Σ_k ‖x_k − x_{k−1}‖² / h_k.

    path: (m, n, d) positions at ``times``: (m,) -> (n,). Equals ∫‖v‖²dt for constant-speed paths;
    on the W₂² scale (no ½ factor), so a perfect OT flow averages W₂²(P, Q).
    """
    h = (times[1:] - times[:-1]).abs().to(path)
    steps = ((path[1:] - path[:-1]) ** 2).sum(-1)  # (m-1, n)
    return (steps / h[:, None]).sum(0)


def path_length(path: torch.Tensor) -> torch.Tensor:
    """Length of each polygonal path. path: (m, n, d) -> (n,)."""
    return (path[1:] - path[:-1]).norm(dim=-1).sum(0)
