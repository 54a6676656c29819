"""``train`` and ``evaluate``: train a flow into a run folder (resumable from its checkpoint) and
print the report of a trained one."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..config import FlowConfig
from ..distributed import COUPLINGS, DistContext, DistributedTrainer
from ..evaluate import evaluate
from ..files import read_state, save_state, write_atomic, write_text
from ..sources import resolve_source
from ..livelog import LiveLog
from ..tblog import LOGGERS, NullLogger, open_logger
from ..trainer import DIVERGED, Trainer
from .common import DATA_HELP, STOPPED_STATUS, Bar, StopRequests, add_config_flags, add_run_flags, config_from_args, load_run, print_result, print_table, read_samples

CHECKPOINT = "checkpoint.pt"


def show_progress(bar: Bar, m) -> None:
    """One training metric on the progress bar: step, steps/s and, once validated, cost and fit."""
    extra = f"cost {m.transport_cost:.4g} fit {m.fit:.3g}" if m.fit is not None else ""
    bar(m.stage, m.step, m.stage_steps, f"{m.steps_per_s:6.1f} it/s {extra}")


def _start_run(args: argparse.Namespace, out: Path, ctx: DistContext | None = None):
    """A new run: resolve the data, write config.json, run.json and samples.npz before training (in a
    distributed job every rank resolves the same data and rank 0 writes)."""
    if not (args.source and args.target):
        raise ValueError("give --source and --target (or --resume RUN_FOLDER)")
    config = config_from_args(args, FlowConfig)
    src = resolve_source(args.source, args.n, args.data_seed)
    tgt = resolve_source(args.target, args.n, args.data_seed + 1)
    if ctx is None or ctx.main:
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / "config.json", json.dumps(config.to_dict(), indent=2))
        write_text(out / "run.json", json.dumps({"source": args.source, "target": args.target, "n": args.n,
                                                 "data_seed": args.data_seed}, indent=2))
        write_atomic(out / "samples.npz", lambda handle: np.savez(handle, P=src.samples.numpy(), Q=tgt.samples.numpy()))
    if ctx is not None:
        device = ctx.device(args.device)
        ctx.start(device)
        return DistributedTrainer(src.samples, tgt.samples, config, device, args.dist_coupling), src, tgt
    return Trainer(src.samples, tgt.samples, config, device=args.device), src, tgt


def _resume_run(args: argparse.Namespace, out: Path):
    """A run continued from out/checkpoint.pt on the run's own samples.npz."""
    if not (out / CHECKPOINT).exists():
        raise ValueError(f"{out} holds no {CHECKPOINT} to resume from")
    spec = json.loads((out / "run.json").read_text())
    P, Q = read_samples(out)
    src = resolve_source(spec["source"], spec["n"], spec["data_seed"])
    tgt = resolve_source(spec["target"], spec["n"], spec["data_seed"] + 1)
    checkpoint = read_state(out / CHECKPOINT, ValueError, "a training checkpoint")
    return Trainer.resume(P, Q, checkpoint, device=args.device), src, tgt


def cmd_train(args: argparse.Namespace) -> int:
    ctx = DistContext.from_env()
    if ctx is None:
        return _train(args, None)
    try:
        return _train(args, ctx)
    except torch.distributed.DistError as err:      # a collective failed: another rank has gone
        print(f"error: rank {ctx.rank} of {ctx.world_size}: the job lost a process, stopping ({err})".splitlines()[0],
              file=sys.stderr)
        return 3
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _train(args: argparse.Namespace, ctx: DistContext | None) -> int:
    """Train on this process (rank 0 of a torchrun job, or alone) and write the run folder."""
    out = Path(args.resume or args.out or "")
    if not (args.resume or args.out):
        raise ValueError("give --out RUN_FOLDER (or --resume RUN_FOLDER)")
    if ctx is not None and args.resume:
        raise ValueError("--resume continues a run in one process (python -m otcore train --resume RUN)")
    trainer, src, tgt = _resume_run(args, out) if args.resume else _start_run(args, out, ctx)
    main = ctx is None or ctx.main
    P, Q = trainer.data
    bar = Bar()
    saved = time.perf_counter()
    with open_logger(args.log if main else "none", args.log_dir or out) as log, \
            (LiveLog(out) if main else NullLogger()) as live, StopRequests(enabled=ctx is None) as stop:
        for m in trainer.run():
            if not main:
                continue
            show_progress(bar, m)
            log(m)
            live(m)
            if stop.signal is not None:
                save_state(trainer.checkpoint(), out / CHECKPOINT)
                print(f"\nstopped by {stop.signal} at {m.stage} step {m.step}: {out / CHECKPOINT} holds this step; "
                      f"continue with: python -m otcore train --resume {out}", file=sys.stderr)
                return STOPPED_STATUS
            if args.checkpoint_every > 0 and time.perf_counter() - saved >= args.checkpoint_every:
                save_state(trainer.checkpoint(), out / CHECKPOINT)
                saved = time.perf_counter()
        agree = trainer.ranks_agree() if ctx is not None else None
        if not main:
            torch.distributed.barrier()              # rank 0 evaluates and writes; the others wait for it
            return 2 if trainer.stage == DIVERGED else 0
        save_state(trainer.checkpoint(), out / CHECKPOINT)
        report = _finish(trainer, src, tgt, out, P, Q, ranks_agree=agree)
        log.summary(report.to_dict(), trainer.history[-1].global_step if trainer.history else 0)
    if ctx is not None:
        torch.distributed.barrier()
    print_table(report.to_dict())
    print(f"wrote {out / 'flow.pt'}, config.json, run.json, samples.npz, {CHECKPOINT}, metrics.json")
    if trainer.stage == DIVERGED:
        print(trainer.stop_reason, file=sys.stderr)
        return 2
    return 0


