"""The peer: OT-CFM (Tong et al. 2024) as TorchCFM ships it, trained for a fixed wall time.

Same network as otcore (``otcore.VelocityField`` with FlowConfig's width and depth), same
standardised units (one isotropic ``otcore.Standardizer`` of P and Q), Adam. Each step draws a
minibatch of P and of Q, and TorchCFM's ``ExactOptimalTransportConditionalFlowMatcher(sigma=0)``
pairs it by an exact OT plan, draws t ~ U(0, 1) and returns x_t and the target velocity u_t.

TorchCFM is a bench-only dependency: ``pip install torchcfm==1.0.7 --no-deps``. It draws t and the
plan's pairs from the global numpy / torch generators, so this module (and only this module) seeds
them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from otcore.field import VelocityField
from otcore.integrate import odeint_at
from otcore.scaling import Standardizer

EVAL_STEPS = 32


@dataclass
class PeerFlow:
    """A trained OT-CFM field with its standardisation; inputs and outputs in the user's units."""
    field: VelocityField
    standardizer: Standardizer
    steps: int          # optimiser steps taken
    seconds: float      # wall time of the training

    @torch.no_grad()
    def trajectory(self, x: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """x: (n, d) at times[0]; times: (m,) -> positions (m, n, d) by rk4 with 32 steps per unit time."""
        device = next(self.field.parameters()).device
        z = self.standardizer.forward(x.to(device, torch.float32))
        path = odeint_at(self.field, z, torch.as_tensor(times, dtype=torch.float32), steps=EVAL_STEPS, solver="rk4")
        return self.standardizer.inverse(path).cpu()

    def transport(self, x: torch.Tensor) -> torch.Tensor:
        """T(x): (n, d) -> (n, d)."""
        return self.trajectory(x, torch.tensor([0.0, 1.0]))[-1]


def _matcher():
    try:
        from torchcfm.conditional_flow_matching import ExactOptimalTransportConditionalFlowMatcher
    except ImportError as err:
        raise ImportError("the OT-CFM peer needs TorchCFM: pip install torchcfm==1.0.7 --no-deps") from err
    return ExactOptimalTransportConditionalFlowMatcher(sigma=0.0)


def train_otcfm(P: torch.Tensor, Q: torch.Tensor, seconds: float, *, seed: int, hidden: int, depth: int,
                batch: int, lr: float = 1e-3, device: str = "cpu") -> PeerFlow:
    """OT-CFM on P: (n, d) → Q: (m, d) for ``seconds`` of wall time (the clock is read every step;
    set-up — standardisation, network — counts, evaluation does not)."""
    matcher = _matcher()
    start = time.perf_counter()
    np.random.seed(seed)        # TorchCFM's plan sampling
    torch.manual_seed(seed)     # TorchCFM's t, and the network's initial weights
    standardizer = Standardizer.fit(P, Q)
    zP, zQ = standardizer.forward(P).to(device), standardizer.forward(Q).to(device)
    field = VelocityField(P.shape[1], hidden, depth).to(device)
    opt = torch.optim.Adam(field.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed + 1)
    steps = 0
    while time.perf_counter() - start < seconds:
        x0 = zP[torch.randint(len(zP), (batch,), generator=gen).to(device)]
        x1 = zQ[torch.randint(len(zQ), (batch,), generator=gen).to(device)]
        t, xt, ut = matcher.sample_location_and_conditional_flow(x0, x1)
        loss = ((field(t, xt) - ut) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1
    return PeerFlow(field.eval(), standardizer, steps, time.perf_counter() - start)
