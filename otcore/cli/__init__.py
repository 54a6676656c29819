"""Command line: ``otflow`` (or ``python -m otcore``) ``train | evaluate | transport | ratio | mi |
density | sample-density | train-images | translate`` (``--help`` on each).

One module per command group, each with ``add_commands(subparsers)``; ``common`` holds what they
share and imports none of them, so no module of this package imports a module that imports it."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import dre, energy, flow, images, transport

GROUPS = (flow, transport, dre, energy, images)


def build_parser() -> argparse.ArgumentParser:
    prog = "otflow" if Path(sys.argv[0]).name == "otflow" else "python -m otcore"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


__all__ = ["build_parser", "main"]
