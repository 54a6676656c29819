"""The Train page's *Run as a job* section: where a run trains (this session's background thread,
or a job process of its own: ``ui.cli_job``), the TensorBoard toggle, and the view of a job —
picked from every job under ``runs/``, so a run whose tab was closed is found again — with its
live loss chart, status, Stop / Resume, and *Use this flow* once it has finished."""
from __future__ import annotations

import time

import streamlit as st
import torch

import otcore
from otcore import runfolder
from otcore.threads import usable_cores
from otcore.viz.training import validation_figure

from . import cli_job, flowjob, live, pool, state
from .jobs import FAILED, FINISHED, STOPPED
from .literal import literal
from .page import default
from .pool import POOL

SESSION, JOB = "session", "job"
MODES = {SESSION: "in this session", JOB: "as a job (a process of its own)"}
PICK, LAST, OWNERS = "train_job_pick", "train_job_last", "train_job_owners"
REFRESH_S = 1.0              # the job rewrites its live.json about once a second


def run_widgets(device: str) -> tuple[str, int, bool]:
    """The run choice, the job's processes and the TensorBoard toggle: (mode, processes, tensorboard)."""
    mode = st.radio("Run", list(MODES), format_func=MODES.get, horizontal=True, key=default("cfg_run_as", SESSION),
                    help="A job runs `python -m otcore train` (torchrun for several processes) in a process of its "
                         "own: it goes on when this tab closes, and this page finds it again under runs/.")
    procs = 1
    if mode == JOB:
        most = max(1, torch.cuda.device_count() if device.startswith("cuda") else usable_cores())
        procs = int(st.number_input("Processes", min_value=1, max_value=most, step=1, key=default("cfg_job_procs", 1),
                                    help="more than 1: one flow trained by N processes with torchrun (DDP); "
                                         "step counts only, warm-start batch a multiple of N"))
    tensorboard = st.toggle("Log to TensorBoard", key=default("cfg_tensorboard", False),
                            help="also write every metric of every step as TensorBoard event files in the run folder")
    if tensorboard:
        st.caption("The run folder gets TensorBoard event files; see every run with (pip install tensorboard):")
        st.code(f"tensorboard --logdir {_shown(flowjob.runs_dir())}", language="bash")
    if mode == SESSION:
        running = [j for j in cli_job.list_jobs(flowjob.runs_dir()) if j.alive()]
        if running:
            st.caption(f"{len(running)} job(s) training in runs/ now: choose *Run {MODES[JOB]}* to follow them.")
    return mode, procs, tensorboard


def start_button(pair: state.Pair, config: otcore.FlowConfig | None, device: str, procs: int,
                 tensorboard: bool) -> None:
    """*Start a job*: a new run folder and its process; the page then follows it."""
    if st.button("Start a job", key="train_btn_job_start", type="primary", disabled=config is None):
        busy = POOL.external() + POOL.counts()[0]
        if busy >= POOL.cap:
            st.warning(f"{busy} training(s) already run on this server, its cap (`{pool.ENV}` = {POOL.cap}). "
                       "Stop one, or wait for one to finish, then start the job.")
            return
        try:
            run = cli_job.launch(flowjob.runs_dir(), pair.P, pair.Q, config, device=device, procs=procs,
                                 tensorboard=tensorboard, labels={"label_p": pair.label_p, "label_q": pair.label_q,
                                                                  "desc_p": pair.desc_p, "desc_q": pair.desc_q,
                                                                  "dim": pair.dim})
        except (ValueError, OSError) as err:
            st.error(literal(str(err)))
            return
        st.session_state[LAST] = str(run.folder)
        st.session_state.setdefault(OWNERS, {})[str(run.folder)] = pair.id
        st.session_state.pop(PICK, None)
        st.rerun()


def has_jobs() -> bool:
    return bool(cli_job.list_jobs(flowjob.runs_dir()))


