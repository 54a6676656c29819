"""Image-translation benchmark (issues 5 and 11): latent OT flows between digit classes, judged by a
ten-class digit classifier trained on images held out from the autoencoder's and the flow's; and
between drawn circles and squares (bench/images_shapes.py), measured against the drawn attributes.

    python -m bench.images                          # ours vs the plain-autoencoder baseline, 3 seeds (≈ 15 min)
    python -m bench.images --seeds 0 --configs ours # one config, one seed (≈ 3 min)
    python -m bench.images --configs vae2 vae8 vae16 vae4_kl03 ours_long --seeds 0    # ablations
    python -m bench.images --configs --shapes preset l8_kl01  # circles ↔ squares only (≈ 2 min of CPU a config and seed)

For every seed the digits are split per class (otcore.images.digits_split): 35% train the judge,
of the rest 30% are held-out translation sources and 70% train the autoencoder and the flow.
Pairs 3↔8, 1↔7, 0↔6, 4↔9, both directions. Columns (mean over seeds):

* target %: translations (t = 1) judged the target class; ceiling %: the target's own held-out
  reconstructions judged target; shift %: a latent mean shift z + (mean_B − mean_A) judged target;
* third ½ %: t = ½ frames judged neither class (SVM judge | 3-nearest-real-digits judge);
  source ½ %: t = ½ frames still judged the source class (50% is a crisp half-way switch);
  fade ½ %: the same for the naive pixel cross-fade toward the nearest target image; random fade:
  toward a random target image (SVM judge);
* cost/OT: latent kinetic energy of the flow over the exact discrete OT cost of the codes;
* cycle z, cycle px: A→B→A error, latent (relative to the codes' spread) and pixel RMS;
* diversity: spread of the translations over the spread of real held-out target digits (mean
  pairwise pixel distance; 1 = as varied as real digits, near 0 = one prototype); recon div: the
  same for the sources' reconstructions (t = 0); recon MSE: per pixel, held-out sources and targets.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time
from dataclasses import dataclass

import torch

from otcore.images import AEConfig, DigitJudge, digits_split, judge_direction, latent_flow_config
from otcore.images.translate import fit_translator

from .images_shapes import SHAPE_CONFIGS, run_shapes, shapes_table

PAIRS = [(3, 8), (1, 7), (0, 6), (4, 9)]


@dataclass(frozen=True)
class Setup:
    ae: AEConfig
    note: str


#: The configurations compared. 'ours' is the app's and the CLI's default.
CONFIGS = {
    "ours": Setup(AEConfig(), f"conv VAE, latent {AEConfig().latent}, β = {AEConfig().kl:g}, {AEConfig().steps} "
                              "autoencoder steps (the default)"),
    "plain16": Setup(AEConfig(latent=16, kl=0.0), "plain conv autoencoder, latent 16, 800 steps (the issue's baseline)"),
    "vae16": Setup(AEConfig(latent=16, kl=1.0), "conv VAE, latent 16, β = 1"),
    "vae8": Setup(AEConfig(latent=8, kl=1.0), "conv VAE, latent 8, β = 1"),
    "vae2": Setup(AEConfig(latent=2, kl=1.0), "conv VAE, latent 2, β = 1"),
    "vae4_kl03": Setup(AEConfig(latent=4, kl=0.3), "conv VAE, latent 4, β = 0.3"),
    "ours_long": Setup(AEConfig(steps=1500), "conv VAE, latent 4, β = 1, 1500 autoencoder steps"),
    "vae4_kl01": Setup(AEConfig(latent=4, kl=0.1), "conv VAE, latent 4, β = 0.1"),
    "vae8_kl03": Setup(AEConfig(latent=8, kl=0.3), "conv VAE, latent 8, β = 0.3"),
    "vae8_kl01": Setup(AEConfig(latent=8, kl=0.1), "conv VAE, latent 8, β = 0.1"),
    "vae16_kl01": Setup(AEConfig(latent=16, kl=0.1), "conv VAE, latent 16, β = 0.1"),
    "vae8_kl003": Setup(AEConfig(latent=8, kl=0.03), "conv VAE, latent 8, β = 0.03"),
    "vae16_kl003": Setup(AEConfig(latent=16, kl=0.03), "conv VAE, latent 16, β = 0.03"),
    "vae8_kl01_long": Setup(AEConfig(latent=8, kl=0.1, steps=1500), "conv VAE, latent 8, β = 0.1, 1500 steps"),
    "was_default": Setup(AEConfig(latent=4, kl=1.0), "conv VAE, latent 4, β = 1 (the default before issue 11)"),
    "vae4_kl01_dom5": Setup(AEConfig(latent=4, kl=0.1, domain_weight=5.0), "conv VAE, latent 4, β = 0.1, domain head 5"),
    "vae8_kl01_dom5": Setup(AEConfig(latent=8, kl=0.1, domain_weight=5.0), "conv VAE, latent 8, β = 0.1, domain head 5"),
    "vae8_kl01_dom20": Setup(AEConfig(latent=8, kl=0.1, domain_weight=20.0), "conv VAE, latent 8, β = 0.1, domain head 20"),
}
COLUMNS = ["judged_target", "third_class_half", "third_class_half_knn", "judged_source_half", "ceiling",
           "mean_shift", "crossfade_third_half", "crossfade_third_half_knn", "crossfade_random_third_half", "cost_ratio", "cycle_latent",
           "cycle_pixel", "diversity", "reconstruction_diversity", "reconstruction_error"]


def run_config(name: str, seeds: list[int], log, pairs: list[tuple[int, int]] = PAIRS) -> tuple[dict, float]:
    setup = CONFIGS[name]
    results: dict[tuple[str, bool], list[dict]] = {}
    seconds = []
    for seed in seeds:
        split = digits_split(seed)
        judge, knn = DigitJudge.from_split(split), DigitJudge.from_split(split, "knn")
        for a, b in pairs:
            start = time.perf_counter()
            xa, xb = split.part("train", a), split.part("train", b)
            tr = fit_translator(xa, xb, setup.ae.replace(seed=seed), latent_flow_config(setup.ae.latent, seed=seed))
            seconds.append(time.perf_counter() - start)
            for rev in (False, True):
                src = split.part("test", b if rev else a)
                r = judge_direction(tr, judge, knn, src, split.part("test", a if rev else b), xa if rev else xb, (a, b), rev)
                row = dict(r.__dict__, cost_ratio=r.transport_cost / r.exact_ot_cost)
                label = f"{b}→{a}" if rev else f"{a}→{b}"
                results.setdefault((label, rev), []).append(row)
                log(f"  [{name} seed {seed}] {label}: target {100 * r.judged_target:.0f}%  third ½ "
                    f"{100 * r.third_class_half:.0f}%  diversity {r.diversity:.2f}  ({seconds[-1]:.0f} s)")
    return results, statistics.mean(seconds)


def table(name: str, results: dict, seconds: float, seeds: list[int]) -> str:
    pct = lambda v: f"{100 * v:.1f}"  # noqa: E731
    lines = [f"### {name}: {CONFIGS[name].note}", "",
             f"seeds {', '.join(map(str, seeds))}; {seconds:.0f} s of training per pair (autoencoder + flow)", "",
             "| pair | target % | min seed % | third ½ % (svm \\| knn) | source ½ % | ceiling % | shift % "
             "| fade third ½ % (svm \\| knn) | random fade ½ % | cost/OT | cycle z | cycle px | diversity | recon div "
             "| recon MSE |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    means = {c: [] for c in COLUMNS}
    for (label, _), rows in results.items():
        m = {c: statistics.mean(r[c] for r in rows) for c in COLUMNS}
        for c in COLUMNS:
            means[c].append(m[c])
        worst = min(r["judged_target"] for r in rows)
        lines.append(f"| {label} | {pct(m['judged_target'])} | {pct(worst)} | {pct(m['third_class_half'])} \\| "
                     f"{pct(m['third_class_half_knn'])} | {pct(m['judged_source_half'])} | {pct(m['ceiling'])} | "
                     f"{pct(m['mean_shift'])} | {pct(m['crossfade_third_half'])} \\| {pct(m['crossfade_third_half_knn'])} "
                     f"| {pct(m['crossfade_random_third_half'])} | {m['cost_ratio']:.3f} | {m['cycle_latent']:.1e} | {m['cycle_pixel']:.3f} "
                     f"| {m['diversity']:.2f} | {m['reconstruction_diversity']:.2f} | {m['reconstruction_error']:.4f} |")
    avg = {c: statistics.mean(v) for c, v in means.items()}
    lines.append(f"| **mean** | **{pct(avg['judged_target'])}** | | **{pct(avg['third_class_half'])}** \\| "
                 f"{pct(avg['third_class_half_knn'])} | {pct(avg['judged_source_half'])} | {pct(avg['ceiling'])} | "
                 f"{pct(avg['mean_shift'])} | {pct(avg['crossfade_third_half'])} \\| {pct(avg['crossfade_third_half_knn'])} "
                 f"| {pct(avg['crossfade_random_third_half'])} | {avg['cost_ratio']:.3f} | {avg['cycle_latent']:.1e} | {avg['cycle_pixel']:.3f} "
                 f"| **{avg['diversity']:.2f}** | {avg['reconstruction_diversity']:.2f} | {avg['reconstruction_error']:.4f} |")
    worst_pair = min(means["judged_target"])
    checks = [("mean judged target ≥ 96%", avg["judged_target"] >= 0.96),
              ("every pair and direction ≥ 90% (mean over seeds)", worst_pair >= 0.90),
              ("third class at t = ½ ≤ 10%", avg["third_class_half"] <= 0.10),
              ("diversity ≥ 0.8", avg["diversity"] >= 0.8)]
    lines += ["", "Targets: " + "; ".join(f"{text} {'✓' if ok else '✗'}" for text, ok in checks)
              + f" (worst pair/direction {pct(worst_pair)}%)", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.images", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="*", default=["ours", "plain16"], choices=list(CONFIGS),
                        help="digit configurations (none: skip the digits)")
    parser.add_argument("--pairs", nargs="+", default=[f"{a}-{b}" for a, b in PAIRS], help="digit pairs, e.g. 3-8 4-9")
    parser.add_argument("--shapes", nargs="*", default=[], choices=list(SHAPE_CONFIGS),
                        help="circles ↔ squares configurations to run after the digits")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quiet", action="store_true", help="print the tables only")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    log = (lambda s: None) if args.quiet else (lambda s: print(s, flush=True))
    print(f"# Image translation bench — {time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} torch thread(s), torch {torch.__version__}\n", flush=True)
    pairs = [tuple(int(d) for d in p.split("-")) for p in args.pairs]
    for name in args.configs:
        results, seconds = run_config(name, args.seeds, log, pairs)
        print(table(name, results, seconds, args.seeds), flush=True)
    for name in args.shapes:
        results, seconds, accuracy = run_shapes(name, args.seeds, log)
        print(shapes_table(name, results, seconds, accuracy, args.seeds), flush=True)


if __name__ == "__main__":
    main()
