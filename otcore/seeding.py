"""Seeded initialisation without the global RNG: every trainer owns its generators, so two
sessions training at once in one server never change each other's results."""
from __future__ import annotations

import math

import torch
from torch import nn


def generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A fresh generator on ``device`` seeded with ``seed``."""
    return torch.Generator(device=device).manual_seed(int(seed))


@torch.no_grad()
def init_linear_layers(module: nn.Module, seed: int) -> nn.Module:
    """Re-draw every ``nn.Linear`` of ``module`` with PyTorch's default law (weights
    U(−1/√fan_in, 1/√fan_in) via Kaiming-uniform with a = √5, the same for biases) from a generator
    seeded with ``seed``. Returns the module, for chaining."""
    gen = generator(seed)
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=gen)
            if layer.bias is not None:
                bound = 1.0 / math.sqrt(layer.in_features) if layer.in_features > 0 else 0.0
                nn.init.uniform_(layer.bias, -bound, bound, generator=gen)
    return module
