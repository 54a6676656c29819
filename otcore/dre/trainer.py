"""Step-wise training of the time score on bridge samples (docs/method.md §4), like the flow's Trainer:
it yields one :class:`RatioStepMetrics` per step, so a caller can chart, stop and resume."""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Union

import torch

from ..device import resolve_device
from ..scaling import Standardizer
from .bridge import Bridge, BridgePath, bridge_samples, check_path, check_samples, push_slices
from .config import DensityRatioConfig, DensityRatioError
from .ratio import DensityRatio, build_network
from .time_score import integrate, telescoping_loss

VALIDATION_POINTS = 4000   # held-out points per slice used to validate

#: a source of fresh samples: (n, generator) -> (n, d)
Sampler = Callable[[int, torch.Generator], torch.Tensor]
#: with a sampler, the pushed particles live in a ring of POOL_STEPS × batch trajectories; every
#: step replaces the oldest ``batch`` by fresh ones, so each particle serves ~POOL_STEPS steps
POOL_STEPS = 64


@dataclass
class RatioValidation:
    loss: float                   # held-out telescoping loss per interval (2·log 2 ≈ 1.386 = chance)
    per_interval: list[float]     # held-out loss of each interval
    kl_pq: float                  # KL(P ‖ Q) ≈ −E_P[∫₀¹ r], nats, on held-out P
    kl_qp: float                  # KL(Q ‖ P) ≈ E_Q[∫₀¹ r], nats, on held-out Q


@dataclass
class RatioStepMetrics:
    step: int
    steps: int
    loss: float                   # training loss per interval of this step
    lr: float
    elapsed: float
    steps_per_s: float
    validation: RatioValidation | None = None   # set on the steps where the ratio was validated
    best: RatioValidation | None = None         # best held-out validation so far
    extras: dict[str, float] = field(default_factory=dict)


