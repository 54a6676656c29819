"""Sharp and diverse, not prototypes: how much of the data's spread a set of generated images keeps.

A translator whose outputs all look alike (near-prototypes of the target domain, or blurred
averages) can still be judged the right class every time. The diversity ratio catches it:

    diversity = mean_{i<j} ‖x_i − x_j‖ / mean_{i<j} ‖y_i − y_j‖

with x the generated images and y real images of the same domain (1: as spread out as the data,
0: one image repeated). Distances are Euclidean over all pixels and channels.
"""
from __future__ import annotations

import torch


def mean_pairwise_distance(images: torch.Tensor) -> float:
    """Mean Euclidean distance over all pairs of images. images: (n, C, S, S), n ≥ 2."""
    x = torch.as_tensor(images, dtype=torch.float32).flatten(1)
    if len(x) < 2:
        raise ValueError("the spread of fewer than two images is undefined")
    return float(torch.pdist(x).mean())


def diversity(images: torch.Tensor, reference: torch.Tensor) -> float:
    """Spread of ``images`` over the spread of real ``reference`` images (see the module doc)."""
    return mean_pairwise_distance(images) / mean_pairwise_distance(reference)


@torch.no_grad()
def reconstruction_error(model: torch.nn.Module, images: torch.Tensor) -> float:
    """Mean squared error per pixel of an autoencoder's reconstructions (its ``forward``) of images
    it did not train on. images: (n, C, S, S) in [0, 1]."""
    x = torch.as_tensor(images, dtype=torch.float32)
    return float(((model(x) - x) ** 2).mean())
