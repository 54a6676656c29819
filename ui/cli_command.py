"""The command line of a Train-page job: ``python -m otcore train`` into a run folder, or the same
under torchrun (``python -m torch.distributed.run``) for N processes, with the FlowConfig as flags.

Pure functions of their arguments (no processes, no Streamlit): ``ui.cli_job`` runs what they build.
Under torchrun every flag is one that torchrun's own parser cannot mistake for an abbreviation of
its options (``--logger``, never ``--log``; no ``--n``: a job trains on sample files).
"""
from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

from otcore import FlowConfig
from otcore.distributed import check_config

TRAIN = ("-m", "otcore", "train")
TORCHRUN = ("-m", "torch.distributed.run", "--standalone")


def config_flags(config: FlowConfig) -> list[str]:
    """The ``train`` flags that make ``config``: one per field that differs from the default
    (``--warm-steps 3000``, ``--no-FLAG`` / ``--FLAG`` for booleans), in field order."""
    base = FlowConfig()
    out: list[str] = []
    for f in fields(FlowConfig):
        value = getattr(config, f.name)
        if value == getattr(base, f.name):
            continue
        name = f.name.replace("_", "-")
        if isinstance(value, bool):
            out.append(f"--{name}" if value else f"--no-{name}")
        else:
            out += [f"--{name}", str(value)]          # str(float) is its shortest exact repr
    return out


def train_command(folder: str | Path, config: FlowConfig, source: str | Path, target: str | Path, *,
                  device: str = "cpu", procs: int = 1, tensorboard: bool = False,
                  checkpoint_every: float = 30.0, python: str = sys.executable) -> list[str]:
    """argv of a new run training ``config`` from the sample file ``source`` to ``target`` into
    ``folder``; ``procs`` > 1 runs it under torchrun (refusing, with the reason, what a distributed
    run refuses: a time budget, the Q-flow refinement, a global batch that does not split evenly;
    and devices other than the CPU and CUDA). ``tensorboard`` adds the event files."""
    if procs < 1:
        raise ValueError(f"a job needs at least 1 process, got {procs}")
    args = ["--source", str(source), "--target", str(target), "--out", str(folder),
            "--device", _device(device, procs), "--checkpoint-every", f"{checkpoint_every:g}"]
    if tensorboard:
        args += ["--logger", "tensorboard"]
    args += config_flags(config)
    if procs == 1:
        return [python, *TRAIN, *args]
    check_config(config, "rank")
    if config.warm_batch % procs:
        raise ValueError(f"the warm-start batch ({config.warm_batch}) must be a multiple of the {procs} processes: "
                         "each process trains on its share of it")
    return [python, *TORCHRUN, f"--nproc_per_node={procs}", *TRAIN, *args]


def resume_command(folder: str | Path, *, device: str = "cpu", tensorboard: bool = False,
                   checkpoint_every: float = 30.0, python: str = sys.executable) -> list[str]:
    """argv that continues the run in ``folder`` from its checkpoint (in one process, as the CLI does)."""
    args = ["--resume", str(folder), "--device", device, "--checkpoint-every", f"{checkpoint_every:g}"]
    return [python, *TRAIN, *args, *(["--logger", "tensorboard"] if tensorboard else [])]


def _device(device: str, procs: int) -> str:
    """The ``--device`` of the job: one process takes the device as chosen; under torchrun each
    process takes the GPU of its local rank ('cuda'), or the CPU."""
    if procs == 1:
        return device
    if device.startswith("cuda"):
        return "cuda"
    if device != "cpu":
        raise ValueError(f"several processes train on the CPU or on CUDA GPUs, not on {device!r}")
    return device


def job_threads(cores: int, procs: int) -> int:
    """Torch threads per process of a job: the cores but one (left to the app's server) shared by
    the processes, at least 1."""
    return max(1, (cores - 1) // max(1, procs))
