"""Command line: ``python -m otcore train | evaluate | ratio | mi | density | train-images | translate``
(``--help`` on each)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import MISSING, fields
from pathlib import Path

import numpy as np
import torch

from .config import FlowConfig
from .evaluate import evaluate
from .files import read_state, save_state, write_atomic, write_text
from .flow import OTFlow
from .sources import resolve_source
from .trainer import DIVERGED, Trainer


CHECKPOINT = "checkpoint.pt"


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("flow configuration (FlowConfig)")
    for f in fields(FlowConfig):
        kind = {"int": int, "float": float, "str": str}.get(str(f.type))
        default = f.default if f.default is not MISSING else None
        flag = "--" + f.name.replace("_", "-")
        help_text = f"{f.metadata.get('help', '')} (default: {default})".replace("%", "%%")
        if str(f.type) == "bool":
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_text)
        else:
            group.add_argument(flag, type=kind, default=argparse.SUPPRESS, metavar=f.name.upper(), help=help_text)


def _config_from_args(args: argparse.Namespace) -> FlowConfig:
    chosen = {f.name: getattr(args, f.name) for f in fields(FlowConfig) if hasattr(args, f.name)}
    return FlowConfig(**chosen)


class _Progress:
    """A one-line text progress bar per stage on stderr."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width, self._last = stream, width, 0.0

    def __call__(self, m, final: bool = False) -> None:
        now = time.perf_counter()
        if not final and now - self._last < 0.2 and m.step != m.stage_steps:
            return
        self._last = now
        frac = m.step / max(1, m.stage_steps)
        bar = "#" * int(frac * self.width)
        extra = f"cost {m.transport_cost:.4g} fit {m.fit:.3g}" if m.fit is not None else ""
        self.stream.write(f"\r{m.stage:>10} [{bar:<{self.width}}] {m.step}/{m.stage_steps} "
                          f"{m.steps_per_s:6.1f} it/s {extra:<30}")
        if m.step == m.stage_steps:
            self.stream.write("\n")
        self.stream.flush()


def _start_run(args: argparse.Namespace, out: Path):
    """A new run: resolve the data, write config.json, run.json and samples.npz before training."""
    if not (args.source and args.target):
        raise ValueError("give --source and --target (or --resume RUN_FOLDER)")
    config = _config_from_args(args)
    src = resolve_source(args.source, args.n, args.data_seed)
    tgt = resolve_source(args.target, args.n, args.data_seed + 1)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "config.json", json.dumps(config.to_dict(), indent=2))
    write_text(out / "run.json", json.dumps({"source": args.source, "target": args.target, "n": args.n,
                                             "data_seed": args.data_seed}, indent=2))
    write_atomic(out / "samples.npz", lambda handle: np.savez(handle, P=src.samples.numpy(), Q=tgt.samples.numpy()))
    return Trainer(src.samples, tgt.samples, config, device=args.device), src, tgt


def _resume_run(args: argparse.Namespace, out: Path):
    """A run continued from out/checkpoint.pt on the run's own samples.npz."""
    if not (out / CHECKPOINT).exists():
        raise ValueError(f"{out} holds no {CHECKPOINT} to resume from")
    spec = json.loads((out / "run.json").read_text())
    with np.load(out / "samples.npz", allow_pickle=False) as data:
        P, Q = torch.as_tensor(data["P"]), torch.as_tensor(data["Q"])
    src = resolve_source(spec["source"], spec["n"], spec["data_seed"])
    tgt = resolve_source(spec["target"], spec["n"], spec["data_seed"] + 1)
    checkpoint = read_state(out / CHECKPOINT, ValueError, "a training checkpoint")
    return Trainer.resume(P, Q, checkpoint, device=args.device), src, tgt


