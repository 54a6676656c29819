"""The background job runner (ui.jobs), without Streamlit: start, stop, resume, reset, errors; the
chart-row contract of every trainer's metrics (otcore.viz.rows)."""
import threading
import time

import pytest
from app_helpers import wait_for
import torch

import otcore
from otcore.viz.rows import REQUIRED, as_row
from otcore.viz.training import loss_terms
from ui import pool
from ui.jobs import DIVERGED, FAILED, FINISHED, IDLE, STOPPED, Diverged
from ui.jobs import Job as _Job


def Job(name):
    """A job with a pool of its own, so these tests never wait for other jobs of the process."""
    return _Job(name, pool.Pool(cap=4))


def counter(n, pause=0.002, log=None):
    def factory():
        for i in range(n):
            time.sleep(pause)
            if log is not None:
                log.append(i)
            yield {"loss": 1.0 / (i + 1), "step": i + 1, "total": n}
    return factory


def test_runs_to_the_end_in_the_background():
    job = Job("t")
    job.start(counter(50))
    assert job.wait(10) and job.status == FINISHED
    assert [r["step"] for r in job.rows()] == list(range(1, 51))
    assert job.history[-1]["loss"] == pytest.approx(1 / 50)


def test_stop_freezes_and_resume_continues_the_same_iterator():
    log = []
    job = Job("t")
    job.start(counter(400, pause=0.005, log=log))
    wait_for(lambda: job.steps >= 5)
    job.stop(wait=5)
    assert job.status == STOPPED and job.can_resume
    frozen = job.steps
    time.sleep(0.1)
    assert job.steps == frozen                     # nothing moves while stopped
    job.resume()
    assert job.wait(20) and job.status == FINISHED
    assert log == list(range(400))                 # every step exactly once: nothing lost, nothing repeated
    assert [r["step"] for r in job.rows()] == list(range(1, 401))


def test_reset_forgets_the_run_and_closes_its_iterator():
    closed = threading.Event()

    def factory():
        try:
            while True:
                time.sleep(0.002)
                yield {"loss": 1.0}
        finally:
            closed.set()

    job = Job("t")
    job.start(factory, context={"pair_id": 3})
    assert job.context == {"pair_id": 3}
    wait_for(lambda: job.steps >= 3)
    job.reset()
    assert job.status == IDLE and job.steps == 0 and job.context == {} and job.rows() == []
    assert closed.wait(5)


def test_exceptions_and_divergence_become_the_job_error():
    def broken():
        yield {"loss": 1.0}
        raise ValueError("bad batch")

    def diverging():
        yield {"loss": 1.0}
        raise Diverged("loss became NaN at step 2")

    job = Job("t")
    job.start(broken)
    job.wait(5)
    assert job.status == FAILED and job.error == "ValueError: bad batch" and job.steps == 1
    assert "bad batch" in job.traceback
    job.start(diverging)
    job.wait(5)
    assert job.status == DIVERGED and job.error == "loss became NaN at step 2" and job.steps == 1


def test_call_runs_between_steps_while_running_and_directly_otherwise():
    inside = []
    state = {"busy": False}

    def factory():
        for _ in range(200):
            state["busy"] = True
            time.sleep(0.003)
            state["busy"] = False
            yield {"loss": 0.0}

    job = Job("t")
    job.start(factory)
    wait_for(lambda: job.steps >= 2)
    for _ in range(10):
        inside.append(job.call(lambda: (state["busy"], threading.current_thread().name)))
    assert all(not busy for busy, _ in inside)                 # never in the middle of a step
    assert all(name == "job-t" for _, name in inside)          # served by the worker
    job.stop(wait=5)
    assert job.call(lambda: threading.current_thread().name) == threading.current_thread().name


def test_two_jobs_do_not_share_anything():
    a, b = Job("a"), Job("b")
    a.start(counter(30))
    b.start(counter(10))
    a.wait(10), b.wait(10)
    assert (a.steps, b.steps) == (30, 10)


def test_as_row_separates_loss_terms_from_readouts():
    v = otcore.Validation(fit=0.1, fit_reverse=0.2, transport_cost=3.0, kl_pq=0.5, kl_qp=0.6)
    m = otcore.StepMetrics("refine", 4, 10, 104, {"kl_qp": 0.7, "kinetic_qp": 2.5}, 12.0, 3.5, gamma=0.01,
                           validation=v, kl_pq=0.5, kl_qp=0.6, transport_cost=3.0, fit=0.1)
    row = as_row(m)
    assert row["stage"] == "refine" and row["step"] == 4 and row["global_step"] == 104
    assert row["kl_qp"] == 0.7 and row["kinetic_qp"] == 2.5           # this step's loss terms
    assert row["latest_kl_pq"] == 0.5 and row["latest_kl_qp"] == 0.6  # carried readouts, not losses
    assert row["val_transport_cost"] == 3.0 and row["val_fit"] == 0.1
    assert "kl_pq" not in row
    assert as_row({"loss": 2.0}, index=4) == {"loss": 2.0, "stage": "", "step": 5, "global_step": 5, "stage_steps": 5}


def test_every_trainer_reports_rows_of_one_contract():
    """The flow trainer, the autoencoder, the ratio network and a staged run: each item becomes a row
    with stage, step, stage_steps and global_step, and a loss term (otcore.viz.rows)."""
    from otcore.dre import DensityRatioConfig, DensityRatioTrainer
    from otcore.dre.staged import StageStep
    from otcore.images import AEConfig, AutoencoderTrainer

    P, Q = otcore.sample("moons", 200, seed=0), otcore.sample("8gaussians", 200, seed=1)
    cfg = otcore.FlowConfig(hidden=16, depth=1, warm_steps=3, warm_batch=32, refine_steps=0, eval_steps=4)
    trainer = otcore.Trainer(P, Q, cfg, device="cpu")
    items = list(trainer.run())
    ratio = DensityRatioTrainer(trainer.flow, P, Q, DensityRatioConfig(steps=2, batch=16, slices=2))
    items += list(ratio.run())
    ae = AutoencoderTrainer(torch.rand(40, 1, 8, 8), AEConfig(size=8, channels=1, latent=2, steps=2, width=4, batch=8))
    items += list(ae.run())
    items.append(StageStep("flow", 1, 10, 0.5, 0.1, estimate=2.0))
    for i, m in enumerate(items):
        row = as_row(m, i)
        assert set(REQUIRED) <= set(row), (type(m).__name__, row)
        assert isinstance(row["stage"], str) and row["step"] >= 1 and row["stage_steps"] >= row["step"]
        assert loss_terms([row]), row                      # the loss chart finds something to draw
    stages = [as_row(m)["stage"] for m in items]
    assert stages[:3] == ["warm-start"] * 3 and stages[3:5] == ["ratio"] * 2 and stages[-1] == "flow"
    assert as_row(items[-1])["latest_estimate"] == 2.0
