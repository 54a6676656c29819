"""Training one flow on several processes with torch.distributed (``torchrun … -m otcore train``).

How the work is divided (docs/method.md §2 is the same mathematics; only the batch is split):

* every rank holds the same P and Q, the same standardisation and the same held-out split, and
  trains on its own shard of the training points (rank r keeps points r, r + W, r + 2W, …);
* a step draws ``warm_batch / W`` points a side from the rank's shard, so the global batch is
  ``warm_batch`` as in one process; the field is wrapped in DistributedDataParallel, so the
  gradients of the W local losses are all-reduced (averaged) before every optimiser step and every
  rank holds the same weights;
* the warm start's couplings are ``rank`` (each rank pairs its own points, in blocks of
  ``ot_block``) or ``global`` (the local batches are all-gathered, the global batch is paired as one
  process would pair it, with one seed on every rank, and each rank trains on its slice of the pairs);
* the reflow's teacher pairs are computed on each rank's own shard;
* validation runs on rank 0 and its numbers are broadcast, so every rank keeps the same weights and
  takes the same decisions; the loss of a step is the mean over ranks (all-reduced);
* checkpoints, the run folder and the report are written by rank 0 only (the CLI's job).

Backends: gloo on CPU, NCCL on CUDA. Step-counted runs only: a time budget would let ranks disagree
on when a stage ends, and the Q-flow refinement's classifiers are not distributed; both are refused.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .config import FlowConfig
from .pairing import CPU_PAIRINGS, batch_seed, pair_source
from .reflow import Reflow
from .seeding import generator
from .trainer import REFINE, WARM, Trainer
from .validation import Validated, Validation
from .warmstart import WarmStart

#: ``--dist-coupling`` choices
COUPLINGS = {"rank": "each rank pairs its own minibatch", "global": "the all-gathered global batch is paired"}
#: the seeds of different ranks are this far apart
RANK_SEED_STRIDE = 7919


@dataclass(frozen=True)
class DistContext:
    """This process's place in the job, from torchrun's environment variables."""
    rank: int
    world_size: int
    local_rank: int

    @classmethod
    def from_env(cls, env=os.environ) -> "DistContext | None":
        """The context under torchrun (RANK and WORLD_SIZE set), else None."""
        if "RANK" not in env or "WORLD_SIZE" not in env:
            return None
        return cls(int(env["RANK"]), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", 0)))

    @property
    def main(self) -> bool:
        return self.rank == 0

    def device(self, requested: str) -> torch.device:
        """CUDA device ``local_rank`` when CUDA is asked for (or 'auto' finds it), else the CPU."""
        if requested in ("auto", "cuda") and torch.cuda.is_available():
            return torch.device("cuda", self.local_rank)
        if requested.startswith("cuda"):
            return torch.device(requested)
        if requested not in ("auto", "cpu"):
            raise ValueError(f"distributed training runs on CPU (gloo) or CUDA (NCCL), not {requested!r}")
        return torch.device("cpu")

    def start(self, device: torch.device) -> str:
        """Join the process group (gloo on CPU, NCCL on CUDA); returns the backend."""
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            dist.init_process_group(backend=backend)
        return backend


def check_config(config: FlowConfig, coupling: str) -> None:
    """Refuse what the distributed trainer does not support, with the reason."""
    if coupling not in COUPLINGS:
        raise ValueError(f"unknown coupling scope {coupling!r}; choose one of {', '.join(COUPLINGS)}")
    if config.budget_s > 0:
        raise ValueError("distributed training is step-counted: give --warm-steps/--refine-steps, not a time budget "
                         "(ranks would disagree on when a stage ends)")
    if config.refine_method != "reflow" and config.refine_steps > 0:
        raise ValueError("distributed training refines by reflow only (the Q-flow classifiers are not distributed); "
                         "use --refine-method reflow or --refine-steps 0")
    if coupling == "global" and config.pairing not in CPU_PAIRINGS:
        raise ValueError(f"--dist-coupling global pairs on the CPU: use --pairing {' or '.join(CPU_PAIRINGS)}")


def shard(x: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rank ``rank``'s points of x: (n, d), every ``world_size``-th from ``rank``."""
    return x[rank::world_size]


