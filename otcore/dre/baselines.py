"""Baselines shown beside the infinitesimal estimator (docs/method.md §4):

* one step: a single logistic classifier between P and Q, r(x) ≈ log q(x) − log p(x) — the same
  network family as the time score, without the time input (fails when KL is tens of nats);
* kernel density estimates of p and q (d ≤ 3 only);
* the closed form for Gaussian pairs (exact along the McCann path).
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import gaussian_kde

from ..device import resolve_device
from ..gaussians import Gaussian, log_ratio_along_path
from ..scaling import Standardizer
from .bridge import check_samples
from .config import DensityRatioConfig, DensityRatioError
from .network import RatioNet
from .ratio import CHUNK, build_network

KDE_MAX_DIM = 3
KDE_MAX_POINTS = 5000


class OneStepRatio:
    """log q(x) − log p(x) ≈ r(x) from one logistic classifier, in the user's units."""

    def __init__(self, net: RatioNet, standardizer: Standardizer, val_loss: float):
        self.net = net.eval()
        self.standardizer = standardizer
        self.val_loss = val_loss   # held-out logistic loss (2·log 2 ≈ 1.386 = chance)

    @property
    def dim(self) -> int:
        return self.net.dim

    @torch.no_grad()
    def log_ratio(self, x: torch.Tensor) -> torch.Tensor:
        """x: (n, d) -> (n,)."""
        x = torch.as_tensor(x, dtype=torch.float32)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise DensityRatioError(f"expected points of shape (n, {self.dim}), got {tuple(x.shape)}")
        z = self.standardizer.forward(x).to(next(self.net.parameters()).device)
        return torch.cat([self.net(None, c) for c in z.split(CHUNK)]).cpu()


def _logistic(net: RatioNet, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.softplus(net(None, a)).mean() + F.softplus(-net(None, b)).mean()


def fit_one_step_ratio(P: torch.Tensor, Q: torch.Tensor, config: DensityRatioConfig = DensityRatioConfig(), *,
                       validation: tuple[torch.Tensor, torch.Tensor] | None = None,
                       device: str | torch.device = "cpu") -> OneStepRatio:
    """Train one classifier between P: (n, d) and Q: (m, d) with the logistic loss, ``config.steps``
    steps of 4 × ``config.batch`` points a side (AdamW, cosine decay), keeping the best held-out weights."""
    P, Q = check_samples("P", P), check_samples("Q", Q, P.shape[1])
    dev = resolve_device(device)
    gen = torch.Generator().manual_seed(config.seed + 7)
    if validation is None:
        def split(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            perm = torch.randperm(len(x), generator=gen)
            k = min(max(1, int(round(config.holdout * len(x)))), len(x) - 1)
            return x[perm[k:]], x[perm[:k]]
        (P, P_val), (Q, Q_val) = split(P), split(Q)
    else:
        P_val = check_samples("P (validation)", validation[0], P.shape[1], minimum=2)
        Q_val = check_samples("Q (validation)", validation[1], P.shape[1], minimum=2)
    scaler = Standardizer.fit(P, Q)
    P, Q, P_val, Q_val = (scaler.forward(x).to(dev) for x in (P, Q, P_val[:8000], Q_val[:8000]))
    net = build_network(P.shape[1], config, timed=False).to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    batch = 4 * config.batch
    best, best_state = math.inf, copy.deepcopy(net.state_dict())
    for step in range(config.steps):
        for group in opt.param_groups:
            group["lr"] = config.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / config.steps)))
        a = P[torch.randint(0, len(P), (batch,), generator=gen).to(dev)]
        b = Q[torch.randint(0, len(Q), (batch,), generator=gen).to(dev)]
        loss = _logistic(net, a, b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % config.validate_every == 0 or step + 1 == config.steps:
            with torch.no_grad():
                val = _logistic(net, P_val, Q_val).item()
            if val < best:
                best, best_state = val, copy.deepcopy(net.state_dict())
    net.load_state_dict(best_state)
    return OneStepRatio(net, scaler, best)


def kernel_log_ratio(P: torch.Tensor, Q: torch.Tensor, x: torch.Tensor, bandwidth: str | float = "scott") -> torch.Tensor:
    """log q̂(x) − log p̂(x) with Gaussian kernel density estimates (scipy, Scott's rule by default).
    P: (n, d), Q: (m, d), x: (k, d) with d ≤ 3 -> (k,). Kernel estimates are hopeless beyond a few dimensions."""
    P, Q = check_samples("P", P, minimum=2), check_samples("Q", Q, minimum=2)
    d = P.shape[1]
    if d > KDE_MAX_DIM:
        raise DensityRatioError(f"kernel density ratios are offered for d ≤ {KDE_MAX_DIM} only; the data have d = {d}")
    x = check_samples("x", x, d, minimum=1)
    if Q.shape[1] != d:
        raise DensityRatioError(f"P has dimension {d} but Q has {Q.shape[1]}")
    rng = np.random.default_rng(0)

    def kde(s: torch.Tensor) -> gaussian_kde:
        a = s.double().numpy()
        if len(a) > KDE_MAX_POINTS:
            a = a[rng.choice(len(a), KDE_MAX_POINTS, replace=False)]
        try:
            return gaussian_kde(a.T, bw_method=bandwidth)
        except (np.linalg.LinAlgError, ValueError) as err:
            raise DensityRatioError(f"kernel density estimate failed (are the samples degenerate?): {err}") from None

    pts = x.double().numpy().T
    return torch.as_tensor(kde(Q).logpdf(pts) - kde(P).logpdf(pts), dtype=torch.float32)


def gaussian_log_ratio(p: Gaussian, q: Gaussian, x: torch.Tensor, t0: float = 0.0, t1: float = 1.0) -> torch.Tensor:
    """Exact log p_{t1}(x) − log p_{t0}(x) on the McCann (OT) path from p to q; the default is
    log q(x) − log p(x). x: (n, d) -> (n,)."""
    x = check_samples("x", x, p.dim, minimum=1)
    if q.dim != p.dim:
        raise DensityRatioError(f"p has dimension {p.dim} but q has {q.dim}")
    if not (0 <= t0 <= 1 and 0 <= t1 <= 1):
        raise DensityRatioError(f"times must lie in [0, 1], got t0={t0}, t1={t1}")
    return log_ratio_along_path(p, q, x, float(t0), float(t1))
