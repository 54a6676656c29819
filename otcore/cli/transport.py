"""``transport``: export a trained flow's coupling — each point, its image T(x) (or T⁻¹(y) with
``--reverse``), the kinetic energy of its path and the path's length — as CSV or .npz."""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ..files import write_bytes
from ..loading import FORMATS as POINT_FORMATS
from ..loading import load_samples
from ..transport_table import WRITERS, transport_table
from .common import add_threads_flag, load_flow, print_result, read_samples


def _points(args: argparse.Namespace) -> torch.Tensor:
    """``--points`` read by the safe loader, else the run folder's own P (Q with ``--reverse``)."""
    if args.points:
        try:
            return load_samples(args.points, key=args.key)
        except ValueError as err:
            raise ValueError(f"{args.points}: {err}") from None
    run = Path(args.run)
    if not (run / "samples.npz").exists():
        raise ValueError(f"give --points FILE: {run} is not a run folder with a samples.npz")
    P, Q = read_samples(run)
    return Q if args.reverse else P


def _format(args: argparse.Namespace, out: Path) -> str:
    """``--format``, else the suffix of ``--out`` (.npz), else csv."""
    return args.format or ("npz" if out.suffix.lower() == ".npz" else "csv")


def cmd_transport(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give a file name such as {out / 'pairs.csv'}")
    flow = load_flow(args.run)
    table = transport_table(flow, _points(args), reverse=args.reverse, chunk=args.chunk)
    fmt = _format(args, out)
    write_bytes(out, WRITERS[fmt](table))
    a, b = table.names
    print_result({"points": len(table.points), "dim": flow.dim, "map": f"{a} -> {b}",
                  "mean_cost": float(table.cost.mean()), "mean_length": float(table.length.mean()),
                  "wrote": f"{out} ({fmt})"}, args.json)
    return 0


def add_commands(sub) -> None:
    """``transport`` on the subparsers ``sub``."""
    tr = sub.add_parser("transport", help="write each point's image T(x), path cost and length (the coupling)",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    tr.add_argument("run", help="a run folder written by train (or a flow.pt file)")
    tr.add_argument("--points", metavar="FILE",
                    help=f"points to map ({', '.join(POINT_FORMATS)}; default: the run folder's samples of P, "
                         "or of Q with --reverse)")
    tr.add_argument("--key", help="the array of a multi-array .npz given to --points")
    tr.add_argument("--out", required=True, metavar="FILE",
                    help="the table to write: columns x_1..x_d, Tx_1..Tx_d, cost, length (y_i, Tinvy_i with --reverse)")
    tr.add_argument("--reverse", action="store_true", help="map points of Q back with T⁻¹ (t from 1 to 0)")
    tr.add_argument("--format", choices=list(WRITERS), help="csv or npz (default: from the --out suffix, else csv)")
    tr.add_argument("--chunk", type=int, metavar="ROWS",
                    help="points integrated at once (default: as many as keep a chunk's path within 16 MiB)")
    tr.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_threads_flag(tr)
    tr.set_defaults(func=cmd_transport)
