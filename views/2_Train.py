"""Train the flow in the background (or as a job process of its own) with a live loss chart; save and reopen flows."""
from __future__ import annotations

import re
import time
from pathlib import Path

import streamlit as st

import otcore
from otcore.files import reserve_path
from otcore.viz.training import validation_figure
from ui import config_form, flowjob, job_panel, jobs, live, page, runner, state
from ui.literal import literal

page.setup("Train")
RUNS = flowjob.runs_dir()


def resume_offer() -> None:
    """Runs found on disk that never finished (a server restart, a closed tab): resume one."""
    found = flowjob.unfinished()
    if not found:
        return
    busy = jobs.peek_job(state.FLOW_JOB)
    busy = busy is not None and busy.running
    with st.expander(f"Resume an unfinished run ({len(found)} found in runs/)", expanded=not busy):
        st.caption("Each run folder keeps its samples and its latest checkpoint, so training continues where it "
                   "stopped; the run's samples become the pair in use.")
        labels = {str(r.folder): f"{r.title} · step {r.global_step if r.global_step is not None else '?'} · "
                                 f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(r.saved))} · {r.folder.name}"
                  for r in found}
        chosen = st.selectbox("Run", list(labels), format_func=labels.get, key="train_resume_pick")
        if st.button("Resume this run", key="train_btn_resume_folder", disabled=busy,
                     help="trains in this session's Train job (Stop the current run first)"):
            try:
                flowjob.resume_folder(Path(chosen), st.session_state.get("cfg_device", "cpu"),
                                      st.session_state.get("cfg_tensorboard", False))
            except ValueError as err:
                st.session_state["train_resume_error"] = literal(str(err))
            st.rerun()
        if st.session_state.get("train_resume_error"):
            st.error(st.session_state.pop("train_resume_error"))


def readouts(job: jobs.Job, rows: list[dict], pair: state.Pair) -> None:
    last = job.latest
    exact, method, n_exact = flowjob.exact_cost(pair)
    fmt = lambda v, f="{:.4g}": "—" if v is None else f.format(v)  # noqa: E731
    c = st.columns(4)
    c[0].metric("KL(T#P ‖ Q)", fmt(getattr(last, "kl_pq", None)), help="classifier estimate, nats (refinement only)")
    c[1].metric("KL(T⁻¹#Q ‖ P)", fmt(getattr(last, "kl_qp", None)), help="classifier estimate, nats (refinement only)")
    c[2].metric("Transport cost", fmt(getattr(last, "transport_cost", None)), help="held-out kinetic energy, W₂² scale")
    c[3].metric("Exact OT cost", fmt(exact), help=f"POT ({method}) on {n_exact} samples a side: what a perfect "
                                                "map of these samples pays")
    c = st.columns(4)
    c[0].metric("Fit", fmt(getattr(last, "fit", None)), help="held-out energy distance of T#P to Q; 0 is a perfect fit")
    c[1].metric("Steps / s", fmt(getattr(last, "steps_per_s", None), "{:.1f}"), help="of the current stage")
    c[2].metric("Elapsed", fmt(getattr(last, "elapsed", None), "{:.1f} s"))
    c[3].metric("Step", f"{int(getattr(last, 'global_step', 0) or 0)}")
    if pair.dim > 2:
        st.caption("In d > 2 the exact discrete OT cost of a finite sample overstates W₂² (more so as d grows); "
                   "for Gaussian pairs compare with the closed form below.")
    if pair.gaussians is not None:
        st.caption(f"Closed form for this Gaussian pair: W₂² = {otcore.w2_squared(*pair.gaussians):.4g}.")


def panel(job: jobs.Job, rows: list[dict]) -> None:
    trainer = flowjob.trainer_of(job)
    pair_now = state.get_pair()
    cfg = job.context.get("config")
    done_total = trainer.progress() if trainer is not None else None
    live.training_view(job, rows, planned=flowjob.planned(cfg, pair_now.dim) if cfg and pair_now else None, done_total=done_total,
                       chart_key="train_loss_chart")
    if trainer is not None and trainer.note:
        st.info(trainer.note)
    if pair_now is not None and rows:
        readouts(job, rows, pair_now)
        if any("val_transport_cost" in r for r in rows):
            exact = flowjob.exact_cost(pair_now)[0]
            st.plotly_chart(validation_figure(rows, exact), key="train_validation_chart", width="stretch")
            st.caption("Every few steps the flow is measured on samples kept out of training: its transport cost "
                       "(it should approach the dashed exact OT cost from above) and its fit to Q (lower is better). "
                       "When training ends, the weights with the best validated cost at an acceptable fit are kept.")


st.title("Train")
resume_offer()
pair = state.get_pair()
if pair is None:
    st.info("No distributions chosen yet.")
    c1, c2 = st.columns(2)
    if c1.button("Use the default pair (moons → 8gaussians)", key="btn_default_pair"):
        state.set_pair(state.default_pair())
        st.rerun()
    if c2.button("Choose distributions", key="btn_to_dist"):
        st.switch_page("views/1_Distributions.py")
    if job_panel.has_jobs():
        st.subheader("Jobs in runs/")
        job_panel.follow(None)
    st.stop()

job = flowjob.job()
st.markdown(f"Pair: **{literal(pair.title)}** (n = {len(pair.P)} and {len(pair.Q)}, d = {pair.dim}).")
if job.context.get("pair_id") not in (None, pair.id):
    st.warning("The run below was trained on a previous pair; Start trains on the pair now chosen.")

