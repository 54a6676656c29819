"""Engine benchmark: Q-flow (warm start + refinement) against its own warm start alone at equal
wall time, on 2-D toys and Gaussian pairs, all in one process.

    python -m bench.flow                 # the full table (about 90 s of training per run)
    python -m bench.flow --budget 30     # a quicker table
    python -m bench.flow --cases gauss32 --budget 60

Columns: wall time, steps/s per stage, transport cost / exact discrete OT cost of the same samples,
transport cost / closed-form W₂² (Gaussians), fit = energy distance(T#P, Q) / noise floor (energy
distance between two independent samples of Q of the same size), L2-UVP (%) of the map (Gaussians).
"""
from __future__ import annotations

import argparse
import platform
import time
from dataclasses import dataclass

import torch

import otcore
from otcore.gaussians import Gaussian, l2_uvp, ot_map, random_gaussian, w2_squared
from otcore.metrics import energy_distance, exact_ot_cost

N = 4000


@dataclass
class Case:
    name: str
    P: torch.Tensor
    Q: torch.Tensor
    Q_fresh: torch.Tensor           # an independent sample of Q (noise floor)
    gaussians: tuple[Gaussian, Gaussian] | None = None


def toy_case(src: str, tgt: str) -> Case:
    return Case(f"{src}→{tgt}", otcore.sample(src, N, seed=0), otcore.sample(tgt, N, seed=1),
                otcore.sample(tgt, N, seed=2))


def gauss_case(dim: int) -> Case:
    p, q = random_gaussian(dim, seed=10 + dim), random_gaussian(dim, seed=20 + dim)
    return Case(f"gauss d={dim}", p.sample(N, seed=1), q.sample(N, seed=2), q.sample(N, seed=3), (p, q))


CASES = {
    "moons8g": lambda: toy_case("moons", "8gaussians"),
    "checkrings": lambda: toy_case("checkerboard", "rings"),
    "gaussspirals": lambda: toy_case("gaussian", "spirals"),
    "gauss2": lambda: gauss_case(2),
    "gauss8": lambda: gauss_case(8),
    "gauss32": lambda: gauss_case(32),
}


@dataclass
class Row:
    case: str
    method: str
    wall: float
    warm_rate: float
    refine_rate: float
    cost_vs_exact: float
    cost_vs_w2: float | None
    fit_vs_floor: float
    fit: float
    l2uvp: float | None


def measure(case: Case, trainer: otcore.Trainer, method: str, wall: float, exact: float, floor: float) -> Row:
    flow = trainer.flow
    with torch.no_grad():
        cost = float(flow.kinetic_energy(case.P).mean())
        TP = flow.transport(case.P)
    fit = energy_distance(TP, case.Q_fresh)
    w2 = uvp = None
    if case.gaussians:
        p, q = case.gaussians
        w2 = cost / w2_squared(p, q)
        uvp = l2_uvp(TP, ot_map(p, q, case.P), q)
    rates = {m.stage: m.steps_per_s for m in trainer.history}
    return Row(case.name, method, wall, rates.get("warm-start", 0.0), rates.get("refine", 0.0), cost / exact,
               w2, fit / floor, fit, uvp)


def run_trainer(case: Case, config: otcore.FlowConfig, device: str) -> tuple[otcore.Trainer, float]:
    trainer = otcore.Trainer(case.P, case.Q, config, device)
    start = time.perf_counter()
    for _ in trainer.run():
        pass
    return trainer, time.perf_counter() - start


def bench_case(case: Case, budget: float, device: str, refine_share: float, base: otcore.FlowConfig) -> list[Row]:
    exact, _ = exact_ot_cost(case.P, case.Q)
    floor = energy_distance(case.Q, case.Q_fresh)
    # calibrate step rates on this machine, this case
    probe = otcore.Trainer(case.P, case.Q, base.replace(warm_steps=60, refine_steps=4, classifier_warmup=20,
                                                        refine_min_dim=1), device)
    for _ in probe.run():
        pass
    rates = {m.stage: m.steps_per_s for m in probe.history}
    warm_rate, refine_rate = rates["warm-start"], rates["refine"]
    if case.P.shape[1] < base.refine_min_dim:  # the pipeline skips its refinement here: all time to stage 1
        refine_share = 0.0
    warm_steps = max(100, int(budget * (1 - refine_share) * warm_rate))
    refine_steps = int(budget * refine_share * refine_rate)
    full_cfg = base.replace(warm_steps=warm_steps, refine_steps=refine_steps)
    full, full_wall = run_trainer(case, full_cfg, device)
    rate = {m.stage: m.steps_per_s for m in full.history}["warm-start"]
    alone_cfg = base.replace(warm_steps=max(100, int(full_wall * rate)), refine_steps=0)
    alone, alone_wall = run_trainer(case, alone_cfg, device)
    return [measure(case, alone, "warm start alone", alone_wall, exact, floor),
            measure(case, full, "Q-flow (warm + refine)", full_wall, exact, floor)]