def mean_over_ranks(losses: dict) -> dict:
    """The step's tensor losses averaged over the ranks (one all-reduce); other values as they are."""
    names = [k for k, v in losses.items() if torch.is_tensor(v)]
    if not names:
        return losses
    stacked = torch.stack([losses[k].detach().float() for k in names])
    dist.all_reduce(stacked)
    stacked /= dist.get_world_size()
    return {**losses, **dict(zip(names, stacked.unbind()))}


class GatheredPairs:
    """Paired minibatches coupled across ranks: each rank draws ``batch`` points a side from its shard,
    the local batches are all-gathered (rank order), the global batch is paired in blocks of ``block``
    with one seed on every rank, and each rank gets its own slice of the pairs. Synchronous (it
    takes part in collectives, so it runs in the training thread)."""

    def __init__(self, P: torch.Tensor, Q: torch.Tensor, batch: int, method: str, seed: int, rank_seed: int,
                 block: int, start: int = 0):
        self._P, self._Q, self._device = P.cpu(), Q.cpu(), P.device
        self._batch = min(batch, len(P), len(Q))
        self._pair, self._block = CPU_PAIRINGS[method], block
        self._seed, self._rank_seed, self.index = seed, rank_seed, start

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng(batch_seed(self._rank_seed, self.index))
        x0 = self._P[rng.choice(len(self._P), self._batch, replace=False)]
        x1 = self._Q[rng.choice(len(self._Q), self._batch, replace=False)]
        world, rank = dist.get_world_size(), dist.get_rank()
        gathered = torch.cat([x0, x1], dim=1).to(self._device)
        parts = [torch.empty_like(gathered) for _ in range(world)]
        dist.all_gather(parts, gathered)
        both = torch.cat(parts).cpu().double().numpy()
        d = x0.shape[1]
        X0, X1 = both[:, :d], both[:, d:].copy()
        shared = np.random.default_rng(batch_seed(self._seed, self.index))      # the same on every rank
        for lo in range(0, len(X0), self._block):
            hi = lo + self._block
            X1[lo:hi] = X1[lo:hi][self._pair(X0[lo:hi], X1[lo:hi], shared)]
        self.index += 1
        mine = slice(rank * self._batch, (rank + 1) * self._batch)
        as_tensor = lambda a: torch.as_tensor(a[mine], dtype=torch.float32, device=self._device)   # noqa: E731
        return as_tensor(X0), as_tensor(X1)

    def close(self) -> None:
        pass


def _wrap(field: nn.Module) -> DistributedDataParallel:
    device = next(field.parameters()).device
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(field, device_ids=ids, forward_sync_buffers=False)   # its one buffer is a constant


def _unwrapped(kept: nn.Module, stage) -> nn.Module:
    """The stage's kept weights without the DDP wrapper (its averaged copy, or the plain field)."""
    return stage._plain if kept is stage.field else kept


class DistributedWarmStart(WarmStart):
    """The warm start on a rank: the EMA and the optimiser as in one process, the forward and
    backward through DDP, the pairs of this rank (or of the global batch)."""

    def __init__(self, field, P, Q, config, generator, coupling: str, rank_seed: int):
        super().__init__(field, P, Q, config, generator)
        self._plain, self._coupling, self._rank_seed = field, coupling, rank_seed
        self.field = _wrap(field)
        self._pairs.close()
        self._pairs = self._source(0)

    def _source(self, start: int):
        c = self.config
        if self._coupling == "global":
            return GatheredPairs(*self._data, c.warm_batch, c.pairing, c.seed, self._rank_seed, c.ot_block, start)
        return pair_source(*self._data, c.warm_batch, c.pairing, self._rank_seed, c.ot_block, start=start)

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self._pairs.close()
        self._pairs = self._source(int(state["batch"]))

    @property
    def kept(self) -> nn.Module:
        return _unwrapped(super().kept, self)

    def step(self, fraction: float) -> dict:
        return mean_over_ranks(super().step(fraction))


