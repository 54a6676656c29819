"""Speed of distributed training: 1 process vs torchrun with N processes, the same global batch.

    python -m bench.distributed --dim 64 --steps 300 --procs 1 2 --out bench/results/distributed.md

Every run trains the warm start alone (the same global batch, step-counted) on a Gaussian pair of
dimension ``--dim`` through the real CLI (`python -m otcore train`, or `torchrun -m otcore train`),
and the table gives steps/s of training (from metrics.json) and the job's wall time (start-up,
rendezvous and the final report included), with ratios against the plain one-process run measured
in the same invocation. On a 2-core CPU two processes share the two cores that one process and its
pairing thread already use, so expect little; on a multi-GPU machine pass --device cuda.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from otcore.files import write_text


def run(procs: int, args, out: Path) -> dict:
    flags = ["train", "--source", f"gauss:{args.dim}", "--target", f"gauss:{args.dim}:1", "--samples", str(args.n),
             "--warm-steps", str(args.steps), "--warm-batch", str(args.batch), "--refine-steps", "0",
             "--checkpoint-every", "0", "--device", args.device, "--out", str(out)]
    if procs == 0:
        cmd = [sys.executable, "-m", "otcore", *flags]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}", "-m", "otcore",
               *flags, "--dist-coupling", args.coupling]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "OTFLOW_TORCH_THREADS": str(args.threads)}
    began = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - began
    metrics = json.loads((out / "metrics.json").read_text())
    return {"label": "python -m otcore (no torchrun)" if procs == 0 else f"torchrun, {procs} process(es)",
            "world_size": metrics["world_size"], "backend": metrics["backend"] or "–",
            "steps_per_s": args.steps / metrics["train_seconds"], "wall_s": wall,
            "fit": metrics["report"]["fit"], "cost": metrics["report"]["transport_cost"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--n", type=int, default=8000, help="samples a side")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=512, help="global batch")
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2], help="torchrun process counts")
    p.add_argument("--coupling", default="rank", choices=["rank", "global"])
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch threads per process")
    p.add_argument("--out", help="also write the table (markdown) here")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for procs in [0, *args.procs]:
            rows.append(run(procs, args, Path(tmp) / f"p{procs}"))
            print(f"{rows[-1]['label']}: {rows[-1]['steps_per_s']:.1f} steps/s", file=sys.stderr)
    ref = rows[0]
    lines = [f"d = {args.dim}, n = {args.n} a side, {args.steps} warm-start steps, global batch {args.batch}, "
             f"coupling '{args.coupling}', device {args.device}, {args.threads} torch thread(s) per process; "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}",
             "", "| run | world_size | backend | steps/s | × ref | wall s | × ref | held-out fit | cost |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['label']} | {r['world_size']} | {r['backend']} | {r['steps_per_s']:.1f} | "
                     f"{r['steps_per_s'] / ref['steps_per_s']:.2f} | {r['wall_s']:.1f} | {r['wall_s'] / ref['wall_s']:.2f} | "
                     f"{r['fit']:.4g} | {r['cost']:.4g} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        write_text(args.out, table + "\n")


if __name__ == "__main__":
    main()