left, right = st.columns([2, 3], gap="large")
with left:
    st.subheader("Settings")
    cfg, cfg_error = config_form.config_widgets()
    if cfg_error:
        st.error(cfg_error)
    device = config_form.device_widget()
    mode, procs, tensorboard = job_panel.run_widgets(device)
    if mode == job_panel.JOB:
        job_panel.start_button(pair, cfg, device, procs, tensorboard)
    else:
        runner.controls(job, "train", lambda: flowjob.start(pair, cfg, device, tensorboard), ready=cfg is not None,
                        forget=(state.FLOW_SNAPSHOT_KEY,))
    if mode == job_panel.SESSION and job.context.get("folder") is not None:
        st.caption(f"Run folder: {literal(job.context['folder'].name)} (checkpointed every "
                   f"{flowjob.CHECKPOINT_EVERY_S:.0f} s and when stopped).")

with right:
    st.subheader("Training")
    if mode == job_panel.JOB:
        job_panel.follow(pair)
    else:
        live.live_panel(job, panel)

st.divider()
text, formulas = st.columns([3, 2], gap="large")
with text:
    st.markdown(
        "**Two stages.** The *warm start* regresses the velocity on straight segments between OT-paired "
        "minibatches (flow matching; one cheap step each). Its paths bend where paired segments cross, so "
        "they cost more than the map they make. The default refinement (*reflow*, d ≥ 3) integrates the "
        "warm start once over every training point of P and Q and regresses the velocity again on straight "
        "segments between each point and its image: the map stays, the paths straighten, and the cost "
        "falls to the map's own cost. The seed's *Q-flow* refinement (refine_method = qflow) instead "
        "minimises a KL divergence estimated by a classifier r plus γ times the kinetic energy. The best "
        "weights on held-out samples are kept. With a time budget, the refinement gets refine_share of it.\n\n"
        "**Transport cost vs exact OT.** The transport cost is the kinetic energy the learned flow spends per "
        "particle. The exact discrete OT cost is what the best possible matching of these very samples pays "
        "(POT's exact solver): a flow cheaper than it has not reached Q, a much dearer one takes detours.")
with formulas:
    st.latex(r"\mathcal{L}_{\text{warm}} = \mathbb{E}_{t,(x_0,x_1)\sim\pi_{\text{OT}}}\lVert v(x_t,t) - (x_1-x_0)\rVert^2,"
             r"\ x_t = (1-t)x_0 + t x_1")
    st.latex(r"\mathcal{L}_{\text{reflow}} = \mathbb{E}_{t,\,x\sim P}\lVert v(x_t,t) - (\hat T(x)-x)\rVert^2,"
             r"\ x_t = (1-t)x + t\hat T(x)")
    st.latex(r"\mathcal{L}_{P\to Q} = \mathrm{KL}(T_\#P\,\Vert\,Q) + \gamma\,\mathbb{E}_{x\sim P}\sum_k "
             r"\frac{\lVert x(t_k)-x(t_{k-1})\rVert^2}{2h_k}")
    st.latex(r"\mathrm{KL}(T_\#P\,\Vert\,Q) \approx -\mathbb{E}_{x\sim P}\,r(T(x)),\quad r \approx \log\frac{q}{T_\#P}")
    st.latex(r"\text{cost} = \int_0^1 \mathbb{E}\,\lVert v(x(t),t)\rVert^2\,dt \;\ge\; W_2^2(P,Q)")

st.divider()
st.subheader("Save or open a flow")
save_col, open_col = st.columns(2, gap="large")
with save_col:
    entry = state.flow_entry()
    if entry is None:
        st.caption("Train (or open) a flow to save it.")
    elif job.running:
        st.caption("Stop the run (or let it finish) to save it.")
    else:
        flow = entry.flow
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{pair.label_p}_to_{pair.label_q}")
        st.download_button("⬇ Download the flow (.pt)", flow.to_bytes(), file_name=f"{name}.pt",
                           mime="application/octet-stream", key="btn_download_flow")
        if st.button("Write it under runs/", key="btn_write_flow"):
            path = flow.save(reserve_path(RUNS, name, ".pt"))
            st.session_state["train_saved_path"] = str(path)
        if st.session_state.get("train_saved_path"):
            st.success(f"Saved to {literal(st.session_state['train_saved_path'])}")
        if job.status == jobs.DIVERGED:
            st.caption("The run diverged; the flow saved here holds its last good weights.")
with open_col:
    up = st.file_uploader("Open a saved flow (.pt)", type=["pt"], key="up_flow")
    if up is not None and st.session_state.get("up_flow_done") != up.file_id:
        st.session_state["up_flow_done"] = up.file_id
        try:
            loaded = otcore.OTFlow.load(up.getvalue())
            state.set_flow(loaded, source="uploaded")
            st.session_state["up_flow_msg"] = ("ok", f"Opened {literal(up.name)}: a {loaded.dim}-D flow "
                                                     f"({loaded.meta.get('trained_steps', '?')} training steps).")
        except otcore.FlowFileError as err:
            st.session_state["up_flow_msg"] = ("error", literal(f"{up.name}: {err}"))
    kind, msg = st.session_state.get("up_flow_msg", (None, None))
    if kind == "ok":
        st.success(msg)
        entry = state.flow_entry()
        if entry is not None and entry.flow.dim != pair.dim:
            st.warning(f"This flow is {entry.flow.dim}-dimensional but the pair is {pair.dim}-dimensional; "
                       "choose matching distributions to view it.")
        elif entry is not None and entry.source == "uploaded" and st.button("View its trajectories →", key="btn_to_traj_up"):
            st.switch_page("views/3_Trajectories.py")
    elif kind == "error":
        st.error(msg, icon=":material/warning:")
