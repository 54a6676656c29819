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
def init_layers(module: nn.Module, seed: int | torch.Generator) -> nn.Module:
    """Re-draw every linear and convolution layer of ``module`` with PyTorch's default law
    (weights U(−1/√fan_in, 1/√fan_in) via Kaiming-uniform with a = √5, the same bound for biases)
    from a generator (or one seeded with ``seed``). Returns the module, for chaining."""
    gen = seed if isinstance(seed, torch.Generator) else generator(seed)
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.modules.conv._ConvNd)) and not layer.weight.is_meta:
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=gen)
            if layer.bias is not None:
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
                bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                nn.init.uniform_(layer.bias, -bound, bound, generator=gen)
    return module
