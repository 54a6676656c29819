"""The drawn-shapes part of ``python -m bench.images`` (``--shapes``): circles ↔ squares at 32 × 32
RGB, measured against the position, size and colour each source was drawn with.

Per seed: 400 circles and 400 squares train the autoencoder and the latent flow (the app's
built-in sets for seed 0); 200 more of each, drawn with seeds of their own, are the held-out
sources and the real targets. Columns (mean over seeds and both directions unless split):

* target %: translations judged the target shape (the geometric judge of
  otcore.images.shape_measure); ceiling %: the target's held-out reconstructions judged the target;
* pos px, size %, colour: mean error of the centre (pixels), the half-width (relative) and the
  colour (RGB distance, 0 … 1.73) read from the translation against the source's drawn attributes
  (p90 in brackets);
* diversity: spread of the translations / spread of real held-out targets (mean pairwise pixel
  distance); recon div: the same for the sources' reconstructions; recon MSE: per pixel, held out;
* seconds: autoencoder + flow training, one pair: wall time, and the process's CPU time (what an
  unshared core would take; the wall time is longer when other work shares the cores).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass


from otcore.images import AEConfig, draw_shapes, judge_shapes, latent_flow_config, measure_direction
from otcore.images.shapes import N_TRAIN, shape_seed
from otcore.images.translate import fit_translator

N_TEST = 200
RGB32 = AEConfig(size=32, channels=3)


@dataclass(frozen=True)
class ShapeSetup:
    ae: AEConfig
    note: str


#: Configurations compared on the shapes ('preset' is what the app and the CLI use for 32 × 32 RGB).
SHAPE_CONFIGS = {
    "preset": ShapeSetup(AEConfig.for_images(32, 3), "the 32 × 32 RGB preset of AEConfig.for_images"),
    "l8_kl1": ShapeSetup(RGB32.replace(latent=8, kl=1.0, width=16, batch=32), "latent 8, β = 1, width 16, batch 32"),
    "l8_kl03": ShapeSetup(RGB32.replace(latent=8, kl=0.3, width=16, batch=32), "latent 8, β = 0.3, width 16, batch 32"),
    "l8_kl01": ShapeSetup(RGB32.replace(latent=8, kl=0.1, width=16, batch=32),
                          "latent 8, β = 0.1, width 16, batch 32 (the preset until issue 11 item 5)"),
    "l16_kl01": ShapeSetup(RGB32.replace(latent=16, kl=0.1, width=16, batch=32), "latent 16, β = 0.1, width 16, batch 32"),
    "l4_kl01": ShapeSetup(RGB32.replace(latent=4, kl=0.1, width=16, batch=32), "latent 4, β = 0.1, width 16, batch 32"),
    "l8_kl01_s1200": ShapeSetup(RGB32.replace(latent=8, kl=0.1, width=16, batch=32, steps=1200),
                                "latent 8, β = 0.1, width 16, batch 32, 1200 steps"),
    "l8_kl01_w8": ShapeSetup(RGB32.replace(latent=8, kl=0.1, width=8, batch=64), "latent 8, β = 0.1, width 8, batch 64"),
    "colour": ShapeSetup(AEConfig.for_images(32, 3, domain_weight=0.0), "the preset without the domain head"),
    "domain": ShapeSetup(AEConfig.for_images(32, 3, colour_path=False), "the preset without the colour path"),
    "dom1000_s1000": ShapeSetup(AEConfig.for_images(32, 3, domain_weight=1000.0, steps=1000),
                                "the preset with domain weight 1000, 1000 steps"),
    "s1200": ShapeSetup(AEConfig.for_images(32, 3, steps=1200), "the preset with 1200 steps"),
}
COLUMNS = ("judged", "ceiling", "pos", "pos90", "size", "size90", "colour", "colour90", "diversity", "recon_div",
           "recon_mse")


def judge_accuracy(seed: int) -> float:
    """The judge against the true labels: share of held-out drawn circles and squares judged right."""
    right = [(judge_shapes(draw_shapes(s, N_TEST, seed=shape_seed(s, "judge", seed)).images) == s).mean()
             for s in ("circle", "square")]
    return float(statistics.mean(right))


def run_shapes(name: str, seeds: list[int], log) -> tuple[dict, float, float]:
    """(results by direction -> rows over seeds, mean training seconds, the judge's accuracy)."""
    setup = SHAPE_CONFIGS[name]
    results: dict[str, list[dict]] = {}
    seconds, cpu, accuracy = [], [], []
    for seed in seeds:
        train = {s: draw_shapes(s, N_TRAIN, seed=shape_seed(s, "train", seed)) for s in ("circle", "square")}
        test = {s: draw_shapes(s, N_TEST, seed=shape_seed(s, "test", seed)) for s in ("circle", "square")}
        accuracy.append(judge_accuracy(seed))
        start, start_cpu = time.perf_counter(), time.process_time()
        xa, xb = train["circle"].images, train["square"].images
        tr = fit_translator(xa, xb, setup.ae.replace(seed=seed), latent_flow_config(setup.ae.latent, seed=seed), names=("circles", "squares"))
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        for rev, (src, tgt) in ((False, ("circle", "square")), (True, ("square", "circle"))):
            r = measure_direction(tr, test[src], test[tgt], rev)
            s = r.shapes
            row = {"judged": s.judged_target, "ceiling": r.ceiling, "pos": s.position_error, "pos90": s.position_p90,
                   "size": s.size_error, "size90": s.size_p90, "colour": s.colour_error, "colour90": s.colour_p90,
                   "diversity": r.diversity, "recon_div": r.reconstruction_diversity, "recon_mse": r.reconstruction_error}
            label = f"{src}s→{tgt}s"
            results.setdefault(label, []).append(row)
            log(f"  [{name} seed {seed}] {label}: target {100 * s.judged_target:.1f}%  pos {s.position_error:.2f} px  "
                f"size {100 * s.size_error:.1f}%  colour {s.colour_error:.3f}  diversity {r.diversity:.2f}  "
                f"({seconds[-1]:.0f} s, {cpu[-1]:.0f} s CPU)")
    return results, (statistics.mean(seconds), statistics.mean(cpu)), statistics.mean(accuracy)


def shapes_table(name: str, results: dict, seconds: tuple[float, float], accuracy: float, seeds: list[int]) -> str:
    wall, cpu = seconds
    lines = [f"### shapes {name}: {SHAPE_CONFIGS[name].note}", "",
             f"seeds {', '.join(map(str, seeds))}; {wall:.0f} s of training per pair (autoencoder + flow; {cpu:.0f} s of "
             f"CPU time); the judge reads {100 * accuracy:.1f}% of held-out drawn shapes right", "",
             "| direction | target % | min seed % | ceiling % | pos px (p90) | size % (p90) | colour (p90) | diversity "
             "| recon div | recon MSE |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    means: dict[str, list[float]] = {c: [] for c in COLUMNS}
    for label, rows in list(results.items()) + [("**mean**", [r for rows in results.values() for r in rows])]:
        m = {c: statistics.mean(r[c] for r in rows) for c in COLUMNS}
        worst = min(r["judged"] for r in rows)
        lines.append(f"| {label} | {100 * m['judged']:.1f} | {100 * worst:.1f} | {100 * m['ceiling']:.1f} | "
                     f"{m['pos']:.2f} ({m['pos90']:.2f}) | {100 * m['size']:.1f} ({100 * m['size90']:.1f}) | "
                     f"{m['colour']:.3f} ({m['colour90']:.3f}) | {m['diversity']:.2f} | {m['recon_div']:.2f} | "
                     f"{m['recon_mse']:.4f} |")
        for c in COLUMNS:
            means[c].append(m[c])
    avg = {c: v[-1] for c, v in means.items()}
    checks = [("judged target ≥ 96%", avg["judged"] >= 0.96), ("diversity ≥ 0.8", avg["diversity"] >= 0.8),
              ("training ≤ 120 s of CPU", cpu <= 120)]
    lines += ["", "Targets: " + "; ".join(f"{text} {'✓' if ok else '✗'}" for text, ok in checks), ""]
    return "\n".join(lines)