def _finish(trainer: Trainer, src, tgt, out: Path, P, Q, ranks_agree: bool | None = None):
    """Save the kept flow, evaluate it and write metrics.json; returns the report."""
    flow = trainer.flow
    flow.meta.update({"source": src.label, "target": tgt.label})
    flow.save(out / "flow.pt")
    gaussians = (src.gaussian, tgt.gaussian) if src.gaussian and tgt.gaussian else None
    report = evaluate(flow, P, Q, gaussians=gaussians)
    summary = {"stage": trainer.stage, "stop_reason": trainer.stop_reason, "note": trainer.note,
               "train_seconds": trainer.elapsed, "world_size": getattr(trainer, "world_size", 1),
               "backend": getattr(trainer, "backend", None), "dist_coupling": getattr(trainer, "coupling", None), "ranks_agree": ranks_agree,
               "report": report.to_dict(),
               "history": [{"stage": m.stage, "step": m.step, "elapsed": m.elapsed, **m.losses} for m in trainer.history]}
    write_text(out / "metrics.json", json.dumps(summary, indent=1))
    return report


def cmd_evaluate(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    flow, P, Q = load_run(args)
    report = evaluate(flow, P, Q)
    print_result(report.to_dict(), args.json)
    return 0


def add_commands(sub) -> None:
    """``train`` and ``evaluate`` on the subparsers ``sub``."""
    train = sub.add_parser("train", help="train a flow from source to target samples",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--source", help=f"P (t = 0): {DATA_HELP}")
    train.add_argument("--target", help=f"Q (t = 1): {DATA_HELP}")
    train.add_argument("--out", help="run folder to write flow.pt, config.json, run.json, samples.npz, checkpoint.pt, "
                                     "metrics.json (and live.json while training)")
    train.add_argument("--resume", metavar="RUN", help="continue the run in this folder from its checkpoint.pt "
                                                       "(a step-counted run ends with the same flow as without the stop)")
    train.add_argument("--checkpoint-every", type=float, default=30.0, metavar="S",
                       help="seconds between checkpoints written to the run folder (0: only at the end)")
    train.add_argument("--n", "--samples", dest="n", type=int, default=4000,
                       help="samples drawn for generated data (under torchrun write --samples: torchrun takes --n "
                            "for its own --nnodes)")
    train.add_argument("--data-seed", type=int, default=0, help="seed of generated data (target uses seed+1)")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    train.add_argument("--dist-coupling", choices=list(COUPLINGS), default="rank",
                       help="under torchrun: warm-start couplings per rank ('rank') or of the all-gathered global "
                            "batch ('global'); --warm-batch is the global batch either way")
    train.add_argument("--log", "--logger", dest="log", choices=list(LOGGERS), default="none",
                       help="also log every metric of every step: 'tensorboard' writes event files "
                            "(tensorboard --logdir runs/); metrics.json is written either way (under torchrun write --logger)")
    train.add_argument("--log-dir", metavar="DIR", help="folder of the event files (default: the run folder)")
    train.add_argument("--seconds", dest="budget_s", type=float, default=argparse.SUPPRESS, metavar="S",
                       help="wall-clock budget of the whole training (the same as --budget-s)")
    add_config_flags(train, FlowConfig, "flow configuration (FlowConfig)")
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="print the report of a trained flow",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_run_flags(ev)
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    ev.set_defaults(func=cmd_evaluate)
