"""High-dimensional engine bench: Q-flow against its own warm start alone and against OT-CFM
(TorchCFM), each trained for the same wall time in one process, on pairs whose OT map is known.

    python -m bench.highdim                                   # everything (≈ 1 h 40 min on 2 CPU cores)
    python -m bench.highdim --cases gauss16 map16 --seeds 0 --budget 8 --out /tmp/hd.md   # a smoke run
    python -m bench.highdim --cases --scale                   # only the scale-in-n rows

Defaults: three seeds (0 1 2) at d ≤ 32 with ``--budget`` 90 s per run (``--budget-2d`` 15 s for the
2-D cases gauss2 and map2) and n = ``--n`` 8,000 points a side; one seed (0) at d ≥ 64 with
``--budget-high`` 240 s per run and n = ``--n-high`` 16,384 (the runs are timed, so a larger n costs
memory and set-up, not training time). ``--seeds`` sets the seeds of every case. Cases: see
bench/highdim_cases.py (a seed changes the pair, not only the samples).

Per case and seed, three methods: "Q-flow (default pipeline)" = otcore.Trainer with
FlowConfig(seed, budget_s = B), its wall time W measured around construction + training; "warm
start alone" = FlowConfig(seed, budget_s = W, refine_steps = 0); "OT-CFM (TorchCFM)" = bench.peer
for W seconds with FlowConfig's width, depth and warm-start batch. Every metric is on fresh points:
L2-UVP % of T̂ against the true map (100·E‖T̂ − T‖² / Var Q), cost / W₂² (mean kinetic energy along
the learned paths of P_test on a 32-step rk4 grid, over the true W₂²), straightness (path length /
chord on 33 points; 1 is straight), fit / floor (energy distance of T̂#P_test to Q_test over that of
an independent Q_test2 to Q_test). The markdown file is rewritten after every run (crash-safe).

The pipeline validates on held-out points at every tenth of each stage's time, never more often
than every four validation costs (one validation: 1,000 points both ways on the 8-step training grid).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

import otcore
from otcore.integrate import path_kinetic_energy
from otcore.metrics import energy_distance, straightness
from otcore.trainer import REFINE, WARM

from .highdim_cases import CASES, DIMS, Case, best_affine_l2uvp, gaussian_pair, l2_uvp, sample_gaussian, stream
from .peer import train_otcfm

#: torch's own thread count in this process, read before any trainer changes it
TORCH_DEFAULT_THREADS = torch.get_num_threads()
PIPELINE, WARM_ALONE, PEER = "Q-flow (default pipeline)", "warm start alone", "OT-CFM (TorchCFM)"
EVAL_TIMES = torch.linspace(0.0, 1.0, 33)
COLUMNS = {"seconds": ".0f", "l2uvp": ".2f", "cost_ratio": ".3f", "straightness": ".4f", "fit_ratio": ".2f"}
HEADS = {"seconds": "seconds", "l2uvp": "L2-UVP %", "cost_ratio": "cost / W₂²", "straightness": "straightness",
         "fit_ratio": "fit / floor"}


def budget_config(seed: int, seconds: float, threads: int | None, **changes) -> otcore.FlowConfig:
    """The pipeline's config for a run of ``seconds``; threads None: the engine's own rule."""
    return otcore.FlowConfig(seed=seed, budget_s=seconds, threads=threads or 0, **changes)


@dataclass
class Trained:
    """A trained transport in user units: trajectory(x: (n, d), times: (m,)) -> (m, n, d)."""
    trajectory: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    seconds: float
    note: str


@dataclass
class Run:
    case: str
    seed: int
    method: str
    seconds: float
    l2uvp: float
    cost_ratio: float
    straightness: float
    fit_ratio: float
    note: str


@dataclass
class CaseInfo:
    case: str
    seed: int
    dim: int
    n: int
    w2_squared: float
    q_variance: float
    best_affine: float


def stage_summary(trainer: otcore.Trainer) -> str:
    """Steps per stage, the trainer's note, and the refinement's own held-out gain if it ran."""
    parts = [f"{stage} {done}/{planned}" for stage, (done, planned) in trainer.progress().items()]
    refine = [v for stage, _, v in trainer.validations if stage == REFINE]
    if refine and trainer.best is not None:
        start = refine[0]
        parts.append(f"refine kept (held-out): cost {start.transport_cost:.3g}→{trainer.best.transport_cost:.3g}, "
                     f"fit {start.total_fit:.3g}→{trainer.best.total_fit:.3g}")
    parts += [text for text in (trainer.note, trainer.stop_reason) if text]
    return "; ".join(parts)


def train_pipeline(case: Case, config: otcore.FlowConfig, device: str) -> Trained:
    start = time.perf_counter()
    trainer = otcore.Trainer(case.P_train, case.Q_train, config, device)
    for _ in trainer.run():
        pass
    seconds = time.perf_counter() - start
    flow = trainer.flow
    note = f"{stage_summary(trainer)}; {torch.get_num_threads()} torch threads"
    return Trained(lambda x, t: flow.trajectory(x, t, solver="rk4", steps=32), seconds, note)


def train_peer(case: Case, seed: int, seconds: float, device: str, threads: int) -> Trained:
    c = otcore.FlowConfig()
    torch.set_num_threads(threads)
    peer = train_otcfm(case.P_train, case.Q_train, seconds, seed=seed, hidden=c.hidden, depth=c.depth,
                       batch=c.warm_batch, device=device)
    note = f"{peer.steps} steps ({peer.steps / peer.seconds:.1f}/s); {threads} torch threads"
    return Trained(peer.trajectory, peer.seconds, note)


@torch.no_grad()
def measure(case: Case, trained: Trained, truth: torch.Tensor, floor: float, seed: int, method: str) -> Run:
    path = trained.trajectory(case.P_test, EVAL_TIMES)
    cost = float(path_kinetic_energy(path, EVAL_TIMES).double().mean())
    return Run(case.name, seed, method, trained.seconds, l2_uvp(path[-1], truth, case.q_variance),
               cost / case.w2_squared, straightness(path), energy_distance(path[-1], case.Q_test) / floor, trained.note)


def bench_case(case: Case, seed: int, budget: float, device: str, threads: int | None,
               done: Callable[[Run], None]) -> None:
    """The three methods on one case, each for the wall time the pipeline took; threads None: the
    pipelines follow the engine's rule and the peer gets torch's default (it has no pairing thread)."""
    truth = case.true_map(case.P_test)
    floor = energy_distance(case.Q_test2, case.Q_test)
    full = train_pipeline(case, budget_config(seed, budget, threads), device)
    done(measure(case, full, truth, floor, seed, PIPELINE))
    alone = train_pipeline(case, budget_config(seed, full.seconds, threads, refine_steps=0), device)
    done(measure(case, alone, truth, floor, seed, WARM_ALONE))
    peer = train_peer(case, seed, full.seconds, device, threads or TORCH_DEFAULT_THREADS)
    done(measure(case, peer, truth, floor, seed, PEER))


# --- the report ---------------------------------------------------------------------------------
def spread(values: list[float], spec: str) -> str:
    if len(values) == 1:
        return format(values[0], spec)
    return f"{format(statistics.mean(values), spec)} ({format(min(values), spec)}–{format(max(values), spec)})"


def case_table(runs: list[Run]) -> list[str]:
    """One row per method (mean and min–max over seeds), then per-seed ratios Q-flow / peer."""
    lines = ["| method | " + " | ".join(HEADS.values()) + " |", "|---" * (len(HEADS) + 1) + "|"]
    by = {(r.method, r.seed): r for r in runs}
    for method in (PIPELINE, WARM_ALONE, PEER):
        rows = [r for r in runs if r.method == method]
        if rows:
            lines.append(f"| {method} | " + " | ".join(spread([getattr(r, k) for r in rows], spec)
                                                      for k, spec in COLUMNS.items()) + " |")
    for label, other in (("Q-flow / OT-CFM", PEER), ("Q-flow / warm start", WARM_ALONE)):
        pairs = [(by[PIPELINE, s], by[other, s]) for m, s in by if m == other and (PIPELINE, s) in by]
        if pairs:
            ratios = (spread([getattr(a, k) / getattr(b, k) for a, b in pairs], ".2f") for k in COLUMNS)
            lines.append(f"| **{label}** | " + " | ".join(ratios) + " |")
    return lines


def report(header: list[str], infos: list[CaseInfo], runs: list[Run], scale: list[str]) -> str:
    lines = list(header)
    for name in dict.fromkeys(i.case for i in infos):
        mine = [i for i in infos if i.case == name]
        seeds = " ".join(str(i.seed) for i in mine)
        lines += ["", f"## {name} (d = {mine[0].dim}, n = {mine[0].n:,} a side, seeds {seeds})",
                  "", *case_table([r for r in runs if r.case == name])]
    lines += ["", "## Cases as drawn", "", "| case | seed | W₂² | Var(Q) | best affine map L2-UVP % |",
              "|---|---|---|---|---|"]
    lines += [f"| {i.case} | {i.seed} | {i.w2_squared:.3f} | {i.q_variance:.2f} | {i.best_affine:.2f} |" for i in infos]
    lines += ["", "## Every run", "", "| case | seed | method | " + " | ".join(HEADS.values()) + " | notes |",
              "|---" * (len(HEADS) + 4) + "|"]
    lines += [raw_row(r) for r in runs]
    if scale:
        lines += ["", "## Scale in n (gauss32, warm start alone, FlowConfig(budget_s=20, refine_steps=0))", "", *scale]
    return "\n".join(lines) + "\n"


def raw_row(r: Run) -> str:
    values = " | ".join(format(getattr(r, k), spec) for k, spec in COLUMNS.items())
    return f"| {r.case} | {r.seed} | {r.method} | {values} | {r.note} |"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def machine_header(args: argparse.Namespace, argv: list[str]) -> list[str]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    return ["# High-dimensional engine bench", "",
            f"{time.strftime('%Y-%m-%d %H:%M')} · {platform.platform()} · {platform.processor() or platform.machine()} · "
            f"{os.cpu_count()} CPUs · torch {torch.__version__} · torch threads: {torch.get_num_threads()} "
            f"({'--threads' if args.threads else 'torch default; the pipelines follow the engine rule'}) · "
            f"device {args.device} · commit {commit or '?'} (working tree may differ)", "",
            "Command: `python -m bench.highdim " + " ".join(argv) + "`", "",
            "Columns: seconds = wall time of training; L2-UVP % = 100·E‖T̂ − T‖²/Var(Q) against the true map; "
            "cost / W₂² = mean kinetic energy of the learned P_test paths (32-step rk4) over the true W₂²; "
            "straightness = path length / chord (1 is straight); fit / floor = energy distance(T̂#P_test, Q_test) "
            "over energy distance(Q_test2, Q_test). Mean (min–max) over seeds; ratio rows are per-seed ratios. "
            "Notes: steps per stage, the refinement's own held-out gain, torch threads of each method."]


# --- scale in n ---------------------------------------------------------------------------------
def vm_hwm_mb() -> float:
    """Peak resident memory of this process so far (Linux /proc/self/status VmHWM), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scale_worker(n: int, seconds: float, device: str, threads: int | None) -> dict:
    """One warm-start run on gauss32 with n points a side, in a fresh process (run by scale_rows)."""
    p, q = gaussian_pair(32, 0)
    P, Q = sample_gaussian(p, n, stream(9, 32, n, 1)), sample_gaussian(q, n, stream(9, 32, n, 2))
    before = vm_hwm_mb()
    start = time.perf_counter()
    trainer = otcore.Trainer(P, Q, budget_config(0, seconds, threads, refine_steps=0), device)
    for _ in trainer.run():
        pass
    wall = time.perf_counter() - start
    warm = [m for m in trainer.history if m.stage == WARM]
    return {"n": n, "wall": wall, "steps": len(warm), "steps_per_s": len(warm) / warm[-1].elapsed,
            "hwm_before": before, "hwm_increase": vm_hwm_mb() - before}