def speed(case: Case, base: otcore.FlowConfig, device: str) -> str:
    """Step costs on this case: a refinement step against one forward+backward pass of the field
    over the same grid and batch; a warm-start step against one exact OT solve of its minibatch."""
    from otcore.integrate import grid, odeint_at, path_kinetic_energy
    from otcore.pairing import pair

    probe = otcore.Trainer(case.P, case.Q, base.replace(warm_steps=100, refine_steps=10, classifier_warmup=20,
                                                        refine_min_dim=1), device)
    for _ in probe.run():
        pass
    warm = [m for m in probe.history if m.stage == "warm-start"]
    refine = [m for m in probe.history if m.stage == "refine"]
    warm_ms = 1000 * (warm[-2].elapsed - warm[9].elapsed) / (len(warm) - 11)     # skip start-up and the stage switch
    refine_ms = 1000 * (refine[-1].elapsed - refine[1].elapsed) / (len(refine) - 2)
    field, times = probe.field, grid(base.blocks, base.steps_per_block)
    x = probe.P_train[: base.refine_batch]
    start = time.perf_counter()
    for _ in range(5):
        path = odeint_at(field, x, times, steps=len(times) - 1)
        path_kinetic_energy(path, times).mean().backward()
    fb_ms = 1000 * (time.perf_counter() - start) / 5
    xs, ys = case.P[: base.warm_batch], case.Q[: base.warm_batch]
    start = time.perf_counter()
    for i in range(5):
        pair(xs, ys, "exact", seed=i)
    ot_ms = 1000 * (time.perf_counter() - start) / 5
    return (f"| {case.name} | {refine_ms:.0f} | {fb_ms:.0f} | {refine_ms / fb_ms:.2f} | {warm_ms:.1f} | {ot_ms:.1f} |")


SPEED_HEAD = ("| case | refine step ms | fwd+bwd over grid ms | ratio | warm step ms | OT solve of its batch ms |\n"
              "|---|---|---|---|---|---|")


def fmt(x: float | None, spec: str) -> str:
    return "–" if x is None else format(x, spec)


def table(rows: list[Row]) -> str:
    head = ("| case | method | wall s | warm it/s | refine it/s | cost / exact OT | cost / W₂² | fit / floor | L2-UVP % |\n"
            "|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        lines.append(f"| {r.case} | {r.method} | {r.wall:.0f} | {r.warm_rate:.0f} | {fmt(r.refine_rate or None, '.2f')} | "
                     f"{r.cost_vs_exact:.3f} | {fmt(r.cost_vs_w2, '.3f')} | {r.fit_vs_floor:.2f} | {fmt(r.l2uvp, '.2f')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--budget", type=float, default=90.0, help="seconds of training per run")
    parser.add_argument("--refine-share", type=float, default=0.35, help="share of the budget given to refinement")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# {time.strftime('%Y-%m-%d')} · {platform.processor() or platform.machine()} · "
          f"{args.threads} threads · device {args.device} · budget {args.budget:.0f} s · n = {N} a side")
    base = otcore.FlowConfig()
    print("\nStep costs (the warm start's OT solves run in a background thread, off the critical path):")
    print(SPEED_HEAD)
    for name in args.cases:
        print(speed(CASES[name](), base, args.device), flush=True)
    print()
    rows: list[Row] = []
    for name in args.cases:
        case = CASES[name]()
        rows += bench_case(case, args.budget, args.device, args.refine_share, base)
        print("\n".join(table(rows[-2:]).splitlines()[-2:]), flush=True)
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