def follow(pair: state.Pair | None) -> None:
    """Pick a job under runs/ and show it: controls, live status and charts, its log when it failed."""
    found = cli_job.list_jobs(flowjob.runs_dir())
    if not found:
        st.info("No jobs yet: *Start a job* trains this pair in a process of its own.")
        return
    by_folder = {str(j.folder): j for j in found}
    last = st.session_state.get(LAST)
    labels = {f: _label(j) for f, j in by_folder.items()}
    chosen = st.selectbox("Job", list(labels), format_func=labels.get, key=PICK,
                          index=list(labels).index(last) if last in labels else 0)
    run = by_folder[chosen]
    status = run.status()
    c = st.columns(3)
    if c[0].button("Stop", key="train_btn_job_stop", disabled=status != cli_job.RUNNING):
        run.stop()
        st.rerun()
    if c[1].button("Resume as a job", key="train_btn_job_resume", disabled=status not in (STOPPED, FAILED)):
        try:
            run.resume()
        except (ValueError, OSError) as err:
            st.session_state["train_job_error"] = str(err)
        st.rerun()
    if c[2].button("Use this flow", key="train_btn_job_use", disabled=status != FINISHED,
                   help="make the finished flow this session's trained flow (Trajectories, Density ratio …)"):
        use_flow(run, pair)
        st.session_state["train_job_used"] = str(run.folder)
    if st.session_state.get("train_job_error"):
        st.error(literal(st.session_state.pop("train_job_error")))
    if st.session_state.get("train_job_used") == str(run.folder):
        st.success("This job's flow is now the session's trained flow.")
        if st.button("View its trajectories →", key="btn_to_traj_job"):
            st.switch_page("views/3_Trajectories.py")
    st.caption(f"Run folder: {literal(run.folder.name)} · log: job.log · {run.procs} process(es)")
    planned = _planned(run)

    @st.fragment(run_every=REFRESH_S if run.alive() else None)
    def _panel() -> None:
        snap = run.snapshot()
        live.training_view(snap, snap.rows, planned=planned, chart_key="train_job_chart")
        report = run.report()
        readouts(snap, report)
        if any("val_transport_cost" in r for r in snap.rows):
            exact = report.get("exact_ot_cost") if report else None
            st.plotly_chart(validation_figure(snap.rows, exact), key="train_job_validation_chart", width="stretch")
        if snap.status == FAILED:
            st.code(run.log_tail() or "(the log is empty)", language=None)
        if status == cli_job.RUNNING and not snap.running:
            st.rerun()

    _panel()


def readouts(snap: cli_job.Snapshot, report: dict | None) -> None:
    """The latest step's numbers; the final report's once the job has finished."""
    last = snap.latest or {}
    fmt = lambda v, f="{:.4g}": "—" if not isinstance(v, (int, float)) else f.format(v)  # noqa: E731
    c = st.columns(4)
    if isinstance(report, dict):
        c[0].metric("Transport cost", fmt(report.get("transport_cost")), help="of the kept flow, W₂² scale")
        c[1].metric("Exact OT cost", fmt(report.get("exact_ot_cost")), help="POT on the run's samples")
        c[2].metric("Fit", fmt(report.get("fit")), help="energy distance of T#P to Q; 0 is a perfect fit")
    else:
        c[0].metric("Transport cost", fmt(last.get("latest_transport_cost")), help="held-out, W₂² scale")
        c[1].metric("Fit", fmt(last.get("latest_fit")), help="held-out energy distance of T#P to Q")
        c[2].metric("Steps / s", fmt(last.get("steps_per_s"), "{:.1f}"), help="of the current stage")
    c[3].metric("Step", f"{snap.steps}")


def use_flow(run: cli_job.JobRun, pair: state.Pair | None) -> None:
    """The job's flow becomes the session's trained flow, on the pair it was trained on (the
    session's own pair when it started the job with it, else the run folder's samples)."""
    flow = run.flow()
    if pair is None or st.session_state.get(OWNERS, {}).get(str(run.folder)) != pair.id:
        P, Q = run.samples()
        info = runfolder.read_info(run.folder)
        pair = state.set_pair(P, Q, **{k: str(info.get(k, d)) for k, d in
                                      (("label_p", "P"), ("label_q", "Q"), ("desc_p", ""), ("desc_q", ""))})
        st.session_state["distributions.applied"] = None     # the Distributions page adopts this pair as it is
        st.session_state.setdefault(OWNERS, {})[str(run.folder)] = pair.id
    flow.meta["pair_id"] = pair.id
    state.set_flow(flow, source="trained")


def _label(run: cli_job.JobRun) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started)) if run.started else "?"
    return f"{run.title} · started {when} · {run.folder.name}"      # its status is drawn below (labels do not refresh)


def _planned(run: cli_job.JobRun) -> dict[str, int] | None:
    config, dim = run.config(), runfolder.read_info(run.folder).get("dim")
    return flowjob.planned(config, dim) if config is not None and isinstance(dim, int) else None


def _shown(path):
    """``path`` relative to the working folder when it lies inside it (``runs/``), else as it is."""
    try:
        return path.resolve().relative_to(type(path).cwd().resolve())
    except ValueError:
        return path
