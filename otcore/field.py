"""The velocity field v(x, t): a time-conditioned MLP that torchdiffeq calls directly."""
from __future__ import annotations

import math

import torch
from torch import nn


class VelocityField(nn.Module):
    """v(x, t) for x in R^d. ``forward(t, x)``: t a scalar or (n,) tensor, x (n, d) -> (n, d)."""

    def __init__(self, dim: int, hidden: int = 256, depth: int = 3, time_features: int = 16):
        super().__init__()
        self.dim = dim
        freqs = math.pi * torch.arange(1, time_features // 2 + 1, dtype=torch.float32)
        self.register_buffer("freqs", freqs, persistent=False)
        width_in = dim + 1 + 2 * freqs.numel()
        layers: list[nn.Module] = []
        for i in range(depth):
            layers += [nn.Linear(width_in if i == 0 else hidden, hidden), nn.SiLU()]
        layers.append(nn.Linear(hidden, dim))
        self.net = nn.Sequential(*layers)

    def time_embedding(self, t: torch.Tensor, n: int) -> torch.Tensor:
        """t: scalar or (n,) -> (n, 1 + time_features)."""
        t = torch.as_tensor(t, dtype=self.freqs.dtype, device=self.freqs.device).reshape(-1, 1).expand(n, 1)
        angles = t * self.freqs
        return torch.cat([t, torch.sin(angles), torch.cos(angles)], dim=1)

    def forward(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, self.time_embedding(t, x.shape[0])], dim=1))
