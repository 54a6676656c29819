"""``ratio``, ``mi`` and ``density``: density-ratio estimation from the command line.

``ratio`` trains the time score on a trained flow's bridge (or reads a saved one) and writes
log q − log p at given points; ``mi`` estimates mutual information from paired files or a
correlated-Gaussian task; ``density`` fits the energy-based density of a data set (or the built-in
digits) and reports held-out bits per dimension beside the Gaussian base and the one-step ratio.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from ..dre.config import BRIDGE_FLOW, DensityRatioConfig
from ..dre.energy import fit_energy_density, load_digits_dequantized
from ..dre.energy_model import DIGITS_META, EnergyModel
from ..dre.mutual_information import BRIDGES, MARGINALS, MI_RATIO, SIGN, estimate_mutual_information
from ..dre.ratio import DensityRatio
from ..dre.trainer import DensityRatioTrainer
from ..files import write_atomic
from ..gaussians import correlated_pairs
from ..loading import load_samples
from .common import Bar, add_config_flags, add_run_flags, add_threads_flag, config_from_args, load_run, print_result


def _ratio_config(args: argparse.Namespace) -> DensityRatioConfig:
    return config_from_args(args, DensityRatioConfig)


def _bridge_flags(p: argparse.ArgumentParser) -> None:
    """The estimator builds its own bridge flow (mi, density): its length and the time score's."""
    p.add_argument("--flow-steps", type=int, default=BRIDGE_FLOW.warm_steps,
                   help="bridge flow (warm-start) steps, when the bridge is a trained flow")
    p.add_argument("--steps", type=int, default=DensityRatioConfig().steps, help="time-score training steps")


def _bridge_configs(args: argparse.Namespace, ratio: DensityRatioConfig = DensityRatioConfig()) -> dict:
    return dict(config=ratio.replace(steps=args.steps), flow_config=BRIDGE_FLOW.replace(warm_steps=args.flow_steps))


def add_commands(sub) -> None:
    """``ratio``, ``mi`` and ``density`` on the subparsers ``sub``."""
    add_ratio_command(sub)
    add_mi_command(sub)
    add_density_command(sub)


def add_ratio_command(subparsers) -> argparse.ArgumentParser:
    """``python -m otcore ratio runs/demo --points grid.csv --csv log_ratio.csv``."""
    p = subparsers.add_parser("ratio", help="train the density ratio log q − log p along a trained flow",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_run_flags(p)
    add_config_flags(p, DensityRatioConfig, "density-ratio configuration (DensityRatioConfig)")
    p.add_argument("--load", help="use this saved ratio.pt instead of training one")
    p.add_argument("--out", help="where to write the trained ratio (default: ratio.pt beside the flow)")
    p.add_argument("--points", help="CSV/.npy/.npz of points (n, d) at which to evaluate the log-ratio")
    p.add_argument("--csv", help="write the points and their log-ratio here (default: print them)")
    p.add_argument("--t0", type=float, default=0.0, help="log p_t1 − log p_t0 is evaluated …")
    p.add_argument("--t1", type=float, default=1.0, help="… between these times of the bridge")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_ratio)
    return p


