"""Linear 2-D views of d-dimensional clouds, for drawing: identity (d = 2), PCA, or two chosen
coordinates. A view is an affine map y = (x − centre) B with B: (d, 2); velocities map by B alone,
so arrows drawn in the view are the projections of the true velocities.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import torch

Array = np.ndarray | torch.Tensor


class ProjectionError(ValueError):
    """A 2-D view cannot be built as asked (bad coordinate index, too few points)."""


def _np(x: Array) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


@dataclass(frozen=True)
class View:
    """A linear 2-D view. centre: (d,), basis: (d, 2) with orthonormal columns."""
    kind: str                     # 'identity' | 'line' (1-D) | 'pca' | 'coordinates'
    centre: np.ndarray
    basis: np.ndarray
    labels: tuple[str, str]       # axis titles
    explained: tuple[float, float] | None = None   # PCA: share of the variance on each axis

    @property
    def dim(self) -> int:
        return self.basis.shape[0]

    @property
    def is_identity(self) -> bool:
        return self.kind == "identity"

    def points(self, x: Array) -> np.ndarray:
        """x: (..., d) -> (..., 2) coordinates in the view."""
        x = _np(x)
        if x.shape[-1] != self.dim:
            raise ProjectionError(f"the view is for {self.dim}-D points, got {x.shape[-1]}-D")
        return (x - self.centre) @ self.basis

    def vectors(self, v: Array) -> np.ndarray:
        """Velocities or displacements v: (..., d) -> (..., 2) (no centring)."""
        v = _np(v)
        if v.shape[-1] != self.dim:
            raise ProjectionError(f"the view is for {self.dim}-D vectors, got {v.shape[-1]}-D")
        return v @ self.basis

    def lift(self, y: Array) -> np.ndarray:
        """Points of the view's plane back in R^d: y: (..., 2) -> (..., d) (centre + y Bᵀ)."""
        return self.centre + _np(y) @ self.basis.T

    def note(self) -> str:
        """One sentence saying what the picture shows (empty for plain 2-D data)."""
        if self.kind == "identity":
            return ""
        if self.kind == "line":
            return "The data are 1-dimensional: points are drawn on the horizontal axis."
        if self.kind == "pca":
            share = "" if self.explained is None else \
                f" ({100 * self.explained[0]:.0f}% and {100 * self.explained[1]:.0f}% of the variance)"
            return (f"The data are {self.dim}-dimensional: shown is their projection on the two principal "
                    f"axes of P and Q together{share}.")
        return f"The data are {self.dim}-dimensional: shown are coordinates {self.labels[0]} and {self.labels[1]}."


def identity_view(dim: int = 2) -> View:
    if dim != 2:
        raise ProjectionError(f"the identity view needs 2-D data, got {dim}-D")
    return View("identity", np.zeros(2), np.eye(2), ("x₁", "x₂"))


def coordinate_view(dim: int, i: int = 0, j: int = 1) -> View:
    """Coordinates i and j (0-based) of d-dimensional points."""
    if not (0 <= i < dim and 0 <= j < dim) or i == j:
        raise ProjectionError(f"choose two different coordinates between 1 and {dim}, got {i + 1} and {j + 1}")
    basis = np.zeros((dim, 2))
    basis[i, 0] = basis[j, 1] = 1.0
    return View("coordinates", np.zeros(dim), basis, (f"x{_sub(i + 1)}", f"x{_sub(j + 1)}"))


def pca_view(*clouds: Array) -> View:
    """Principal axes of all clouds pooled (each (n_k, d), d ≥ 2). Signs are fixed so each axis has
    a positive largest-magnitude loading, making the view deterministic."""
    x = np.concatenate([_np(c) for c in clouds], axis=0)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ProjectionError("PCA needs points of at least 2 dimensions")
    if len(x) < 3:
        raise ProjectionError("PCA needs at least 3 points")
    centre = x.mean(0)
    _, s, vt = np.linalg.svd(x - centre, full_matrices=False)
    basis = vt[:2].T.copy()
    for k in range(2):
        if basis[np.argmax(np.abs(basis[:, k])), k] < 0:
            basis[:, k] *= -1
    var = s ** 2
    explained = (float(var[0] / var.sum()), float(var[1] / var.sum())) if var.sum() > 0 else None
    return View("pca", centre, basis, ("PC 1", "PC 2"), explained)


def _sub(k: int) -> str:
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(k))


#: kind -> builder(clouds, i, j); the app offers these for d > 2
VIEWS: dict[str, Callable[..., View]] = {
    "pca": lambda clouds, i=0, j=1: pca_view(*clouds),
    "coordinates": lambda clouds, i=0, j=1: coordinate_view(_np(clouds[0]).shape[1], i, j),
}


def make_view(clouds: list[Array], kind: str = "pca", i: int = 0, j: int = 1) -> View:
    """The identity for 2-D clouds, else the view ``kind`` ('pca' | 'coordinates')."""
    dim = _np(clouds[0]).shape[1]
    if dim == 2:
        return identity_view()
    if dim == 1:
        return View("line", np.zeros(1), np.array([[1.0, 0.0]]), ("x₁", ""))
    if kind not in VIEWS:
        raise ProjectionError(f"unknown view {kind!r}; choose one of {', '.join(VIEWS)}")
    return VIEWS[kind](clouds, i, j)


def slice_through(view: View, point: Array) -> View:
    """The same view, its plane moved to pass through ``point`` (d,): points keep their coordinates
    in the view, while :meth:`View.lift` now gives the 2-D slice of R^d through ``point`` (the
    other coordinates held at ``point``'s). With c' = p + (c − p)BBᵀ: c'B = cB and p lies in the plane."""
    p = _np(point).reshape(-1)
    if p.shape[0] != view.dim:
        raise ProjectionError(f"the view is for {view.dim}-D points, got a {p.shape[0]}-D point")
    centre = p + (view.centre - p) @ view.basis @ view.basis.T
    return replace(view, centre=centre)
