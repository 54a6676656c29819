"""Jobs in processes of their own (ui.cli_job): a real `python -m otcore train` process trains a tiny
2-D flow into its run folder, its steps are read live and its finished flow loads; Stop ends the
whole process group; a stopped job resumes as a job to the flow of an uninterrupted run; a job's
status follows from what its folder holds."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

import otcore
from otcore import runfolder
from otcore.files import save_state
from otcore.livelog import LiveLog
from ui import cli_job
from ui.jobs import DIVERGED, FAILED, FINISHED, RUNNING, STOPPED

TINY = otcore.FlowConfig(hidden=16, depth=2, warm_steps=40, warm_batch=64, refine_steps=0, eval_steps=8)
LABELS = {"label_p": "moons", "label_q": "8gaussians", "dim": 2}


@pytest.fixture(scope="module")
def pair():
    return otcore.sample("moons", 300, seed=0), otcore.sample("8gaussians", 300, seed=1)


def _wait(cond, timeout):
    end = time.time() + timeout
    while not cond():
        assert time.time() < end, "timed out"
        time.sleep(0.1)


def test_a_job_trains_in_its_own_process_and_its_flow_loads(tmp_path, pair):
    run = cli_job.launch(tmp_path, *pair, TINY, labels=LABELS)
    assert run.status() == RUNNING and os.getpgid(run.info["pid"]) == run.info["pid"] != os.getpgid(0)
    _wait(lambda: not run.alive(), 120)
    snap = run.snapshot()
    assert snap.status == FINISHED, run.log_tail()
    assert [r["global_step"] for r in snap.rows] == list(range(1, TINY.warm_steps + 1))   # every step, in order
    assert snap.steps == TINY.warm_steps and all(r["stage"] == "warm-start" for r in snap.rows)
    assert all(isinstance(r["flow_matching"], float) for r in snap.rows)
    report = run.report()
    flow = run.flow()
    P, Q = run.samples()
    torch.testing.assert_close(P, pair[0]) and torch.testing.assert_close(Q, pair[1])
    assert flow.dim == 2 and flow.meta["trained_steps"] == TINY.warm_steps
    assert otcore.evaluate(flow, P, Q).transport_cost == pytest.approx(report["transport_cost"], rel=1e-4)
    assert json.loads((run.folder / cli_job.EXIT).read_text())["returncode"] == 0
    assert "wrote" in run.log_tail() and cli_job.list_jobs(tmp_path)[0].folder == run.folder


def _gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[-1].split()[0] == "Z"    # ended, not yet reaped
    except OSError:
        return True


SLEEP = "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN) if sys.argv[1:2] == ['--out'] else 0; " \
        "time.sleep(60)"


def test_stop_ends_the_whole_process_group_and_the_job_can_resume_only_from_a_checkpoint(tmp_path, pair):
    fake = tmp_path / "fakepy"       # stands in for python: a child in its group, a torchrun-like worker in a
    fake.write_text(                 # session of its own that ignores SIGTERM, then waits
        f"#!{sys.executable}\nimport pathlib, subprocess, sys, time\n"
        "out = sys.argv[sys.argv.index('--out') + 1]\n"
        f"child = subprocess.Popen([sys.executable, '-c', {SLEEP!r}])\n"
        f"worker = subprocess.Popen([sys.executable, '-c', {SLEEP!r}, '--out', out], start_new_session=True)\n"
        "pathlib.Path(out, 'pids').write_text(f'{child.pid} {worker.pid}')\ntime.sleep(60)\n")
    fake.chmod(0o755)
    run = cli_job.launch(tmp_path / "runs", *pair, TINY, labels=LABELS, python=str(fake))
    bystander = subprocess.Popen([sys.executable, "-c", SLEEP, str(run.folder / "job.log")])   # names the folder
    _wait(lambda: (run.folder / "pids").exists(), 20)
    child, worker = map(int, (run.folder / "pids").read_text().split())
    assert run.folder in cli_job.running_folders(tmp_path / "runs") and run.status() == RUNNING
    run.stop(grace=1)
    _wait(lambda: _gone(child) and _gone(worker), 5)              # the group, and the worker that ignored SIGTERM
    assert _gone(run.info["pid"])
    assert bystander.poll() is None                              # a program that only names the folder is left alone
    bystander.kill()
    bystander.wait()
    snap = run.snapshot()
    assert snap.status == STOPPED and not snap.running and "Stop" in snap.note
    assert run.folder not in cli_job.running_folders(tmp_path / "runs")
    with pytest.raises(ValueError, match="no checkpoint"):
        run.resume()                                            # stopped before its first checkpoint


def _fake_job(root, pid, **files):
    folder = root / "run"
    folder.mkdir()
    (folder / cli_job.JOB).write_text(json.dumps({"pid": pid, "folder": str(folder), "started": 1.0}))
    for name, text in files.items():
        (folder / name.replace("_", ".")).write_text(text)
    return cli_job.JobRun(folder)


@pytest.mark.parametrize("files, status", [
    ({}, FAILED),
    ({"stopped_json": "{}"}, STOPPED),
    ({"flow_pt": "x"}, FINISHED),
    ({"flow_pt": "x", "metrics_json": json.dumps({"stage": "diverged", "stop_reason": "NaN at step 3"})}, DIVERGED),
])
def test_the_status_of_an_ended_job_follows_from_its_folder(tmp_path, files, status):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()                                                 # a pid that no longer runs
    run = _fake_job(tmp_path, dead.pid, **files)
    snap = run.snapshot()
    assert snap.status == status and snap.rows == [] and snap.steps == 0
    if status == DIVERGED:
        assert snap.error == "NaN at step 3"
    if status == FAILED:
        assert "before writing its flow" in snap.error


def test_a_pid_reused_by_another_program_is_not_the_job(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        run = _fake_job(tmp_path, other.pid)
        assert not run.alive() and run.status() == FAILED
        run.stop(grace=0.1)                                     # never signals a process that is not the job
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_the_log_tail_keeps_the_last_redraw_of_a_progress_bar(tmp_path):
    run = _fake_job(tmp_path, 1)
    (run.folder / cli_job.LOG).write_bytes(b"start\n\rwarm [#  ] 1/3\rwarm [## ] 2/3\rwarm [###] 3/3\n"
                                           b"error: bad \xff byte\n")
    assert run.log_tail() == "start\nwarm [###] 3/3\nerror: bad \ufffd byte"
    assert run.log_tail(lines=1) == "error: bad \ufffd byte"


def test_a_stopped_job_resumes_as_a_job_to_the_flow_of_an_uninterrupted_run(tmp_path, pair):
    """The folder a job leaves when stopped after its checkpoint at step 12 (its live.json got to 15)."""
    P, Q = pair
    folder = runfolder.create(tmp_path, "moons_to_8gaussians", P, Q, TINY, {**LABELS, "job": True}).resolve()
    for name, x in ((cli_job.SOURCE, P), (cli_job.TARGET, Q)):
        np.save(folder / name, x.numpy())
    (folder / "run.json").write_text(json.dumps({"source": str(folder / cli_job.SOURCE), "n": 300, "data_seed": 0,
                                                 "target": str(folder / cli_job.TARGET)}))
    trainer = otcore.Trainer(P, Q, TINY)
    with LiveLog(folder) as live:
        for m in trainer.run(15):
            live(m)
            if m.global_step == 12:
                save_state(trainer.checkpoint(), folder / runfolder.CHECKPOINT)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (folder / cli_job.JOB).write_text(json.dumps({"pid": dead.pid, "folder": str(folder), "procs": 1, "device": "cpu"}))
    (folder / cli_job.STOP).write_text("{}")
    run = cli_job.JobRun(folder)
    assert run.status() == STOPPED

    run.resume()
    assert run.status() == RUNNING and "--resume" in run.info["command"]
    _wait(lambda: not run.alive(), 120)
    snap = run.snapshot()
    assert snap.status == FINISHED, run.log_tail()
    assert [r["global_step"] for r in snap.rows] == list(range(1, TINY.warm_steps + 1))   # none lost or repeated
    whole = otcore.Trainer(P, Q, TINY)
    for _ in whole.run():
        pass
    x = otcore.sample("moons", 200, seed=7)
    torch.testing.assert_close(run.flow().transport(x), whole.flow.transport(x), rtol=0, atol=1e-5)
