"""What every compared method gives back: the same particles at the same times, and its readouts."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..flow import OTFlow

NAN = float("nan")


@dataclass(frozen=True, eq=False)   # holds tensors: compared by identity
class MatchedPairs:
    """Exact discrete OT drawn as pairs: ``source[i]`` is sent to ``target[i]``. (k, d) each."""

    source: torch.Tensor
    target: torch.Tensor
    cost: float            # the plan's cost ⟨π, C⟩ = mean ‖source − target‖² (POT emd2)


@dataclass(eq=False)
class MethodResult:
    """One method on one problem. Every method draws the same particles, the problem's first
    ``n`` evaluation points, at the problem's shared ``times``; readouts are measured on all the
    problem's evaluation points."""

    method: str                  # registry name (otcore.compare.METHODS)
    label: str                   # what the app writes above the panel
    times: torch.Tensor          # (m,) shared time grid, 0 … 1
    paths: torch.Tensor          # (m, n, d) positions of the drawn particles at ``times``
    cost: float                  # mean transport cost of the evaluation points (W₂² scale)
    exact_cost: float            # exact discrete OT cost of the same points (POT emd2)
    fit: float                   # energy distance between the mapped points and held-out Q
    straightness: float          # mean path length / chord (1 = straight)
    inversion_error: float       # flows: mean ‖T⁻¹(T(x)) − x‖; static maps: NaN (no inverse drawn)
    seconds: float               # wall time of the method, training and measuring included
    kind: str = "map"            # 'flow' (learned, invertible ODE) or 'map' (static, straight lines)
    pairs: MatchedPairs | None = None   # exact OT only
    flow: OTFlow | None = None   # learned flows: the trained flow (on the CPU)
    note: str = ""

    @property
    def cost_ratio(self) -> float:
        """cost / exact discrete OT cost (1: as cheap as the exact plan of these points)."""
        return self.cost / self.exact_cost if self.exact_cost > 0 else NAN

    @property
    def is_flow(self) -> bool:
        return self.kind == "flow"


@dataclass(eq=False)
class MethodStep:
    """One step of a method's iterator. ``result`` is set on the last step only."""

    method: str
    fraction: float              # of this method's work done, 0 … 1
    elapsed: float               # seconds of this method so far
    stage: str                   # what it is doing: 'warm-start', 'refine', 'solve', 'measure'
    result: MethodResult | None = None