def _split(x: torch.Tensor, holdout: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    perm = torch.randperm(len(x), generator=gen)
    n_val = min(max(1, int(round(holdout * len(x)))), len(x) - 1)
    return x[perm[n_val:]], x[perm[:n_val]]


class DensityRatioTrainer:
    """Trains r(x, s) on the bridge of ``flow`` (a trained OTFlow or a GaussianBridge) from P (s = 0) to Q (s = 1).

    >>> trainer = DensityRatioTrainer(flow, P, Q, DensityRatioConfig())
    >>> for m in trainer.run(100): ...     # stop any time; run() again resumes
    >>> ratio = trainer.ratio               # a DensityRatio (best held-out weights once done)

    ``validation=(P_val, Q_val)`` gives held-out samples explicitly; otherwise ``config.holdout`` of
    P and Q is kept out. P is either samples (n, d) or, when P can be sampled freely (a Gaussian,
    the product of marginals), a sampler ``P(n, generator) -> (n, d)``: then every step pushes fresh
    samples along the flow, so no slice but the last can be memorised.
    """

    def __init__(self, flow: BridgePath, P: Union[torch.Tensor, Sampler], Q: torch.Tensor,
                 config: DensityRatioConfig = DensityRatioConfig(), *,
                 validation: tuple[torch.Tensor, torch.Tensor] | None = None, device: str | torch.device = "cpu"):
        check_path(flow)
        if not isinstance(config, DensityRatioConfig):
            raise DensityRatioError(f"config must be a DensityRatioConfig, got {type(config).__name__}")
        self.config, self.flow = config, flow
        self.device = resolve_device(device)
        gen = torch.Generator().manual_seed(config.seed)
        self._sampler: Sampler | None = None
        if callable(P) and not isinstance(P, torch.Tensor):
            self._sampler = P
            P = check_samples("P (from the sampler)", P(VALIDATION_POINTS, gen), flow.dim)
        P, Q = check_samples("P", P, flow.dim), check_samples("Q", Q, flow.dim)
        if self._sampler is not None and validation is None:
            validation = (P, None)
        if validation is None:
            (P, P_val), (Q, Q_val) = _split(P, config.holdout, gen), _split(Q, config.holdout, gen)
        else:
            P_val = check_samples("P (validation)", validation[0], flow.dim, minimum=2)
            if validation[1] is None:
                Q, Q_val = _split(Q, config.holdout, gen)
            else:
                Q_val = check_samples("Q (validation)", validation[1], flow.dim, minimum=2)
        P_val, Q_val = P_val[:VALIDATION_POINTS], Q_val[:VALIDATION_POINTS]
        self.standardizer = Standardizer.fit(P, Q)
        z = self.standardizer.forward
        self._z = z
        self.val_bridge = self._bridge(P_val, Q_val, z)
        if self._sampler is None:
            self.train_bridge = self._bridge(P, Q, z)
        else:   # a ring of pushed particles, refreshed every step
            ring = self._sampler(POOL_STEPS * config.batch, gen)
            self.train_bridge = self._bridge(check_samples("P (from the sampler)", ring, flow.dim), Q, z)
            self._ring_pos = 0
        self.net = build_network(flow.dim, config).to(self.device)
        self._opt = torch.optim.AdamW(self.net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        # the weights validated and kept: an exponential average of the trained ones (or those themselves)
        self._avg = copy.deepcopy(self.net) if config.ema > 0 else self.net
        self._gen = torch.Generator().manual_seed(config.seed + 1)
        self.step_count = 0
        self.elapsed = 0.0
        self.history: list[RatioStepMetrics] = []
        self.validations: list[tuple[int, RatioValidation]] = []
        self.best: RatioValidation | None = None
        self._best_state = copy.deepcopy(self._avg.state_dict())
        self.stop_reason: str | None = None

    def _bridge(self, P: torch.Tensor, Q: torch.Tensor, z: Callable[[torch.Tensor], torch.Tensor]) -> Bridge:
        b = bridge_samples(self.flow, P, Q, self.config.slices, self.config.push_steps)
        return Bridge(b.times, z(b.pushed), z(b.target)).to(self.device)

    # --- public state ----------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.step_count >= self.config.steps or self.stop_reason is not None

    def progress(self) -> tuple[int, int]:
        return self.step_count, self.config.steps

    @property
    def ratio(self) -> DensityRatio:
        """The ratio as it stands: current weights while training, best held-out weights once done."""
        net = build_network(self.flow.dim, self.config)
        net.load_state_dict(self._best_state if self.done else self._avg.state_dict())
        meta = {"trained_steps": self.step_count}
        if self.best is not None:
            meta.update(val_loss=self.best.loss, kl_pq=self.best.kl_pq, kl_qp=self.best.kl_qp)
        return DensityRatio(net, self.config, self.standardizer, meta)

    # --- driving -------------------------------------------------------------------------
    def run(self, n_steps: int | None = None) -> Iterator[RatioStepMetrics]:
        """Advance up to ``n_steps`` steps (all remaining if None), yielding metrics after each."""
        done = 0
        while not self.done and (n_steps is None or done < n_steps):
            yield self.step()
            done += 1

    def close(self) -> None:
        """Nothing runs in the background; kept for symmetry with the flow's Trainer."""

    def step(self) -> RatioStepMetrics:
        if self.done:
            raise RuntimeError("density-ratio training has finished; start a new trainer to train again")
        c = self.config
        start = time.perf_counter()
        lr = c.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * self.step_count / c.steps)))
        for group in self._opt.param_groups:
            group["lr"] = lr
        self.net.train()
        if self._sampler is not None:
            self._refresh()
        batches = [self._batch(self.train_bridge.slice(m)) for m in range(c.slices + 1)]
        out = telescoping_loss(self.net, batches, self.train_bridge.times)
        self._opt.zero_grad(set_to_none=True)
        out.total.backward()
        loss = out.total.item() / c.slices
        if not math.isfinite(loss):
            self.net.load_state_dict(self._best_state)
            self.stop_reason = (f"density-ratio training diverged at step {self.step_count + 1} (loss {loss}); "
                                "the best weights so far are kept; try a smaller learning rate")
        else:
            self._opt.step()
            self._average()
            self.step_count += 1
        self.elapsed += time.perf_counter() - start
        metrics = RatioStepMetrics(self.step_count, c.steps, loss, lr, self.elapsed,
                                   self.step_count / self.elapsed if self.elapsed > 0 else 0.0)
        if self.stop_reason is None and (self.step_count % c.validate_every == 0 or self.step_count >= c.steps):
            metrics.validation = self._validate()
            if self.best is None or metrics.validation.loss < self.best.loss:
                self.best = metrics.validation
                self._best_state = copy.deepcopy(self._avg.state_dict())
        metrics.best = self.best
        self.history.append(metrics)
        return metrics

    @torch.no_grad()
    def _average(self) -> None:
        """avg ← ema · avg + (1 − ema) · weights, after every optimiser step (when ``config.ema`` > 0)."""
        if self._avg is self.net:
            return
        for avg, w in zip(self._avg.parameters(), self.net.parameters()):
            avg.lerp_(w, 1.0 - self.config.ema)

    def _refresh(self) -> None:
        """Replace the oldest ``batch`` particles of the ring by fresh samples pushed along the flow."""
        c = self.config
        fresh = check_samples("P (from the sampler)", self._sampler(c.batch, self._gen), self.flow.dim)
        pushed = self._z(push_slices(self.flow, fresh, c.slices, c.push_steps)).to(self.device)
        ring = self.train_bridge.pushed
        idx = (self._ring_pos + torch.arange(c.batch)) % ring.shape[1]
        ring[:, idx.to(self.device)] = pushed
        self._ring_pos = int(idx[-1]) + 1

    def _batch(self, x: torch.Tensor) -> torch.Tensor:
        idx = torch.randint(0, len(x), (self.config.batch,), generator=self._gen)
        return x[idx.to(x.device)]

    @torch.no_grad()
    def _validate(self) -> RatioValidation:
        net = self._avg.eval()
        b = self.val_bridge
        out = telescoping_loss(net, [b.slice(m) for m in range(b.slices + 1)], b.times)
        kl_pq = -integrate(net, b.slice(0), b.times).mean().item()
        kl_qp = integrate(net, b.target, b.times).mean().item()
        v = RatioValidation(out.total.item() / b.slices, out.per_interval.tolist(), kl_pq, kl_qp)
        self.validations.append((self.step_count, v))
        return v


def fit_density_ratio(flow: BridgePath, P: Union[torch.Tensor, Sampler], Q: torch.Tensor,
                      config: DensityRatioConfig = DensityRatioConfig(), *,
                      validation: tuple[torch.Tensor, torch.Tensor] | None = None, device: str | torch.device = "cpu",
                      callback: Callable[[RatioStepMetrics], None] | None = None) -> DensityRatio:
    """Train the infinitesimal density ratio on the bridge of ``flow`` and return it.

    P: (n, d) samples at t = 0, or a sampler ``P(n, generator)`` when P can be sampled freely;
    Q: (m, d) samples at t = 1 (the flow's own P and Q, or fresh samples of them).
    ``ratio.log_ratio(x)`` ≈ log q(x) − log p(x). Raises :class:`DensityRatioError` on bad input or
    if training diverges.
    """
    trainer = DensityRatioTrainer(flow, P, Q, config, validation=validation, device=device)
    for metrics in trainer.run():
        if callback is not None:
            callback(metrics)
    if trainer.stop_reason is not None:
        raise DensityRatioError(trainer.stop_reason)
    return trainer.ratio
