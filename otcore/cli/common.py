"""What every command shares: flags generated from a config dataclass, the progress bar, the run
folder's flow and samples, printing a report, and a polite stop on SIGTERM. Imports no command
module."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from dataclasses import MISSING, fields
from pathlib import Path

import numpy as np
import torch

from ..flow import OTFlow
from ..sources import resolve_source

DATA_HELP = "a toy name (moons, 8gaussians, ...), gauss:D[:SEED] for a random D-dim Gaussian, or a CSV/.npy/.npz file"
_KINDS = {"int": int, "float": float, "str": str}


def add_config_flags(parser: argparse.ArgumentParser, config_cls, title: str, only: tuple[str, ...] = (),
                     rename: dict[str, str] | None = None) -> None:
    """One flag per field of the dataclass ``config_cls``, its help from the field's ``metadata["help"]``.

    A flag left out keeps the dataclass default (``argparse.SUPPRESS``). ``only`` limits the fields;
    ``rename`` maps a field to another flag name (``{"steps": "ae-steps"}``)."""
    group = parser.add_argument_group(title)
    rename = rename or {}
    for f in fields(config_cls):
        if only and f.name not in only:
            continue
        default = f.default if f.default is not MISSING else None
        flag = "--" + rename.get(f.name, f.name.replace("_", "-"))
        help_text = f"{f.metadata.get('help', '')} (default: {default})".replace("%", "%%")
        if str(f.type) == "bool":
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                               help=help_text)
        else:
            group.add_argument(flag, dest=f.name, type=_KINDS.get(str(f.type)), default=argparse.SUPPRESS,
                               metavar=f.name.upper(), help=help_text)


def config_from_args(args: argparse.Namespace, config_cls, **fixed):
    """The dataclass built from the flags that were given (the rest keep their defaults) and ``fixed``."""
    chosen = {f.name: getattr(args, f.name) for f in fields(config_cls) if hasattr(args, f.name)}
    return config_cls(**{**chosen, **fixed})


class Bar:
    """A one-line text progress bar per stage on stderr, redrawn at most 5 times a second."""

    def __init__(self, stream=None, width: int = 30):
        self.stream, self.width, self._last = stream or sys.stderr, width, 0.0

    def __call__(self, stage: str, step: int, total: int, extra: str = "") -> None:
        now = time.perf_counter()
        if now - self._last < 0.2 and step != total:
            return
        self._last = now
        bar = "#" * int(self.width * step / max(1, total))
        self.stream.write(f"\r{stage:>10} [{bar:<{self.width}}] {step}/{total} {extra:<30}")
        if step == total:
            self.stream.write("\n")
        self.stream.flush()


def add_threads_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=max(1, torch.get_num_threads()), help="CPU threads for torch")


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    """The run folder and the optional data that replaces its samples (evaluate, ratio)."""
    parser.add_argument("run", help="a run folder written by train (or a flow.pt file)")
    parser.add_argument("--source", help=f"P to use instead of the run's samples: {DATA_HELP}")
    parser.add_argument("--target", help="Q to use instead of the run's samples (with --source)")
    parser.add_argument("--n", type=int, default=4000, help="samples drawn for generated data")
    parser.add_argument("--data-seed", type=int, default=0, help="seed of generated data")
    add_threads_flag(parser)


def read_samples(run: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """P and Q of a run folder's samples.npz (read without pickles)."""
    with np.load(run / "samples.npz", allow_pickle=False) as data:
        return torch.as_tensor(data["P"]), torch.as_tensor(data["Q"])


def load_flow(run: str | Path) -> OTFlow:
    """The flow of a run folder (its flow.pt) or of a flow file."""
    run = Path(run)
    return OTFlow.load(run / "flow.pt" if run.is_dir() else run)


def load_run(args: argparse.Namespace) -> tuple[OTFlow, torch.Tensor, torch.Tensor]:
    """The flow of ``args.run`` (a run folder or a flow.pt) and its P, Q: from ``--source/--target``
    when given, else the run folder's samples.npz."""
    run = Path(args.run)
    flow = load_flow(run)
    if args.source and args.target:
        P = resolve_source(args.source, args.n, args.data_seed).samples
        Q = resolve_source(args.target, args.n, args.data_seed + 1).samples
    elif (run / "samples.npz").exists():
        P, Q = read_samples(run)
    else:
        raise ValueError("give --source and --target: the run folder holds no samples.npz")
    return flow, P, Q


def print_table(values: dict, width: int = 16) -> None:
    """``key: value`` lines, floats to 6 significant digits, None left out."""
    for key, value in values.items():
        if value is not None:
            print(f"{key:>{width}}: {value:.6g}" if isinstance(value, float) else f"{key:>{width}}: {value}")


def print_result(values: dict, as_json: bool, width: int = 16) -> None:
    """A command's result: indented JSON (``--json``) or :func:`print_table` lines."""
    if as_json:
        print(json.dumps(values, indent=2))
    else:
        print_table(values, width)


# --- a polite stop: SIGTERM (a job's Stop button, a scheduler, ``kill``) and Ctrl-C ask a long
# command to stop at its next step, so it can checkpoint that very step first ----------------------
#: exit status of a command stopped this way (the shell's convention for SIGTERM)
STOPPED_STATUS = 128 + signal.SIGTERM


class StopRequests:
    """Within ``with StopRequests() as stop:``, SIGTERM and SIGINT set ``stop.signal`` (its name)
    instead of ending the process; a second signal of either kind ends it at once. Disabled (a
    torchrun worker, whose launcher stops its ranks together), or outside the main thread (where
    Python cannot take signals), it does nothing."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.signal: str | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopRequests":
        if self.enabled and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, self._request)
        return self

    def _request(self, signum: int, frame) -> None:
        if self.signal is not None:           # asked twice: stop now
            self.__exit__(None, None, None)
            signal.raise_signal(signum)
            return
        self.signal = signal.Signals(signum).name

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