def cmd_train(args: argparse.Namespace) -> int:
    out = Path(args.resume or args.out or "")
    if not (args.resume or args.out):
        raise ValueError("give --out RUN_FOLDER (or --resume RUN_FOLDER)")
    trainer, src, tgt = _resume_run(args, out) if args.resume else _start_run(args, out)
    P, Q = trainer.data
    progress = _Progress()
    saved = time.perf_counter()
    for m in trainer.run():
        progress(m)
        if args.checkpoint_every > 0 and time.perf_counter() - saved >= args.checkpoint_every:
            save_state(trainer.checkpoint(), out / CHECKPOINT)
            saved = time.perf_counter()
    save_state(trainer.checkpoint(), out / CHECKPOINT)
    flow = trainer.flow
    flow.meta.update({"source": src.label, "target": tgt.label})
    flow.save(out / "flow.pt")
    gaussians = (src.gaussian, tgt.gaussian) if src.gaussian and tgt.gaussian else None
    report = evaluate(flow, P, Q, gaussians=gaussians)
    summary = {"stage": trainer.stage, "stop_reason": trainer.stop_reason, "note": trainer.note,
               "train_seconds": trainer.elapsed,
               "report": report.to_dict(),
               "history": [{"stage": m.stage, "step": m.step, "elapsed": m.elapsed, **m.losses} for m in trainer.history]}
    write_text(out / "metrics.json", json.dumps(summary, indent=1))
    _print_report(report)
    print(f"wrote {out / 'flow.pt'}, config.json, run.json, samples.npz, {CHECKPOINT}, metrics.json")
    if trainer.stage == DIVERGED:
        print(trainer.stop_reason, file=sys.stderr)
        return 2
    return 0


def _print_report(report) -> None:
    for key, value in report.to_dict().items():
        if value is not None:
            print(f"{key:>16}: {value:.6g}" if isinstance(value, float) else f"{key:>16}: {value}")


def load_run(args: argparse.Namespace) -> tuple[OTFlow, torch.Tensor, torch.Tensor]:
    """The flow of ``args.run`` (a run folder or a flow.pt) and its P, Q: from ``--source/--target``
    when given, else the run folder's samples.npz (read without pickles)."""
    run = Path(args.run)
    flow = OTFlow.load(run / "flow.pt" if run.is_dir() else run)
    samples_file = run / "samples.npz"
    if args.source and args.target:
        P = resolve_source(args.source, args.n, args.data_seed).samples
        Q = resolve_source(args.target, args.n, args.data_seed + 1).samples
    elif samples_file.exists():
        with np.load(samples_file, allow_pickle=False) as data:
            P, Q = torch.as_tensor(data["P"]), torch.as_tensor(data["Q"])
    else:
        raise ValueError("give --source and --target: the run folder holds no samples.npz")
    return flow, P, Q


def add_run_flags(parser: argparse.ArgumentParser, data_help: str) -> None:
    """The run folder and the optional data that replaces its samples (evaluate, ratio)."""
    parser.add_argument("run", help="a run folder written by train (or a flow.pt file)")
    parser.add_argument("--source", help=f"P to use instead of the run's samples: {data_help}")
    parser.add_argument("--target", help="Q to use instead of the run's samples (with --source)")
    parser.add_argument("--n", type=int, default=4000, help="samples drawn for generated data")
    parser.add_argument("--data-seed", type=int, default=0, help="seed of generated data")
    parser.add_argument("--threads", type=int, default=max(1, torch.get_num_threads()), help="CPU threads for torch")


def cmd_evaluate(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    flow, P, Q = load_run(args)
    report = evaluate(flow, P, Q)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m otcore", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    data_help = "a toy name (moons, 8gaussians, ...), gauss:D[:SEED] for a random D-dim Gaussian, or a CSV/.npy/.npz file"

    train = sub.add_parser("train", help="train a flow from source to target samples",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--source", help=f"P (t = 0): {data_help}")
    train.add_argument("--target", help=f"Q (t = 1): {data_help}")
    train.add_argument("--out", help="run folder to write flow.pt, config.json, run.json, samples.npz, checkpoint.pt, "
                                     "metrics.json")
    train.add_argument("--resume", metavar="RUN", help="continue the run in this folder from its checkpoint.pt "
                                                       "(a step-counted run ends with the same flow as without the stop)")
    train.add_argument("--checkpoint-every", type=float, default=30.0, metavar="S",
                       help="seconds between checkpoints written to the run folder (0: only at the end)")
    train.add_argument("--n", type=int, default=4000, help="samples drawn for generated data")
    train.add_argument("--data-seed", type=int, default=0, help="seed of generated data (target uses seed+1)")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    train.add_argument("--seconds", dest="budget_s", type=float, default=argparse.SUPPRESS, metavar="S",
                       help="wall-clock budget of the whole training (the same as --budget-s)")
    _add_config_flags(train)
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="print the report of a trained flow",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_run_flags(ev, data_help)
    ev.add_argument("--json", action="store_true", help="print the report as JSON")
    ev.set_defaults(func=cmd_evaluate)

    from .dre.cli import add_density_command, add_mi_command, add_ratio_command
    from .images.cli import add_train_images_command, add_translate_command

    add_ratio_command(sub, data_help)
    add_mi_command(sub)
    add_density_command(sub)
    add_train_images_command(sub)
    add_translate_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
