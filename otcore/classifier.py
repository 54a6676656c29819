"""The density-ratio classifier of the KL terms (docs/method.md §2): r(x) ≈ log q(x) − log p(x)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def classifier_width(dim: int, hidden: int = 0) -> int:
    """Width sized to the data unless given: min(256, max(64, 4d))."""
    return hidden if hidden > 0 else min(256, max(64, 4 * dim))


class RatioClassifier(nn.Module):
    """MLP with a logit output, no time input. forward(x: (n, d)) -> (n,)."""

    def __init__(self, dim: int, hidden: int = 0, depth: int = 2):
        super().__init__()
        width = classifier_width(dim, hidden)
        layers: list[nn.Module] = []
        for i in range(depth):
            layers += [nn.Linear(dim if i == 0 else width, width), nn.SiLU()]
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def logistic_loss(classifier: nn.Module, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """E_a[softplus(r(a))] + E_b[softplus(−r(b))]; its minimiser is r = log p_b − log p_a.
    2·log 2 ≈ 1.386 means the two samples cannot be told apart. a: (n, d), b: (m, d) -> scalar."""
    return F.softplus(classifier(a)).mean() + F.softplus(-classifier(b)).mean()


def kl_estimate(classifier: nn.Module, a: torch.Tensor) -> torch.Tensor:
    """KL(p_a ‖ p_b) ≈ −E_a[r(a)] for a classifier trained by :func:`logistic_loss`. a: (n, d)."""
    return -classifier(a).mean()
