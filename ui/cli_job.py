"""Training jobs in processes of their own: the Train page's *Run as a job*. The app never owns a
process group.

A job is a run folder under ``runs/`` in the CLI's layout (``otcore.runfolder``) that the CLI
writes as it trains, plus what the app adds::

    RUN/P.npy, RUN/Q.npy   the pair's samples: the job's --source and --target
    RUN/job.json           its command line, pid (= its process group), start time, processes
    RUN/job.log            its stdout and stderr
    RUN/stopped.json       written by Stop;  RUN/exit.json: its exit status, when this server saw it
    RUN/live.json          the steps so far (``otcore.livelog``); metrics.json and flow.pt once done

:func:`launch` starts ``python -m otcore train`` (torchrun for N processes; ``ui.cli_command``)
with no shell, in a new session: its own process group, which Stop signals as a whole (and then
torchrun's workers, which run in sessions of their own), and which lives on when the browser tab
closes or the server restarts. Any session lists the jobs under ``runs/`` (:func:`list_jobs`) and follows one
(:meth:`JobRun.snapshot`). Nothing here imports Streamlit.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from otcore import FlowConfig, OTFlow, runfolder
from otcore.files import write_atomic, write_text
from otcore.livelog import read_live
from otcore.threads import usable_cores
from otcore.trainer import DIVERGED as TRAINER_DIVERGED
from otcore.viz.rows import as_row

from .cli_command import job_threads, resume_command, train_command
from .jobs import DIVERGED, FAILED, FINISHED, RUNNING, STOPPED, STOPPING

ROOT = Path(__file__).resolve().parent.parent       # the project: `python -m otcore` runs from here
JOB, LOG, STOP, EXIT, METRICS = "job.json", "job.log", "stopped.json", "exit.json", "metrics.json"
SOURCE, TARGET = "P.npy", "Q.npy"
CHECKPOINT_EVERY_S = float(os.environ.get("OTFLOW_CHECKPOINT_EVERY", "30"))
STOP_GRACE_S = 5.0          # Stop sends SIGTERM, then SIGKILL to what is left after this long

_procs: dict[str, subprocess.Popen] = {}             # folder -> the process this server started
_lock = threading.Lock()


@dataclass(frozen=True)
class Snapshot:
    """A job as it stands; the field names are ``ui.jobs.Job``'s, so ``ui.live`` draws it."""
    name: str
    status: str                  # running | stopping | finished | diverged | stopped | failed
    rows: list[dict]             # chart rows (``otcore.viz.rows.as_row``) of the steps kept so far
    steps: int                   # global steps done
    error: str | None = None     # why it failed or diverged
    note: str | None = None
    save_error: str | None = None

    @property
    def running(self) -> bool:
        return self.status in (RUNNING, STOPPING)

    @property
    def latest(self) -> dict | None:
        return self.rows[-1] if self.rows else None


