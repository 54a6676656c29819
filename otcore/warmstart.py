"""Stage 1: flow matching with minibatch-OT pairing, with the OT solves kept off the critical path."""
from __future__ import annotations

import queue
import threading

import numpy as np
import torch
from torch import nn

from .pairing import PAIRINGS


def flow_matching_loss(field: nn.Module, x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Regress v(x_t, t) on x1 − x0 along x_t = (1 − t)x0 + t x1.
    x0, x1: (b, d) paired points, t: (b,) -> scalar mean squared error (summed over d)."""
    xt = (1 - t[:, None]) * x0 + t[:, None] * x1
    return ((field(t, xt) - (x1 - x0)) ** 2).sum(1).mean()


class PairedBatches:
    """Background producer of OT-paired minibatches (POT releases the GIL while it solves).

    Each batch is paired in independent blocks of ``block`` points: an exact solve costs far more
    than linearly in its size (measured here ~4× less time for two blocks of 256 than one of 512).

    Yields (x0, x1): (b, d) float32 CPU tensors, x1[i] the partner of x0[i]. Deterministic for a seed.
    """

    def __init__(self, P: torch.Tensor, Q: torch.Tensor, batch: int, method: str, seed: int, block: int = 256,
                 prefetch: int = 6):
        self._P = P.double().cpu().numpy()
        self._Q = Q.double().cpu().numpy()
        self._batch = min(batch, len(self._P), len(self._Q))
        self._block = max(1, min(block, self._batch))
        self._pair = PAIRINGS[method]
        self._rng = np.random.default_rng(seed)
        self._queue: queue.Queue = queue.Queue(maxsize=prefetch)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._produce, daemon=True, name="ot-pairing")
        self._thread.start()

    def _produce(self) -> None:
        try:
            while not self._stop.is_set():
                i0 = self._rng.choice(len(self._P), self._batch, replace=False)
                i1 = self._rng.choice(len(self._Q), self._batch, replace=False)
                x0, x1 = self._P[i0], self._Q[i1]
                for lo in range(0, self._batch, self._block):  # one OT problem per block
                    hi = lo + self._block
                    x1[lo:hi] = x1[lo:hi][self._pair(x0[lo:hi], x1[lo:hi], self._rng)]
                item = (torch.as_tensor(x0, dtype=torch.float32), torch.as_tensor(x1, dtype=torch.float32))
                while not self._stop.is_set():
                    try:
                        self._queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as err:  # noqa: BLE001 - handed to the consumer
            self._error = err

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        while True:
            if self._error is not None:
                raise RuntimeError(f"minibatch OT pairing failed: {self._error}") from self._error
            try:
                return self._queue.get(timeout=0.5)
            except queue.Empty:
                continue

    def close(self) -> None:
        self._stop.set()
