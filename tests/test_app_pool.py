"""Job lifetime without Streamlit (ui.pool, ui.jobs): a server-wide cap with a queue that starts
waiting jobs by itself, a job that stops (and saves) when its browser session goes away, and
periodic saves between steps."""
import threading
import time

import pytest
from app_helpers import wait_for

from ui import pool as pools
from ui.jobs import FINISHED, QUEUED, RUNNING, SESSION_GONE, STOPPED, Job


def endless(pause=0.002, log=None):
    def factory():
        i = 0
        while True:
            time.sleep(pause)
            i += 1
            if log is not None:
                log.append(i)
            yield {"loss": 1.0 / i, "step": i}
    return factory


def counter(n, pause=0.002):
    def factory():
        for i in range(n):
            time.sleep(pause)
            yield {"loss": 1.0, "step": i + 1}
    return factory


def test_default_cap_leaves_a_core_to_the_server(monkeypatch):
    monkeypatch.delenv(pools.ENV, raising=False)
    assert pools.default_cap(2) == 1 and pools.default_cap(1) == 1 and pools.default_cap(16) == 15
    monkeypatch.setenv(pools.ENV, "3")
    assert pools.default_cap(2) == 3 and pools.Pool().cap == 3
    monkeypatch.setenv(pools.ENV, "zero")
    with pytest.raises(ValueError, match="OTFLOW_MAX_JOBS"):
        pools.default_cap()
    with pytest.raises(ValueError, match="at least one job"):
        pools.Pool(cap=0)


def test_beyond_the_cap_jobs_wait_in_order_and_start_by_themselves():
    pool = pools.Pool(cap=2)
    a, b, c, d = (Job(n, pool) for n in "abcd")
    a.start(endless())
    b.start(endless())
    c.start(counter(20))
    d.start(counter(20))
    assert (a.status, b.status) == (RUNNING, RUNNING)
    assert (c.status, d.status) == (QUEUED, QUEUED)
    assert (c.queue_position, d.queue_position) == (1, 2) and pool.counts() == (2, 2)
    time.sleep(0.1)
    assert c.steps == 0 and d.steps == 0                   # nothing trains while waiting
    a.stop(wait=5)
    wait_for(lambda: c.status in (RUNNING, FINISHED))      # the first in line takes the free slot
    assert d.status == QUEUED and d.queue_position == 1
    assert c.wait(10) and c.status == FINISHED
    assert d.wait(10) and d.status == FINISHED and d.steps == 20   # and the next one after it
    b.reset()
    assert pool.counts() == (0, 0)


def test_trainings_outside_the_pool_take_slots_and_a_freed_one_is_seen_when_asked():
    outside = [1]                                          # one job process runs
    pool = pools.Pool(cap=2, external=lambda: outside[0])
    a, b = Job("a", pool), Job("b", pool)
    a.start(endless())
    b.start(counter(5))
    assert (a.status, b.status) == (RUNNING, QUEUED) and b.queue_position == 1
    outside[0] = 0                                         # the process ended: the next page asking starts b
    assert b.queue_position is None
    assert b.wait(10) and b.status == FINISHED and b.steps == 5
    a.reset()
    assert pool.counts() == (0, 0)


def test_a_queued_job_can_be_stopped_and_resumed_later():
    pool = pools.Pool(cap=1)
    a, b = Job("a", pool), Job("b", pool)
    a.start(endless())
    b.start(counter(10))
    b.stop()
    assert b.status == STOPPED and b.can_resume and pool.counts() == (1, 0)
    a.reset()
    b.resume()
    assert b.wait(10) and b.status == FINISHED and b.steps == 10


def test_a_job_stops_and_saves_when_its_session_goes_away():
    saved = []
    alive = {"value": True}
    job = Job("t", pools.Pool(cap=1), check_every=0.01, grace=0.1)
    job.start(endless(), alive=lambda: alive["value"], save=lambda ctx, status: saved.append(status), save_every=1e9)
    wait_for(lambda: job.steps >= 5)
    time.sleep(0.2)
    assert job.status == RUNNING                           # an open session keeps it going
    alive["value"] = False
    wait_for(lambda: job.status == STOPPED, timeout=5)
    assert job.note == SESSION_GONE and job.can_resume
    assert saved == [STOPPED]                               # kept: checkpointed before it stopped
    frozen = job.steps
    time.sleep(0.1)
    assert job.steps == frozen and job.pool.counts() == (0, 0)   # its slot is free again


def test_a_short_disconnect_within_the_grace_period_does_not_stop_the_job():
    flips = iter([False, False, True] + [True] * 10_000)
    job = Job("t", pools.Pool(cap=1), check_every=0.01, grace=5.0)
    job.start(endless(), alive=lambda: next(flips))
    wait_for(lambda: job.steps >= 200)
    assert job.status == RUNNING and job.note is None
    job.reset()


