"""Compare-page benchmark: every method of :mod:`otcore.compare` on one 2-D pair, with the total
wall time against the page's target (about a minute on 2 CPU cores).

    python -m bench.compare                       # moons → 8 Gaussians and a Gaussian pair, 12 s per flow
    python -m bench.compare --seconds 6 --cases gauss2

Columns are the Compare page's table: transport cost / exact discrete OT cost of the same points,
fit (energy distance to held-out Q), straightness (1 = straight), inversion error, seconds.
"""
from __future__ import annotations

import argparse
import platform
import time

import torch

import otcore
from otcore.compare import CompareConfig, Comparison, make_problem, table_rows

N = 4000
TARGET_S = 60.0   # the page's target for a whole 2-D comparison on 2 CPU cores


def cases() -> dict:
    p, q = otcore.random_gaussian(2, seed=12), otcore.random_gaussian(2, seed=22)
    return {"moons8g": (otcore.sample("moons", N, seed=0), otcore.sample("8gaussians", N, seed=1), None),
            "gauss2": (p.sample(N, seed=1), q.sample(N, seed=2), (p, q))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", default=["moons8g", "gauss2"], choices=list(cases()))
    parser.add_argument("--seconds", type=float, default=CompareConfig.flow_seconds, help="budget of each flow")
    args = parser.parse_args()
    print(f"# otcore.compare, {args.seconds:g} s per flow, {torch.get_num_threads()} torch thread(s), "
          f"{platform.processor() or platform.machine()}, {time.strftime('%Y-%m-%d')}\n")
    for name in args.cases:
        P, Q, gaussians = cases()[name]
        began = time.perf_counter()
        comparison = Comparison(make_problem(P, Q, CompareConfig(flow_seconds=args.seconds), gaussians=gaussians))
        for _ in comparison.run():
            pass
        total = time.perf_counter() - began
        print(f"## {name}: {total:.1f} s in all ({total / TARGET_S:.2f} × the {TARGET_S:.0f} s target)\n")
        print("| method | cost / exact | fit | straightness | inversion error | seconds |")
        print("|---|---|---|---|---|---|")
        for r in table_rows(comparison.results.values()):
            inv = "n/a" if r["inversion_error"] != r["inversion_error"] else f"{r['inversion_error']:.1e}"
            print(f"| {r['label']} | {r['cost_ratio']:.3f} | {r['fit']:.4f} | {r['straightness']:.4f} | {inv} | "
                  f"{r['seconds']:.1f} |")
        print()


if __name__ == "__main__":
    main()
