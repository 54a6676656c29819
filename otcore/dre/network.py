"""The ratio network: an MLP plus a quadratic head, with or without a time input.

r(x, s) = MLP([x, φ(s)]) + Σ_k c_k(s) (u_k·x)²,  φ(s) = (s, sin πjs, cos πjs)_{j=1..J}.

Why the quadratic head: log-density ratios of light-tailed distributions grow quadratically away
from the data (exactly so for Gaussians), while a SiLU MLP grows only linearly. The estimator is
evaluated where its training slices are thin (e.g. at P's samples for the late intervals), so the
growth it extrapolates with matters; the head starts at zero, so the network starts as a plain MLP.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..seeding import generator, init_layers


INPUT_GAIN = 2.0   # std of a first-layer pre-activation from the data part of the input


class RatioNet(nn.Module):
    """``forward(s, x)``: s a scalar or (n,) tensor of times (ignored when ``time_features == 0``),
    x (n, d) -> (n,) logits."""

    def __init__(self, dim: int, hidden: int, depth: int, quadratic: int, time_features: int, seed: int = 0):
        super().__init__()
        self.dim = dim
        freqs = math.pi * torch.arange(1, time_features + 1, dtype=torch.float32)
        self.register_buffer("freqs", freqs, persistent=False)
        n_time = 1 + 2 * time_features if time_features > 0 else 0
        self.n_time = n_time
        layers: list[nn.Module] = []
        for i in range(depth):
            layers += [nn.Linear(dim + n_time if i == 0 else hidden, hidden), nn.SiLU()]
        layers.append(nn.Linear(hidden, 1))
        self.mlp = nn.Sequential(*layers)
        # first layer at the data's scale (inputs are standardised): pre-activations of a few units,
        # so the SiLU units are nonlinear from the start. With PyTorch's default (≈ 0.5 unit) the
        # net starts almost linear + quadratic and cannot see a difference that lies only in
        # higher moments — exactly the case of data against the Gaussian fitted to them.
        self.quadratic = quadratic
        if quadratic > 0:
            self.project = nn.Linear(dim, quadratic, bias=False)
            self.coef = nn.Linear(max(n_time, 1), quadratic)
        gen = generator(seed)   # every weight from this network's own seeded generator
        init_layers(self, gen)
        first = self.mlp[0]
        if first.weight.is_meta:   # built only to check a file's shapes
            return
        with torch.no_grad():
            first.weight[:, :dim].normal_(0.0, INPUT_GAIN / math.sqrt(dim), generator=gen)
            first.bias.uniform_(-INPUT_GAIN, INPUT_GAIN, generator=gen)
        if quadratic > 0:
            nn.init.zeros_(self.coef.weight)
            nn.init.zeros_(self.coef.bias)

    def time_embedding(self, s: torch.Tensor, n: int) -> torch.Tensor:
        """s: scalar or (n,) -> (n, 1 + 2J)."""
        s = torch.as_tensor(s, dtype=self.freqs.dtype, device=self.freqs.device).reshape(-1, 1).expand(n, 1)
        angles = s * self.freqs
        return torch.cat([s, torch.sin(angles), torch.cos(angles)], dim=1)

    def forward(self, s: torch.Tensor | float | None, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        if self.n_time:
            emb = self.time_embedding(s, n)
            out = self.mlp(torch.cat([x, emb], dim=1)).squeeze(-1)
        else:
            emb = x.new_ones(n, 1)
            out = self.mlp(x).squeeze(-1)
        if self.quadratic > 0:
            out = out + (self.coef(emb) * self.project(x) ** 2).sum(1)
        return out
