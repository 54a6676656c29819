"""Judging digit translations: a ten-class digit classifier trained on images that neither the
autoencoder nor the flow saw (the 'judge' part of :func:`~otcore.images.domains.digits_split`), and
the measures of issue 5 it enables for a translator.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..metrics import exact_ot_cost
from .domains import DigitsSplit
from .spread import diversity, reconstruction_error
from .translate import LatentTranslator, crossfade


def _svc():
    from sklearn.svm import SVC

    return SVC(gamma=0.256, C=1.0)


def _knn():
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=3)


#: Judge kinds: 'svc' — scikit-learn's classic digits model, an RBF support-vector classifier on
#: raw pixels (γ = 0.001 on 0–16 pixel values, i.e. 0.256 on [0, 1] pixels); 'knn' — the majority
#: class of the 3 nearest real digits in pixel space (a judge of "which real digits is this close to").
JUDGES = {"svc": _svc, "knn": _knn}


class DigitJudge:
    """A ten-class digit classifier on raw 8 × 8 pixels (see :data:`JUDGES`)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, kind: str = "svc"):
        if kind not in JUDGES:
            raise ValueError(f"unknown judge {kind!r}; choose one of {', '.join(JUDGES)}")
        self.kind = kind
        self._model = JUDGES[kind]().fit(self._features(images), np.asarray(labels))

    @staticmethod
    def _features(images: torch.Tensor) -> np.ndarray:
        x = torch.as_tensor(images, dtype=torch.float32)
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 8, 8):
            raise ValueError(f"the digit judge reads (n, 1, 8, 8) images, got {tuple(x.shape)}")
        return x.reshape(len(x), 64).numpy()

    def predict(self, images: torch.Tensor) -> np.ndarray:
        """Digit class of each image. images: (n, 1, 8, 8) in [0, 1] -> (n,) ints."""
        if not len(images):
            return np.zeros(0, dtype=int)
        return self._model.predict(self._features(images))

    @classmethod
    def from_split(cls, split: DigitsSplit, kind: str = "svc") -> "DigitJudge":
        return cls(split.images[split.judge], split.labels[split.judge], kind)


@dataclass(frozen=True)
class DirectionReport:
    """Measures of one translation direction (source → target) on held-out source images."""
    judged_target: float        # share of translations (t = 1) judged the target class
    third_class_half: float     # share of t = ½ frames judged neither source nor target
    third_class_half_knn: float  # the same judged by the 3-nearest-real-digits judge (a second opinion)
    judged_source_half: float   # share of t = ½ frames judged the source class
    cycle_latent: float         # mean ‖T⁻¹(T(z)) − z‖ / RMS spread of the codes
    cycle_pixel: float          # RMS pixel error of source → target → source (re-encoded)
    transport_cost: float       # mean latent kinetic energy along the paths (W₂² scale)
    exact_ot_cost: float        # exact discrete OT cost between the two sets of latent codes
    ceiling: float              # share of the target's own held-out reconstructions judged target
    mean_shift: float           # share judged target after z + (mean_target − mean_source)
    crossfade_third_half: float  # third-class share of the naive pixel cross-fade at t = ½
    crossfade_third_half_knn: float
    crossfade_random_third_half: float  # the same for a cross-fade toward a random target image (SVM judge)
    diversity: float            # spread of the translations / spread of real held-out target images
    reconstruction_diversity: float  # spread of the sources' reconstructions (t = 0) / spread of the sources
    reconstruction_error: float  # mean squared pixel error of held-out source and target reconstructions
    n: int


def judged(judge: DigitJudge, images: torch.Tensor, digit: int) -> float:
    return float((judge.predict(images) == digit).mean()) if len(images) else float("nan")


def third_class(judge: DigitJudge, images: torch.Tensor, a: int, b: int) -> float:
    pred = judge.predict(images)
    return float(((pred != a) & (pred != b)).mean()) if len(images) else float("nan")


def judge_direction(translator: LatentTranslator, judge: DigitJudge, second: DigitJudge, source: torch.Tensor, target_test: torch.Tensor,
                    target_train: torch.Tensor, digits: tuple[int, int], reverse: bool) -> DirectionReport:
    """Every measure of issue 5 for one direction. source: held-out source images; target_test:
    held-out target images (for the ceiling); target_train: the target's training images (the
    cross-fade's nearest targets and the exact OT cost's other side)."""
    a, b = digits
    src_digit, tgt_digit = (b, a) if reverse else (a, b)
    ae, flow = translator.autoencoder, translator.flow
    frames = translator.frames(source, [0.5, 1.0], reverse)
    z = ae.encode(source)
    t0, t1 = (1.0, 0.0) if reverse else (0.0, 1.0)
    z_there = flow.flow_to(z, t0, t1)
    z_back = flow.flow_to(z_there, t1, t0)
    spread = float(z.var(0).sum().sqrt())
    pixel_back = translator.translate(translator.translate(source, reverse), not reverse)
    z_tgt = ae.encode(target_train)
    shifted = ae.decode(z + (z_tgt.mean(0) - z.mean(0)))
    cost = float(flow.kinetic_energy(z, reverse=reverse).mean())
    fade = crossfade(source, target_train, 0.5)
    partner = target_train[torch.randint(len(target_train), (len(source),), generator=torch.Generator().manual_seed(0))]
    return DirectionReport(
        judged_target=judged(judge, frames[1], tgt_digit),
        third_class_half=third_class(judge, frames[0], a, b),
        third_class_half_knn=third_class(second, frames[0], a, b),
        judged_source_half=judged(judge, frames[0], src_digit),
        cycle_latent=float((z_back - z).norm(dim=1).mean()) / spread,
        cycle_pixel=float(((pixel_back - source) ** 2).mean().sqrt()),
        transport_cost=cost,
        exact_ot_cost=exact_ot_cost(z, z_tgt)[0],
        ceiling=judged(judge, ae(target_test).detach(), tgt_digit),
        mean_shift=judged(judge, shifted, tgt_digit),
        crossfade_third_half=third_class(judge, fade, a, b),
        crossfade_third_half_knn=third_class(second, fade, a, b),
        crossfade_random_third_half=third_class(judge, 0.5 * source + 0.5 * partner, a, b),
        diversity=diversity(frames[1], target_test),
        reconstruction_diversity=diversity(ae(source).detach(), source),
        reconstruction_error=reconstruction_error(ae, torch.cat([source, target_test])),
        n=len(source),
    )
