"""``sample-density``: new samples of a saved energy model (``density … --model energy.pt``), written
as .npy/.npz, with a PNG grid for a model of images (the digits), all atomically."""
from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
import torch

from ..dre.energy_model import EnergyModel
from ..dre.sampling import SamplerConfig, sample_model
from ..files import write_bytes
from ..viz.images import image_grid, png_bytes
from .common import add_config_flags, add_threads_flag, config_from_args, print_result


def add_commands(sub) -> None:
    add_sample_command(sub)


def add_sample_command(subparsers) -> argparse.ArgumentParser:
    """``python -m otcore sample-density energy.pt --n 64 --out samples.npz --png samples.png``."""
    p = subparsers.add_parser("sample-density", help="draw samples from a saved energy model (MALA; SIR optional)",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("model", help="an energy model written by `density … --model energy.pt`")
    p.add_argument("--n", type=int, default=64, help="samples to draw")
    p.add_argument("--out", required=True, help="where to write the samples: .npy (the array) or .npz "
                   "(samples plus the sampler's effective sample size and acceptance)")
    p.add_argument("--png", help="also write the samples as a grid of images (models of images only)")
    p.add_argument("--cols", type=int, default=8, help="images per row of the PNG grid")
    add_config_flags(p, SamplerConfig, "sampler (SamplerConfig)")
    add_threads_flag(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_sample)
    return p


def _array_bytes(path: Path, samples: np.ndarray, extra: dict) -> bytes:
    buf = io.BytesIO()
    if path.suffix == ".npy":
        np.save(buf, samples)
    else:
        np.savez(buf, samples=samples, **{k: np.asarray(v) for k, v in extra.items()})
    return buf.getvalue()


def cmd_sample(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if out.suffix not in (".npy", ".npz"):
        raise ValueError(f"--out must end in .npy or .npz, got {out.name!r}")
    if args.cols < 1:
        raise ValueError(f"--cols must be ≥ 1, got {args.cols}")
    model = EnergyModel.load(args.model)
    if args.png and "image_side" not in model.meta:
        raise ValueError("--png needs a model of images (e.g. `density digits --model …`); this one has none")
    drawn = sample_model(model, args.n, config_from_args(args, SamplerConfig))
    summary = {"samples": args.n, "dim": model.dim, "ess": round(drawn.ess, 1), "proposals": drawn.proposals,
               "distinct": drawn.distinct, "acceptance": drawn.acceptance, "step_size": drawn.step_size,
               "seconds": round(drawn.seconds, 2), "out": str(out)}
    stats = {k: summary[k] for k in ("ess", "proposals", "distinct", "acceptance", "step_size")}
    write_bytes(out, _array_bytes(out, drawn.samples.numpy(), stats))
    if args.png:
        images = model.images(drawn.samples)
        cols = min(args.cols, len(images))
        rows = -(-len(images) // cols)
        grid = torch.ones(rows * cols, *images.shape[1:])   # empty cells white
        grid[:len(images)] = images
        write_bytes(args.png, png_bytes(image_grid(grid.reshape(rows, cols, *images.shape[1:]))))
        summary["png"] = args.png
    print_result(summary, args.json, width=12)
    return 0
