"""Minibatch couplings for the warm start: which target point each source point flows to.

Two kinds of source of paired minibatches, chosen by the pairing's name:

* 'exact' and 'independent' solve on the CPU with numpy/POT in a background thread (POT releases
  the GIL while it solves), so the solves stay off the training step's critical path;
* 'sinkhorn' solves a batched log-domain Sinkhorn in torch on the data's own device (GPU included):
  no host transfer, no thread.
"""
from __future__ import annotations

import queue
import threading

import numpy as np
import ot
import torch

from .coupling import draw_partners, sinkhorn_log_plan, squared_distances

#: entropic blur of the 'sinkhorn' pairing, relative to the mean pair cost of a block
SINKHORN_EPS = 0.01


def _exact(x0: np.ndarray, x1: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(x0)
    weights = np.full(n, 1.0 / n)
    plan = ot.emd(weights, weights, ot.dist(x0, x1), numItermax=1_000_000)
    return _draw_from_plan(plan, rng)


def _independent(x0: np.ndarray, x1: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(len(x1))


def _draw_from_plan(plan: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each row of a coupling matrix, one column drawn with the row's conditional law."""
    rows = plan / plan.sum(1, keepdims=True)
    u = rng.random((len(rows), 1))
    return np.minimum((rows.cumsum(1) < u).sum(1), plan.shape[1] - 1)


#: CPU pairings: name -> function(x0: (b, d), x1: (b, d), rng) -> indices (b,) into x1
CPU_PAIRINGS = {"exact": _exact, "independent": _independent}
#: every pairing name, with what it is
PAIRINGS = {"exact": "exact OT per block (POT, CPU thread)",
            "sinkhorn": f"entropic OT per block (torch, on the data's device, ε = {SINKHORN_EPS} × mean cost)",
            "independent": "no coupling (plain flow matching)"}


def pair(x0: torch.Tensor, x1: torch.Tensor, method: str = "exact", seed: int = 0) -> torch.Tensor:
    """Reorder x1 so that (x0[i], x1[i]) is drawn from the chosen minibatch coupling. (b, d) -> (b, d)."""
    if method == "sinkhorn":
        gen = torch.Generator(device=x0.device).manual_seed(seed)
        return x1[draw_partners(sinkhorn_log_plan(squared_distances(x0, x1), SINKHORN_EPS), gen)]
    idx = CPU_PAIRINGS[method](x0.double().cpu().numpy(), x1.double().cpu().numpy(), np.random.default_rng(seed))
    return x1[torch.as_tensor(idx, device=x1.device)]


def batch_seed(seed: int, index: int) -> int:
    """The seed of minibatch ``index`` of a run seeded ``seed``: every batch has its own stream, so
    a run resumed at batch k draws exactly the batches an uninterrupted run draws from k on."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0] >> 1)


class DevicePairs:
    """Paired minibatches drawn and coupled in torch on the data's device (entropic OT per block).
    P: (n, d), Q: (m, d) on one device. next() -> (x0, x1): (b, d), x1[i] the partner of x0[i].
    ``start``: the index of the first batch (to resume a run)."""

    def __init__(self, P: torch.Tensor, Q: torch.Tensor, batch: int, seed: int, block: int = 256, start: int = 0):
        self._P, self._Q = P, Q
        self._batch = min(batch, len(P), len(Q))
        self._block = max(1, min(block, self._batch))
        self._seed, self.index = seed, start
        self._gen = torch.Generator(device=P.device)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        b, k = self._batch, self._block
        dev = self._P.device
        self._gen.manual_seed(batch_seed(self._seed, self.index))
        self.index += 1
        x0 = self._P[torch.randperm(len(self._P), generator=self._gen, device=dev)[:b]]
        x1 = self._Q[torch.randperm(len(self._Q), generator=self._gen, device=dev)[:b]]
        full = (b // k) * k
        blocks0, blocks1 = x0[:full].reshape(-1, k, x0.shape[1]), x1[:full].reshape(-1, k, x1.shape[1])
        idx = draw_partners(sinkhorn_log_plan(squared_distances(blocks0, blocks1), SINKHORN_EPS), self._gen)
        paired = torch.gather(blocks1, 1, idx[..., None].expand_as(blocks1)).reshape(full, -1)
        if full < b:  # the last, smaller block
            rest0, rest1 = x0[full:], x1[full:]
            paired = torch.cat([paired, rest1[draw_partners(sinkhorn_log_plan(squared_distances(rest0, rest1),
                                                                               SINKHORN_EPS), self._gen)]])
        return x0, paired

    def close(self) -> None:
        pass


class PairedBatches:
    """Background producer of OT-paired minibatches on the CPU (POT releases the GIL while it solves).

    Each batch is paired in independent blocks of ``block`` points: an exact solve costs far more
    than linearly in its size (measured ~4× less time for two blocks of 256 than one of 512).
    Yields (x0, x1): (b, d) float32 tensors on ``device``, x1[i] the partner of x0[i].
    Deterministic for a seed: batch k is drawn from its own stream (:func:`batch_seed`), and
    ``start`` resumes at batch k. Memory is linear in n (only index draws and b × b blocks).
    """

    def __init__(self, P: torch.Tensor, Q: torch.Tensor, batch: int, method: str, seed: int, block: int = 256,
                 prefetch: int = 6, start: int = 0):
        self._device = P.device
        self._P = P.double().cpu().numpy()
        self._Q = Q.double().cpu().numpy()
        self._batch = min(batch, len(self._P), len(self._Q))
        self._block = max(1, min(block, self._batch))
        self._pair = CPU_PAIRINGS[method]
        self._seed, self.index, self._produced = seed, start, start
        self._queue: queue.Queue = queue.Queue(maxsize=prefetch)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._produce, daemon=True, name="ot-pairing")
        self._thread.start()

    def _produce(self) -> None:
        try:
            while not self._stop.is_set():
                rng = np.random.default_rng(batch_seed(self._seed, self._produced))
                self._produced += 1
                i0 = rng.choice(len(self._P), self._batch, replace=False)
                i1 = rng.choice(len(self._Q), self._batch, replace=False)
                x0, x1 = self._P[i0], self._Q[i1]
                for lo in range(0, self._batch, self._block):  # one OT problem per block
                    hi = lo + self._block
                    x1[lo:hi] = x1[lo:hi][self._pair(x0[lo:hi], x1[lo:hi], rng)]
                item = (torch.as_tensor(x0, dtype=torch.float32), torch.as_tensor(x1, dtype=torch.float32))
                if self._device.type == "cuda":   # page-locked, so the copy to the GPU does not wait for it
                    item = tuple(t.pin_memory() for t in item)
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
                x0, x1 = self._queue.get(timeout=0.5)
                self.index += 1
                return x0.to(self._device, non_blocking=True), x1.to(self._device, non_blocking=True)
            except queue.Empty:
                continue

    def close(self) -> None:
        self._stop.set()


def pair_source(P: torch.Tensor, Q: torch.Tensor, batch: int, method: str, seed: int, block: int = 256,
                start: int = 0):
    """The paired-minibatch source for a pairing name: :class:`DevicePairs` for 'sinkhorn',
    :class:`PairedBatches` otherwise. Both have next() -> (x0, x1) on P's device, ``index`` (the
    next batch's number; pass it as ``start`` to resume) and close()."""
    if method == "sinkhorn":
        return DevicePairs(P, Q, batch, seed, block, start)
    return PairedBatches(P, Q, batch, method, seed, block, start=start)