class JobRun:
    """One job's folder: its status, steps, log, Stop and (once finished) its flow."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder).resolve()
        self.info = runfolder.read_json(self.folder / JOB)

    @property
    def title(self) -> str:
        return runfolder.run_title(self.folder)

    @property
    def started(self) -> float:
        value = self.info.get("started")
        return float(value) if isinstance(value, (int, float)) else 0.0

    @property
    def procs(self) -> int:
        value = self.info.get("procs")
        return value if isinstance(value, int) and value > 0 else 1

    def alive(self) -> bool:
        """Whether its process still runs (this server's own child, or a process that trains into
        this folder: a pid reused by another program does not count)."""
        with _lock:
            proc = _procs.get(str(self.folder))
        pid = self.info.get("pid")
        if proc is not None and proc.pid == pid:
            code = proc.poll()
            if code is None:
                return True
            if not (self.folder / EXIT).exists():
                write_text(self.folder / EXIT, json.dumps({"returncode": code, "at": time.time()}))
            return False
        return isinstance(pid, int) and _process_runs(pid, str(self.folder))

    def status(self) -> str:
        if self.alive():
            return STOPPING if (self.folder / STOP).exists() else RUNNING
        if runfolder.read_json(self.folder / METRICS).get("stage") == TRAINER_DIVERGED:
            return DIVERGED
        if runfolder.finished(self.folder):
            return FINISHED
        return STOPPED if (self.folder / STOP).exists() else FAILED

    def snapshot(self) -> Snapshot:
        status = self.status()
        live = read_live(self.folder)
        rows = [as_row(item, i) for i, item in enumerate(live.items)] if live is not None else []
        steps = int(rows[-1]["global_step"]) if rows else 0
        error = note = None
        if status == DIVERGED:
            error = str(runfolder.read_json(self.folder / METRICS).get("stop_reason") or "training diverged")
        elif status == FAILED:
            code = runfolder.read_json(self.folder / EXIT).get("returncode")
            error = f"the process ended{'' if code is None else f' with exit status {code}'} before writing its flow"
        elif status in (STOPPED, STOPPING):
            note = "Stopped with the Stop button; its latest checkpoint stays in the run folder."
        return Snapshot(self.folder.name, status, rows, steps, error, note)

    def log_tail(self, lines: int = 25, max_bytes: int = 16_384) -> str:
        """The end of its log, a progress bar's redraws (carriage returns) reduced to the last."""
        try:
            with open(self.folder / LOG, "rb") as handle:
                handle.seek(max(0, (self.folder / LOG).stat().st_size - max_bytes))
                text = handle.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
        kept = [line.rstrip().split("\r")[-1] for line in text.split("\n")]
        return "\n".join([line for line in kept if line.strip()][-lines:])

    def stop(self, grace: float = STOP_GRACE_S) -> None:
        """End it: SIGTERM to its process group (the CLI, or torchrun, which stops its workers);
        after ``grace`` s, SIGKILL to the group and to any process left that names this folder in
        its command line (torchrun starts each worker in a session of its own)."""
        write_text(self.folder / STOP, json.dumps({"at": time.time()}))
        if not self.alive():
            return
        pgid = int(self.info["pid"])                  # start_new_session: its pid is its group's id
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
            left = _naming(str(self.folder)) if sig == signal.SIGKILL else []
            for kill, target in ((os.killpg, pgid), *((os.kill, pid) for pid in left)):
                try:
                    kill(target, sig)
                except (ProcessLookupError, PermissionError):
                    pass
            end = time.monotonic() + wait
            while time.monotonic() < end:
                if not self.alive() and not _naming(str(self.folder)):
                    return
                time.sleep(0.05)

    def resume(self, python: str = sys.executable) -> None:
        """Continue a stopped or failed job from its checkpoint, as a job (in one process)."""
        if self.alive():
            raise ValueError("the job is still running")
        if not (self.folder / runfolder.CHECKPOINT).is_file():
            raise ValueError("the job wrote no checkpoint before it ended, so it cannot be resumed; start it anew")
        for name in (STOP, EXIT):
            (self.folder / name).unlink(missing_ok=True)
        cmd = resume_command(self.folder, device=str(self.info.get("device", "cpu")),
                             tensorboard=bool(self.info.get("tensorboard")), checkpoint_every=CHECKPOINT_EVERY_S,
                             python=python)
        self.info = _spawn(self.folder, cmd, {**self.info, "procs": 1, "resumed": time.time()})

    def report(self) -> dict | None:
        """The evaluation report the CLI wrote when it finished (metrics.json), else None."""
        report = runfolder.read_json(self.folder / METRICS).get("report")
        return report if isinstance(report, dict) else None

    def config(self) -> FlowConfig | None:
        try:
            return FlowConfig.from_dict(runfolder.read_json(self.folder / runfolder.CONFIG))
        except (TypeError, ValueError):
            return None

    def flow(self) -> OTFlow:
        return OTFlow.load(self.folder / runfolder.FLOW)

    def samples(self) -> tuple[torch.Tensor, torch.Tensor]:
        return runfolder.samples(self.folder)