def cmd_ratio(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    flow, P, Q = load_run(args)
    summary: dict = {}
    if args.load:
        ratio = DensityRatio.load(args.load)
    else:
        trainer = DensityRatioTrainer(flow, P, Q, _ratio_config(args))
        bar = Bar()
        for m in trainer.run():
            bar("ratio", m.step, m.steps, f"loss {m.loss:.4f}")
        if trainer.stop_reason:
            print(trainer.stop_reason, file=sys.stderr)
            return 2
        ratio = trainer.ratio
        run = Path(args.run)
        out = Path(args.out) if args.out else (run if run.is_dir() else run.parent) / "ratio.pt"
        ratio.save(out)
        summary = {"ratio": str(out), "steps": trainer.step_count, "seconds": round(trainer.elapsed, 2)}
        if trainer.best is not None:
            summary.update(held_out_loss_per_interval=trainer.best.loss, kl_p_q=trainer.best.kl_pq,
                           kl_q_p=trainer.best.kl_qp)
    if args.points:
        x = load_samples(args.points)
        values = ratio.log_ratio(x, args.t0, args.t1)
        table = np.column_stack([x.numpy(), values.numpy()])
        header = ",".join([f"x{i + 1}" for i in range(x.shape[1])] + ["log_ratio"])
        if args.csv:
            write_atomic(args.csv, lambda handle: np.savetxt(handle, table, delimiter=",", header=header, comments="",
                                                            fmt="%.6g"))
            summary["csv"] = args.csv
        else:
            print(header)
            for row in table:
                print(",".join(f"{v:.6g}" for v in row))
    if summary:
        print_result(summary, args.json, width=26)
    return 0


def add_mi_command(subparsers) -> argparse.ArgumentParser:
    """``python -m otcore mi --x x.csv --y y.csv`` or ``python -m otcore mi --task 20:5``."""
    p = subparsers.add_parser("mi", help="estimate the mutual information of paired samples (nats)",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--x", help="CSV/.npy/.npz of x (n, dx); row i is paired with row i of --y")
    p.add_argument("--y", help="CSV/.npy/.npz of y (n, dy)")
    p.add_argument("--task", help="instead of files, correlated Gaussians D:MI (D even, MI in nats): "
                   "D/2 pairs of standard normals with one correlation, e.g. 20:5")
    p.add_argument("--n", type=int, default=20000, help="joint samples drawn for --task")
    p.add_argument("--seed", type=int, default=0, help="seed of the estimate (and of --task's samples)")
    p.add_argument("--no-one-step", action="store_true", help="skip the one-step classifier baseline")
    p.add_argument("--direction", choices=list(SIGN), default="product-to-joint",
                   help="the bridge: from the product of marginals to the joint pairs, or back (docs/method.md §4)")
    p.add_argument("--bridge", choices=list(BRIDGES), default="gaussian",
                   help="the McCann path between the two ends' Gaussian fits (closed form), or a trained bridge flow")
    p.add_argument("--marginals", choices=list(MARGINALS), default="normal-scores",
                   help="per-coordinate transform first: normal scores (ranks → normal quantiles) or centre and scale")
    _bridge_flags(p)
    add_threads_flag(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_mi)
    return p


def _task(spec: str, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    try:
        dim, truth = spec.split(":")
        dim, truth = int(dim), float(truth)
    except ValueError:
        raise ValueError(f"bad --task {spec!r}; write D:MI, e.g. 20:5") from None
    z = correlated_pairs(dim, truth).sample(n, seed=1000 + seed)
    return z[:, :dim // 2], z[:, dim // 2:], truth


def cmd_mi(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    truth = None
    if args.task:
        x, y, truth = _task(args.task, args.n, args.seed)
    elif args.x and args.y:
        x, y = load_samples(args.x), load_samples(args.y)
    else:
        raise ValueError("give --x and --y (paired files) or --task D:MI")
    bar = Bar()
    r = estimate_mutual_information(x, y, one_step=not args.no_one_step, seed=args.seed, direction=args.direction,
                                    bridge=args.bridge, marginals=args.marginals, **_bridge_configs(args, MI_RATIO),
                                    callback=lambda m: bar(m.stage, m.step, m.stage_steps, f"loss {m.loss:.4f}"))
    out = {"estimate_nats": r.estimate, "stderr": r.stderr, "estimate_bits": r.bits, "one_step_nats": r.one_step,
           "truth_nats": truth, "n_train": r.n_train, "n_test": r.n_test, "seconds": round(r.seconds, 1)}
    if truth:
        out["relative_error"] = r.estimate / truth - 1
        if r.one_step is not None:
            out["one_step_relative_error"] = r.one_step / truth - 1
    print_result(out, args.json, width=24)
    return 0


def add_density_command(subparsers) -> argparse.ArgumentParser:
    """``python -m otcore density digits`` or ``python -m otcore density data.csv``."""
    p = subparsers.add_parser("density", help="energy-based density of a data set: Gaussian × density ratio",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("data", help="'digits' (scikit-learn's 8×8 digits, dequantised) or a CSV/.npy/.npz file")
    p.add_argument("--holdout", type=float, default=0.2, help="share of the data kept out to score the models")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and the training")
    p.add_argument("--out", help="also write the density ratio (ratio.pt) here")
    p.add_argument("--model", help="also write the energy model (base + ratio, e.g. energy.pt) here; "
                   "draw from it with sample-density")
    _bridge_flags(p)
    add_threads_flag(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_density)
    return p


def cmd_density(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    data = load_digits_dequantized(seed=args.seed) if args.data == "digits" else load_samples(args.data)
    bar = Bar()
    r = fit_energy_density(data, holdout=args.holdout, seed=args.seed, **_bridge_configs(args),
                           callback=lambda m: bar(m.stage, m.step, m.stage_steps, f"loss {m.loss:.4f}"))
    if args.out:
        r.ratio.save(args.out)
    if args.model:
        EnergyModel.of(r, DIGITS_META if args.data == "digits" else None).save(args.model)
    out = {"dim": r.dim, "n_train": r.n_train, "n_test": r.n_test, "seconds": round(r.seconds, 1),
           "nll_nats": r.nll, "bits_per_dim": r.bits_per_dim}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"held-out NLL on {r.n_test} points ({r.dim}-D), {r.seconds:.0f} s")
        for model in ("gaussian", "one_step", "infinitesimal"):
            if model in r.nll:
                print(f"{model:>14}: {r.nll[model]:10.3f} nats  {r.bits_per_dim[model]:7.4f} bits/dim")
    return 0