def test_an_unknown_session_state_never_stops_a_job():
    job = Job("t", pools.Pool(cap=1), check_every=0.0, grace=0.0)
    job.start(counter(50), alive=lambda: None)
    assert job.wait(10) and job.status == FINISHED


def test_a_queued_job_of_a_gone_session_never_starts():
    pool = pools.Pool(cap=1)
    a, b, c = Job("a", pool), Job("b", pool), Job("c", pool)
    a.start(endless())
    b.start(counter(5), alive=lambda: False)
    c.start(counter(5))
    a.reset()
    assert c.wait(10) and c.status == FINISHED
    assert b.status == STOPPED and b.note == SESSION_GONE and b.steps == 0


def test_saves_happen_between_steps_every_so_often_and_at_the_end():
    inside = threading.Event()
    calls = []

    def factory():
        for i in range(60):
            inside.set()
            time.sleep(0.005)
            inside.clear()
            yield {"loss": 1.0}

    def save(ctx, status):
        calls.append((status, inside.is_set()))

    job = Job("t", pools.Pool(cap=1))
    job.start(factory, save=save, save_every=0.05)
    assert job.wait(10) and job.status == FINISHED
    assert len(calls) >= 3 and calls[-1][0] == FINISHED
    assert not any(busy for _, busy in calls)                   # never in the middle of a step
    assert {s for s, _ in calls[:-1]} == {RUNNING}


def test_a_failing_save_is_reported_and_training_goes_on():
    def save(ctx, status):
        raise OSError("disk full")

    job = Job("t", pools.Pool(cap=1))
    job.start(counter(30), save=save, save_every=0.0)
    assert job.wait(10) and job.status == FINISHED and job.steps == 30
    assert job.save_error == "OSError: disk full"


def test_jobs_training_at_once_share_the_cores_the_server_leaves(monkeypatch):
    from ui.threads import ENV, app_threads

    monkeypatch.delenv(ENV, raising=False)
    assert app_threads(cpus=16) == 15 and app_threads(cpus=16, jobs=3) == 5 and app_threads(cpus=2, jobs=4) == 1
    monkeypatch.setenv(ENV, "2")
    assert app_threads(cpus=16, jobs=3) == 2


def test_many_jobs_starting_and_stopping_at_once_neither_deadlock_nor_leak_slots():
    pool = pools.Pool(cap=2)
    jobs = [Job(f"j{i}", pool) for i in range(8)]

    def churn(job, seed):
        for k in range(15):
            job.start(counter(3, pause=0.0005))
            if (k + seed) % 3 == 0:
                job.stop()
            elif (k + seed) % 3 == 1:
                job.reset()
            else:
                job.wait(5)

    workers = [threading.Thread(target=churn, args=(j, i)) for i, j in enumerate(jobs)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert not any(w.is_alive() for w in workers), "deadlock"
    for j in jobs:
        j.reset()
    assert pool.counts() == (0, 0)


def test_a_resumed_job_sets_torch_threads_in_its_new_worker_thread(monkeypatch):
    """runner.start's steps configure torch's threads in each worker thread that pulls them."""
    from ui import runner

    seen = []
    monkeypatch.setattr(runner.threads, "configure", lambda jobs=1: seen.append(threading.current_thread().name))
    monkeypatch.setattr(runner.sessions, "watcher", lambda: (lambda: None))
    job = Job("t", pools.Pool(cap=1))

    def steps(ctx):
        for i in range(400):
            time.sleep(0.002)
            yield {"loss": 1.0, "step": i + 1}

    runner.start(job, steps)
    wait_for(lambda: job.steps >= 3)
    job.stop(wait=5)
    job.resume()
    assert job.wait(20) and job.status == FINISHED and job.steps == 400
    assert len(seen) == 2                        # the first worker thread, then the resumed one


def test_a_training_thread_yields_the_cpu_to_the_server_threads():
    import os
    import sys
    import threading

    from ui.threads import JOB_NICENESS, lower_priority

    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread niceness is Linux's")
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = {}

    def job():
        tid = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, tid)
        seen["took"] = lower_priority()
        seen["change"] = os.getpriority(os.PRIO_PROCESS, tid) - before
        child = threading.Thread(target=lambda: seen.update(child=os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        child.start()
        child.join()
        seen["own"] = os.getpriority(os.PRIO_PROCESS, tid)

    worker = threading.Thread(target=job)
    worker.start()
    worker.join()
    assert seen["took"] and seen["change"] == min(JOB_NICENESS, 19 - main_before)
    assert seen["child"] == seen["own"]                     # a thread it starts (the pairing thread) inherits it
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before   # the server's thread keeps its own