def scale_rows(seconds: float, device: str, threads: int | None, log: Callable[[str], None]) -> list[str]:
    lines = ["| n a side | wall s | warm-start steps | steps/s (validations included) | peak RSS before training MiB "
             "| peak RSS increase MiB |", "|---|---|---|---|---|---|"]
    for n in (4000, 100_000):
        cmd = [sys.executable, "-m", "bench.highdim", "--scale-worker", str(n), "--budget", str(seconds),
               "--device", device] + ([] if threads is None else ["--threads", str(threads)])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        lines.append(f"| {n:,} | {r['wall']:.1f} | {r['steps']} | {r['steps_per_s']:.1f} | {r['hwm_before']:.0f} | "
                     f"{r['hwm_increase']:.0f} |")
        log(lines[-1])
    return lines


# --- driving ------------------------------------------------------------------------------------
def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.highdim", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--seeds", nargs="+", type=int, default=None, help="default: 0 1 2 at d ≤ 32, 0 at d ≥ 64")
    parser.add_argument("--budget", type=float, default=90.0, help="seconds per run at d ≤ 32")
    parser.add_argument("--budget-high", type=float, default=240.0, help="seconds per run at d ≥ 64")
    parser.add_argument("--budget-2d", type=float, default=15.0, help="seconds per run of the 2-D cases (gauss2, map2)")
    parser.add_argument("--n", type=int, default=8000, help="training points a side at d ≤ 32")
    parser.add_argument("--n-high", type=int, default=16384, help="training points a side at d ≥ 64")
    parser.add_argument("--n-test", type=int, default=8000, help="fresh evaluation points")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads of every method (default: the engine's rule for Q-flow, torch's for the peer)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/highdim.md"))
    parser.add_argument("--scale", action="store_true", help="add the scale-in-n rows (gauss32, n = 4,000 and 100,000)")
    parser.add_argument("--scale-worker", type=int, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.scale_worker is not None:
        print(json.dumps(scale_worker(args.scale_worker, args.budget, args.device, args.threads)))
        return
    log = lambda text: print(text, flush=True)  # noqa: E731
    header = machine_header(args, argv)
    log("\n".join(header))
    infos: list[CaseInfo] = []
    runs: list[Run] = []
    scale: list[str] = []
    save = lambda: write_atomic(args.out, report(header, infos, runs, scale))  # noqa: E731

    def done(run: Run) -> None:
        runs.append(run)
        log(raw_row(run))
        save()

    for name in args.cases:
        high = DIMS[name] >= 64
        for seed in args.seeds if args.seeds is not None else ([0] if high else [0, 1, 2]):
            n = args.n_high if high else args.n
            case = CASES[name](seed=seed, n=n, n_test=args.n_test)
            infos.append(CaseInfo(name, seed, case.dim, n, case.w2_squared, case.q_variance, best_affine_l2uvp(case)))
            log(f"\n{name} seed {seed}: W₂² = {case.w2_squared:.3f}, Var(Q) = {case.q_variance:.2f}, "
                f"best affine map L2-UVP = {infos[-1].best_affine:.2f} %")
            budget = args.budget_high if high else args.budget_2d if DIMS[name] == 2 else args.budget
            bench_case(case, seed, budget, args.device, args.threads, done)
        log("\n".join(["", *case_table([r for r in runs if r.case == name])]))
    if args.scale:
        log("\nscale in n:")
        scale = scale_rows(20.0, args.device, args.threads, log)
        save()
    log(f"\nwritten {args.out}")


if __name__ == "__main__":
    main()