class DistributedReflow(Reflow):
    """The reflow on a rank: teacher pairs of this rank's shard, forward and backward through DDP."""

    def __init__(self, field, P, Q, config, generator):
        super().__init__(field, P, Q, config, generator)
        self._plain = field
        self.field = _wrap(field)

    @property
    def kept(self) -> nn.Module:
        return _unwrapped(super().kept, self)

    def step(self, fraction: float) -> dict:
        return mean_over_ranks(super().step(fraction))


class RankZeroValidator:
    """Validates on rank 0 and broadcasts the numbers, so every rank's keep-best sees the same
    validation (the end points stay on rank 0: only the Q-flow's KL estimates would need them)."""

    def __init__(self, validator, device: torch.device):
        self._inner, self._device = validator, device

    def __call__(self, field: nn.Module) -> Validated:
        out = self._inner(field) if dist.get_rank() == 0 else None
        numbers = torch.zeros(3 + self._inner.replicates, dtype=torch.float64, device=self._device)
        if out is not None:
            v = out.validation
            numbers = torch.cat([torch.tensor([v.fit, v.fit_reverse, v.transport_cost], dtype=torch.float64),
                                 out.fit_draws.double()]).to(self._device)
        dist.broadcast(numbers, src=0)
        if out is not None:
            return out
        fit, fit_reverse, cost = numbers[:3].tolist()
        empty = torch.empty(0, field.dim if hasattr(field, "dim") else 0)
        return Validated(Validation(fit=fit, fit_reverse=fit_reverse, transport_cost=cost), empty, empty,
                         numbers[3:].float().cpu())


class DistributedTrainer(Trainer):
    """A :class:`Trainer` on one rank of a torch.distributed job (the process group must be up).

    ``config.warm_batch`` is the global batch; each rank's stages draw ``warm_batch / world_size``.
    Every rank yields the same metrics (losses averaged over the ranks); rank 0 writes the files."""

    def __init__(self, P: torch.Tensor, Q: torch.Tensor, config: FlowConfig, device: torch.device,
                 coupling: str = "rank"):
        check_config(config, coupling)
        world, rank = dist.get_world_size(), dist.get_rank()
        if config.warm_batch % world:
            raise ValueError(f"--warm-batch {config.warm_batch} must be a multiple of the {world} processes")
        super().__init__(P, Q, config, device)
        self.world_size, self.rank, self.coupling = world, rank, coupling
        self.backend = dist.get_backend()
        self.P_train, self.Q_train = shard(self.P_train, rank, world), shard(self.Q_train, rank, world)
        self._rank_seed = config.seed + RANK_SEED_STRIDE * rank
        self._gen = generator(config.seed + 1 + RANK_SEED_STRIDE * rank, self.device)
        self.validator = RankZeroValidator(self.validator, self.device)
        self._local = config.replace(warm_batch=config.warm_batch // world)

    def ranks_agree(self) -> bool:
        """Whether every rank holds bit-identical weights (all-gathers one checksum per rank)."""
        flat = torch.cat([p.detach().double().flatten() for p in self.field.parameters()])
        mine = torch.stack([flat.sum(), (flat * torch.arange(1, len(flat) + 1, dtype=flat.dtype, device=flat.device)).sum()])
        every = [torch.empty_like(mine) for _ in range(self.world_size)]
        dist.all_gather(every, mine)
        return all(torch.equal(e, every[0]) for e in every)

    def _make_stage(self, name: str) -> None:
        self._stage_start = copy.deepcopy(self.field.state_dict())
        data = (self.field, self.P_train, self.Q_train, self._local, self._gen)
        if name == WARM:
            self._stage_obj = DistributedWarmStart(*data, coupling=self.coupling, rank_seed=self._rank_seed)
        elif name == REFINE:
            self._stage_obj = DistributedReflow(*data)
        else:
            raise ValueError(f"no stage {name!r}")
