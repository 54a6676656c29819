"""``train-images`` and ``translate``: latent image translation from the command line.

``train-images`` trains the autoencoder and the latent flow between two image domains and writes
``translator.pt``; ``translate`` translates folders, zips or files of images with such a file and
writes PNGs (and optionally a scrub GIF per image).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from ..files import write_bytes, write_text
from ..images.autoencoder import AEConfig
from ..images.domains import MODES, resolve_domain
from ..images.translate import LatentTranslator, fit_translator, latent_flow_config, translate_folder
from .common import add_config_flags, add_threads_flag

#: the AEConfig fields that are flags of train-images (size and channels follow the domains)
AE_FLAGS = ("latent", "width", "kl", "steps", "batch", "lr", "holdout", "colour_path", "domain_weight")
DOMAIN_HELP = "digit:N (scikit-learn 8×8 digits of class N), china / flower (patches of scikit-learn's sample photos), " \
              "circles / squares (drawn 32×32 RGB shapes), or a folder, zip or image file"


def add_commands(sub) -> None:
    """``train-images`` and ``translate`` on the subparsers ``sub``."""
    add_train_images_command(sub)
    add_translate_command(sub)


def add_train_images_command(subparsers) -> argparse.ArgumentParser:
    """``python -m otcore train-images --a digit:3 --b digit:8 --out runs/digits38``."""
    p = subparsers.add_parser("train-images", help="train an image translator (autoencoder + latent OT flow)",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    base = AEConfig()
    p.add_argument("--a", required=True, help=f"domain A (t = 0): {DOMAIN_HELP}")
    p.add_argument("--b", required=True, help=f"domain B (t = 1): {DOMAIN_HELP}")
    p.add_argument("--out", required=True, help="folder to write translator.pt and metrics.json")
    p.add_argument("--size", type=int, default=None, help="image size for uploaded domains (8, 16, 32, 64); "
                   "default 8 for digits and files, 16 for photo patches, 32 for drawn shapes")
    p.add_argument("--mode", choices=list(MODES), default="grey", help="colour mode of uploaded domains")
    add_config_flags(p, AEConfig, "autoencoder configuration (AEConfig; size, channels and seed come from the domains "
                     "and --seed; flags left out take AEConfig.for_images's defaults for that size and colour, "
                     "e.g. a narrower network for 32×32 RGB)", only=AE_FLAGS, rename={"steps": "ae-steps", "batch": "ae-batch", "lr": "ae-lr",
                                                           "holdout": "ae-holdout"})
    p.add_argument("--flow-steps", type=int, default=latent_flow_config(base.latent).warm_steps,
                   help="latent flow warm-start steps")
    p.add_argument("--refine-steps", type=int, default=0, help="latent flow refinement (Q-flow) steps")
    p.add_argument("--seed", type=int, default=0, help="seed of both trainings")
    add_threads_flag(p)
    p.set_defaults(func=cmd_train_images)
    return p


def add_translate_command(subparsers) -> argparse.ArgumentParser:
    """``python -m otcore translate runs/digits38 photos/ --out translated/``."""
    p = subparsers.add_parser("translate", help="translate images with a trained translator, writing PNGs",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("model", help="translator.pt written by train-images (or its folder)")
    p.add_argument("inputs", nargs="+", help="image files, folders or zips to translate")
    p.add_argument("--out", required=True, help="folder for the translated PNGs")
    p.add_argument("--reverse", action="store_true", help="translate B → A instead of A → B")
    p.add_argument("--t", type=float, nargs="+", default=[1.0],
                   help="progress values in [0, 1] to write (0 = source, 1 = fully translated)")
    p.add_argument("--frames", type=int, default=0, help="write this many evenly spaced frames from 0 to 1 "
                   "instead of --t")
    p.add_argument("--strip", action="store_true", help="one PNG per image with all frames side by side")
    p.add_argument("--gif", action="store_true", help="also write a scrub GIF per image (25 frames)")
    p.add_argument("--scale", type=int, default=1, help="upscale the written images by this factor")
    p.add_argument("--smooth", action="store_true", help="upscale bicubically instead of showing raw pixels")
    add_threads_flag(p)
    p.set_defaults(func=cmd_translate)
    return p


def cmd_train_images(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    a = resolve_domain(args.a, args.size, args.mode)
    b = resolve_domain(args.b, args.size or a.size, args.mode)
    if a.images.shape[1:] != b.images.shape[1:]:
        print(f"error: domain A images are {tuple(a.images.shape[1:])} and domain B images "
              f"{tuple(b.images.shape[1:])}; give --size and --mode so both match", file=sys.stderr)
        return 2
    for d in (a, b):
        for name, reason in d.skipped:
            print(f"skipped {name}: {reason}", file=sys.stderr)
    chosen = {name: getattr(args, name) for name in AE_FLAGS if hasattr(args, name)}
    ae_config = AEConfig.for_images(a.size, a.channels, **{**chosen, "seed": args.seed})
    flow_config = latent_flow_config(ae_config.latent, warm_steps=args.flow_steps, refine_steps=args.refine_steps,
                                     seed=args.seed)
    last = [0.0]

    def report(m) -> None:
        now = time.perf_counter()
        if now - last[0] > 0.5 or m.step == m.stage_steps:
            last[0] = now
            loss = m.losses.get("reconstruction", m.losses.get("flow_matching", float("nan")))
            sys.stderr.write(f"\r{m.stage:>12} {m.step:>6}/{m.stage_steps:<6} loss {loss:.4g}   ")
            if m.step == m.stage_steps:
                sys.stderr.write("\n")
            sys.stderr.flush()

    start = time.perf_counter()
    translator = fit_translator(a.images, b.images, ae_config, flow_config, names=(a.name, b.name), callback=report)
    translator.meta.update({"a": args.a, "b": args.b, "seconds": time.perf_counter() - start})
    out = Path(args.out)
    path = translator.save(out / "translator.pt")
    summary = {"a": args.a, "b": args.b, "n_a": len(a), "n_b": len(b), "autoencoder": ae_config.to_dict(),
               "flow": flow_config.to_dict(), "train_seconds": time.perf_counter() - start}
    write_text(out / "metrics.json", json.dumps(summary, indent=1))
    print(f"wrote {path} and metrics.json ({len(a)} + {len(b)} images, {summary['train_seconds']:.0f} s)")
    return 0


def cmd_translate(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    model = Path(args.model)
    translator = LatentTranslator.load(model / "translator.pt" if model.is_dir() else model)
    if args.frames:
        if args.frames < 2:
            print("error: --frames needs at least 2", file=sys.stderr)
            return 2
        progress = [i / (args.frames - 1) for i in range(args.frames)]
    else:
        progress = list(args.t)
    if any(not 0 <= s <= 1 for s in progress):
        print("error: every --t must lie in [0, 1]", file=sys.stderr)
        return 2
    result = translate_folder(translator, args.inputs, args.out, reverse=args.reverse, progress=progress,
                              scale=args.scale, strip=args.strip, smooth=args.smooth)
    for name, reason in result.skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    if args.gif:
        _write_gifs(translator, args, Path(args.out))
    src, tgt = translator.names[::-1] if args.reverse else translator.names
    print(f"translated {src} → {tgt}: wrote {len(result.written)} PNG files to {args.out}")
    return 0


def _write_gifs(translator: LatentTranslator, args: argparse.Namespace, out: Path) -> None:
    from ..viz.images import fit_scale, scrub_gif
    from ..images.domains import load_domain

    c = translator.autoencoder.config
    domain = load_domain(args.inputs, c.size, "grey" if c.channels == 1 else "rgb", min_images=1)
    progress = [i / 24 for i in range(25)]
    frames = translator.frames(domain.images, progress, args.reverse)
    for j, source in enumerate(domain.sources):
        stem = Path(source.replace("/", "_")).stem
        write_bytes(out / f"{stem}_scrub.gif", scrub_gif(frames[:, j], progress, scale=fit_scale(c.size, 160),
                                                          smooth=args.smooth))