def launch(root: str | Path, P: torch.Tensor, Q: torch.Tensor, config: FlowConfig, *, labels: dict,
           device: str = "cpu", procs: int = 1, tensorboard: bool = False, python: str = sys.executable) -> JobRun:
    """Start training ``config`` on P → Q in a new run folder under ``root``; returns the job.
    ``labels`` (label_p, label_q, desc_p, desc_q) go to the folder's app.json. Raises ValueError
    (with the reason) for what the command line refuses, before anything is written."""
    train_command(Path(root) / "check", config, SOURCE, TARGET, device=device, procs=procs, python=python)
    stem = f"{labels.get('label_p', 'P')}_to_{labels.get('label_q', 'Q')}"
    folder = runfolder.create(root, stem, P, Q, config, {**labels, "device": device, "job": True}).resolve()
    for name, x in ((SOURCE, P), (TARGET, Q)):
        write_atomic(folder / name, lambda h, x=x: np.save(h, np.asarray(x, dtype=np.float32), allow_pickle=False))
    cmd = train_command(folder, config, folder / SOURCE, folder / TARGET, device=device, procs=procs,
                        tensorboard=tensorboard, checkpoint_every=CHECKPOINT_EVERY_S, python=python)
    _spawn(folder, cmd, {"procs": procs, "device": device, "tensorboard": tensorboard, "started": time.time()})
    return JobRun(folder)


def list_jobs(root: str | Path) -> list[JobRun]:
    """The jobs under ``root``, newest first."""
    root = Path(root)
    found = [JobRun(f) for f in root.iterdir() if (f / JOB).is_file()] if root.is_dir() else []
    return sorted(found, key=lambda j: j.started, reverse=True)


def running_folders(root: str | Path) -> set[Path]:
    """Folders of the jobs under ``root`` whose process runs now."""
    return {j.folder for j in list_jobs(root) if j.alive()}


def _spawn(folder: Path, cmd: list[str], info: dict) -> dict:
    """Start ``cmd`` in its own session, output appended to the job's log; record it in job.json."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    env.setdefault("OTFLOW_TORCH_THREADS", str(job_threads(usable_cores(), int(info.get("procs", 1)))))
    with open(folder / LOG, "ab") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    with _lock:
        _procs[str(folder)] = proc
    info = {**info, "format": "otflow-job", "folder": str(folder), "pid": proc.pid, "command": cmd}
    write_text(folder / JOB, json.dumps(info, indent=2))
    return info


def _process_runs(pid: int, folder: str) -> bool:
    """Whether process ``pid`` runs (not a zombie) and trains into ``folder`` (where /proc tells;
    elsewhere, whether the pid exists)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False                                  # another user's process: not our job
    proc = Path(f"/proc/{pid}")
    try:
        if (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z":
            return False
        return _runs_into((proc / "cmdline").read_bytes(), folder)
    except (OSError, IndexError):
        return not proc.parent.is_dir()              # no /proc here: trust the pid


def _runs_into(cmdline: bytes, folder: str) -> bool:
    """Whether a /proc command line trains into ``folder`` (``--out FOLDER`` or ``--resume FOLDER``;
    a program that merely names the folder, ``tail -f FOLDER/job.log``, does not)."""
    args = cmdline.split(b"\0")
    return any(a in (b"--out", b"--resume") and b == folder.encode() for a, b in zip(args, args[1:]))


def _naming(folder: str) -> list[int]:
    """This user's live processes that train into ``folder`` ([] without /proc)."""
    found = []
    try:
        entries = [e for e in Path("/proc").iterdir() if e.name.isdigit()]
    except OSError:
        return []
    for entry in entries:
        try:
            if entry.stat().st_uid == os.getuid() and _runs_into((entry / "cmdline").read_bytes(), folder) \
                    and (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z":
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return found

