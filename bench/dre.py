"""Density-ratio benchmark (issue 4): infinitesimal density-ratio estimation on a flow's bridge.

    python -m bench.dre                                  # everything below (≈ 1 h on a quiet 2-core CPU)
    python -m bench.dre --parts mi --dims 80 --seeds 0   # one mutual-information case (≈ 5 min)
    python -m bench.dre --parts gauss digits             # the 2-D Gaussian pair and the digits density

Parts:

* gauss: a 2-D Gaussian pair; log q − log p on samples of P and Q against the closed form for the
  bridge estimator, the one-step classifier and kernel density estimates (MAE, bias, correlation);
* mi: correlated Gaussians (docs/method.md §6: d/2 pairs with correlation ρ, MI = d/4 nats, so ρ is the
  same in every row), 20,000 joint samples; estimate_mutual_information with its defaults (the same
  for every d; nothing about the answer is used) and the one-step classifier on the same held-out
  pairs; signed relative errors. ``--tasks warped`` applies x ↦ x³ + x to every x coordinate and
  y ↦ eʸ to every y coordinate: skewed, heavy-tailed marginals, the same MI (MI does not change under
  an invertible map of each coordinate); ``--tasks student`` divides the pairs by one common
  √(w/3), w ~ χ²₃ (a multivariate t: dependence no per-coordinate map makes Gaussian; MI by Monte
  Carlo on 200,000 draws with the exact densities). ``--single-seed-dims 320`` adds dimensions run on
  seed 0 only;
* digits: energy-based density of scikit-learn's 8×8 digits (dequantised, 64-D): held-out bits per
  dimension of the fitted Gaussian alone, Gaussian × one-step ratio, Gaussian × bridge ratio;
* samples: new digits from that energy model (otcore.dre.sampling) by each sampler against the base's
  samples and real training digits: energy distance to the held-out digits, SIR's effective sample size,
  MALA's acceptance, seconds (``--energy-flow-steps/--energy-steps`` size the model; sampler seeds 0-2).
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

import otcore
from otcore.dre import (DensityRatioConfig, EnergyDensityRun, estimate_mutual_information, fit_density_ratio,
                        fit_energy_density, fit_one_step_ratio, gaussian_log_ratio, kernel_log_ratio,
                        load_digits_dequantized)
from otcore.dre.config import BRIDGE_FLOW
from otcore.dre.energy_model import DIGITS_META, EnergyModel
from otcore.dre.maps import errors_against
from otcore.dre.sample_quality import sample_quality
from otcore.dre.sampling import SamplerConfig, base_sampler, effective_sample_size, resample, sample_model

#: the samplers compared (name -> config without its seed); "default" is SamplerConfig()'s
SAMPLERS = {"base p alone": dict(proposals=1, mala_steps=0), "SIR ×64": dict(proposals=64, mala_steps=0),
            "SIR ×512": dict(proposals=512, mala_steps=0), "MALA 20 from p (default)": {},
            "MALA 100 from p": dict(mala_steps=100), "SIR ×64 + MALA 20": dict(proposals=64),
            "SIR ×64 + MALA 100": dict(proposals=64, mala_steps=100)}


def gauss_part(log) -> list[str]:
    p = otcore.Gaussian(np.array([0.0, 0.0]), np.array([[1.0, 0.3], [0.3, 0.5]]))
    q = otcore.Gaussian(np.array([2.0, 1.0]), np.array([[0.6, -0.2], [-0.2, 1.2]]))
    P, Q = p.sample(4000, seed=0), q.sample(4000, seed=1)
    t0 = time.perf_counter()
    flow = otcore.fit_flow(P, Q, otcore.FlowConfig(warm_steps=1500, refine_steps=0), device="cpu")
    t1 = time.perf_counter()
    ratio = fit_density_ratio(flow, P, Q, DensityRatioConfig())
    t2 = time.perf_counter()
    one = fit_one_step_ratio(P, Q, DensityRatioConfig())
    t3 = time.perf_counter()
    x = torch.cat([p.sample(2000, seed=5), q.sample(2000, seed=6)])
    truth = gaussian_log_ratio(p, q, x)
    err = errors_against(truth, {"bridge (infinitesimal)": ratio.log_ratio(x), "one step": one.log_ratio(x),
                                 "kernel (Scott)": kernel_log_ratio(P, Q, x)})
    half = errors_against(gaussian_log_ratio(p, q, x, 0.0, 0.5), {"bridge, t = ½": ratio.log_ratio(x, 0.0, 0.5)})
    lines = ["| estimator | MAE (nats) | bias (nats) | corr | seconds |", "|---|---|---|---|---|"]
    secs = {"bridge (infinitesimal)": f"{t2 - t1:.0f} (+ flow {t1 - t0:.0f})", "one step": f"{t3 - t2:.0f}", "kernel (Scott)": "<1"}
    for name, e in {**err, **half}.items():
        lines.append(f"| {name} | {e.mae:.3f} | {e.bias:+.3f} | {e.corr:.4f} | {secs.get(name, '')} |")
    lines.append(f"\n(truth: std of log q − log p on these points {float(truth.std()):.2f} nats)")
    for line in lines:
        log(line)
    return lines


def warped(z: torch.Tensor) -> torch.Tensor:
    """x ↦ x³ + x on the first half of the coordinates, y ↦ eʸ on the second: the same MI."""
    h = z.shape[1] // 2
    return torch.cat([z[:, :h] ** 3 + z[:, :h], torch.exp(z[:, h:])], 1)


STUDENT_DF = 3          # degrees of freedom of the Student-t task
STUDENT_TRUTH_SAMPLES = 200_000


def student(z: torch.Tensor, seed: int) -> torch.Tensor:
    """The correlated Gaussian pairs divided by one common √(w/ν), w ~ χ²_ν: a multivariate t with ν = 3.
    Its dependence is not Gaussian (no map of each coordinate makes it so), and its MI exceeds d/4."""
    w = np.random.default_rng(seed).chisquare(STUDENT_DF, size=(len(z), 1)) / STUDENT_DF
    return z / torch.as_tensor(np.sqrt(w), dtype=z.dtype)


def student_truth(d: int) -> float:
    """MI of the multivariate-t task by Monte Carlo on 200,000 fresh draws with the exact densities
    (its marginals are t with the same ν); the standard error is about 0.2 % of the value."""
    from scipy.stats import multivariate_t
    cov = otcore.correlated_pairs(d, d / 4).cov
    h = d // 2
    z = student(otcore.correlated_pairs(d, d / 4).sample(STUDENT_TRUTH_SAMPLES, seed=99), 98).double().numpy()
    joint = multivariate_t(np.zeros(d), cov, df=STUDENT_DF).logpdf(z)
    xs = multivariate_t(np.zeros(h), cov[:h, :h], df=STUDENT_DF).logpdf(z[:, :h])
    ys = multivariate_t(np.zeros(h), cov[h:, h:], df=STUDENT_DF).logpdf(z[:, h:])
    return float(np.mean(joint - xs - ys))


#: task -> (the map of the correlated Gaussian pairs (z, seed), the true MI at d)
TASKS = {"gaussian": (lambda z, seed: z, lambda d: d / 4), "warped": (lambda z, seed: warped(z), lambda d: d / 4),
         "student": (student, student_truth)}


def mi_part(dims: list[int], seeds: list[int], n: int, log, task: str = "gaussian", **estimator) -> list[str]:
    lines = ["| d | true MI | seed | estimate | error | ± s.e. | one step | error | flow s | ratio s | one-step s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    log(lines[0])
    summary = []
    transform, true_mi = TASKS[task]
    for d in dims:
        truth = true_mi(d)
        errs, ones = [], []
        for seed in seeds:
            z = transform(otcore.correlated_pairs(d, d / 4).sample(n, seed=1000 + seed), 2000 + seed)
            r = estimate_mutual_information(z[:, :d // 2], z[:, d // 2:], seed=seed, **estimator)
            e, o = r.estimate / truth - 1, r.one_step / truth - 1
            errs.append(e)
            ones.append(o)
            line = (f"| {d} | {truth:.2f} | {seed} | {r.estimate:.3f} | {100 * e:+.1f}% | {r.stderr:.3f} | "
                    f"{r.one_step:.3f} | {100 * o:+.1f}% | {r.flow_seconds:.0f} | {r.ratio_seconds:.0f} | "
                    f"{r.one_step_seconds:.0f} |")
            lines.append(line)
            log(line)
        summary.append(f"d = {d}: bridge mean {100 * statistics.mean(errs):+.1f}% (range {100 * min(errs):+.1f}% … "
                       f"{100 * max(errs):+.1f}%), one step mean {100 * statistics.mean(ones):+.1f}% "
                       f"(range {100 * min(ones):+.1f}% … {100 * max(ones):+.1f}%)")
    lines += [""] + summary
    for s in summary:
        log(s)
    return lines


def digits_part(seeds: list[int], log) -> list[str]:
    lines = ["| seed | Gaussian bits/dim | one-step bits/dim | bridge bits/dim | seconds |", "|---|---|---|---|---|"]
    log(lines[0])
    for seed in seeds:
        x = load_digits_dequantized(seed=seed)
        r = fit_energy_density(x, seed=seed)
        b = r.bits_per_dim
        line = f"| {seed} | {b['gaussian']:.3f} | {b['one_step']:.3f} | {b['infinitesimal']:.3f} | {r.seconds:.0f} |"
        lines.append(line)
        log(line)
    return lines


def flow_samples(model: EnergyModel, flow, n: int, seed: int) -> dict[str, tuple[torch.Tensor, str, float]]:
    """Samples through the bridge flow: T(x) for x ~ p (no correction), and x pushed to the last slice
    s = 1 − 1/M, resampled (SIR ×64) with the one interval left, exp ∫ₛ¹ r. name -> (samples, ESS, seconds)."""
    mu, A = base_sampler(model.base)
    gen = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    plain = flow.transport(mu + torch.randn(n, model.dim, generator=gen) @ A.T)
    t_plain = time.perf_counter() - started
    s = 1.0 - 1.0 / model.ratio.config.slices
    started = time.perf_counter()
    pushed = flow.flow_to(mu + torch.randn(64 * n, model.dim, generator=gen) @ A.T, 0.0, s)
    log_w = model.ratio.log_ratio(pushed, s, 1.0).double()
    picked = pushed[resample(log_w, n, gen)]
    return {"flow T(x), x ~ p (no correction)": (plain, "—", t_plain),
            f"flow to s = {s:.1f}, SIR ×64 on ∫ₛ¹ r": (picked, f"{effective_sample_size(log_w):.0f} / {64 * n:,}",
                                                       time.perf_counter() - started)}


def samples_rows(model: EnergyModel, flow, train: torch.Tensor, test: torch.Tensor, model_seed: int,
                 sampler_seeds: list[int], log, samplers: dict = SAMPLERS) -> list[str]:
    """One row per sampler and sampler seed: energy distance of len(test) samples to ``test``, beside
    the floor (as many real training digits)."""
    n, lines = len(test), []
    for seed in sampler_seeds:
        floor = sample_quality(train, train, train, test, seed=seed).real

        def row(name: str, x: torch.Tensor, ess: str, distinct: str, acc: str, sec: float) -> None:
            e = sample_quality(x, x, train, test, seed=seed).generated
            line = f"| {model_seed} | {seed} | {name} | {e:.3f} | {floor:.3f} | {ess} | {distinct} | {acc} | {sec:.1f} |"
            lines.append(line)
            log(line)

        for name, cfg in samplers.items():
            r = sample_model(model, n, SamplerConfig(seed=seed, **cfg))
            acc = "—" if r.acceptance != r.acceptance else f"{r.acceptance:.2f}"
            row(name, r.samples, f"{r.ess:.0f} / {r.proposals:,}", str(r.distinct), acc, r.seconds)
        if flow is not None:
            for name, (x, ess, sec) in flow_samples(model, flow, n, seed).items():
                row(name, x, ess, "—", "—", sec)
    return lines


SAMPLES_HEADER = ["| model seed | sampler seed | sampler | energy distance to held out | real-data floor | "
                  "ESS / proposals | distinct picks | MALA acceptance | seconds |", "|---|---|---|---|---|---|---|---|---|"]


def samples_part(seeds: list[int], flow_steps: int, steps: int, log) -> list[str]:
    lines = list(SAMPLES_HEADER)
    for line in lines:
        log(line)
    for seed in seeds:
        x = load_digits_dequantized(seed=seed)
        run = EnergyDensityRun(x, seed=seed, config=DensityRatioConfig(steps=steps),
                               flow_config=BRIDGE_FLOW.replace(warm_steps=flow_steps))
        r = run.finish()
        log(f"(model seed {seed}: {r.bits_per_dim['infinitesimal']:.3f} bits/dim held out, {r.seconds:.0f} s)")
        lines += samples_rows(EnergyModel.of(r, DIGITS_META), r.flow, run.data, run.test, seed, [0, 1, 2], log)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", nargs="+", default=["gauss", "mi", "digits", "samples"],
                    choices=["gauss", "mi", "digits", "samples"])
    ap.add_argument("--energy-flow-steps", type=int, default=BRIDGE_FLOW.warm_steps, help="samples: bridge flow steps")
    ap.add_argument("--energy-steps", type=int, default=DensityRatioConfig().steps, help="samples: ratio steps")
    ap.add_argument("--dims", nargs="+", type=int, default=[10, 20, 40, 80, 160], help="MI dimensions (MI = d/4 nats)")
    ap.add_argument("--single-seed-dims", nargs="*", type=int, default=[320], help="MI dimensions run on seed 0 alone")
    ap.add_argument("--tasks", nargs="+", default=["gaussian"], choices=list(TASKS), help="MI tasks")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--samples", type=int, default=20000, help="joint samples per MI task")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (the bench machine is shared)")
    ap.add_argument("--direction", default="product-to-joint", choices=["product-to-joint", "joint-to-product"],
                    help="the MI bridge's direction")
    ap.add_argument("--bridge", default="gaussian", choices=["gaussian", "flow"], help="the MI bridge")
    ap.add_argument("--marginals", default="normal-scores", choices=["normal-scores", "standardize"],
                    help="the MI estimator's per-coordinate transform")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()

    def log(line: str) -> None:
        print(line, flush=True)

    log(f"# bench.dre — {time.strftime('%Y-%m-%d %H:%M')} — {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"devices {list(otcore.available_devices())}")
    if "gauss" in args.parts:
        log("\n## 2-D Gaussian pair: log q − log p on 4,000 samples of P and Q against the closed form")
        gauss_part(log)
    if "mi" in args.parts:
        estimator = dict(direction=args.direction, bridge=args.bridge, marginals=args.marginals)
        for task in args.tasks:
            log(f"\n## Mutual information, {task} task, {args.samples} joint samples, {estimator}")
            mi_part(args.dims, args.seeds, args.samples, log, task, **estimator)
            if args.single_seed_dims:
                mi_part(args.single_seed_dims, args.seeds[:1], args.samples, log, task, **estimator)
    if "digits" in args.parts:
        log("\n## Energy-based density of the 8×8 digits (held-out 20%, bits per dimension)")
        digits_part(args.seeds, log)
    if "samples" in args.parts:
        log(f"\n## Samples of the digits' energy model ({len(SAMPLERS) + 2} samplers, n = held-out size)")
        samples_part(args.seeds, args.energy_flow_steps, args.energy_steps, log)
    log(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
