"""Per-session state shared by the pages: the chosen pair (P, Q) and the latest flow.

Everything lives in ``st.session_state`` (one key per object), so two browser tabs never share a
pair or a run. Other pages use only these accessors::

    from ui import state
    pair = state.get_pair()          # Pair | None
    if pair is not None:
        pair.P, pair.Q               # (n, d) float32 tensors, user units
        pair.label_p, pair.desc_p    # short name ("moons") and a one-line description
        pair.gaussians               # (Gaussian, Gaussian) when both sides are Gaussians, else None
        pair.view                    # otcore.projection.View: the 2-D view used everywhere for d > 2
        pair.id                      # changes whenever the pair changes (key your caches on it)
    state.set_pair(P, Q, label_p=..., label_q=..., desc_p=..., desc_q=..., gaussians=None, view=None)
    flow = state.get_flow()          # latest otcore.OTFlow: the Train page's run as it stands
                                     # (finished, stopped or a live snapshot), or the last set_flow()
    state.set_flow(flow, source="uploaded")

``get_flow`` prefers whichever is newer: the training job ``FLOW_JOB`` (see ``ui.jobs``) or the
flow last given to ``set_flow``. Snapshots of a running job are taken between two steps and cached
per step, so calling it on every rerun is cheap.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from otcore import Gaussian, OTFlow
from otcore.projection import View, make_view

from . import jobs

PAIR_KEY = "pair"
FLOW_KEY = "flow"
FLOW_SNAPSHOT_KEY = "flow_snapshot"
FLOW_JOB = "train"          # the Train page's job key; its context holds 'trainer' and 'pair_id'
_ids = itertools.count(1)


@dataclass(frozen=True)
class Pair:
    """The two sample sets to transport, P at t = 0 and Q at t = 1, in the user's units."""
    P: torch.Tensor
    Q: torch.Tensor
    label_p: str
    label_q: str
    desc_p: str = ""
    desc_q: str = ""
    gaussians: tuple[Gaussian, Gaussian] | None = None
    view: View | None = None
    spec: Any = None                  # what produced the pair (the Distributions page's widget values)
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def dim(self) -> int:
        return int(self.P.shape[1])

    @property
    def title(self) -> str:
        return f"{self.label_p} → {self.label_q}"


@dataclass
class FlowEntry:
    flow: OTFlow
    source: str          # 'trained' | 'uploaded' | …
    stamp: float         # time.time() when set


def _session() -> Any:
    import streamlit as st

    return st.session_state


def make_pair(P: torch.Tensor, Q: torch.Tensor, *, label_p: str = "P", label_q: str = "Q", desc_p: str = "",
              desc_q: str = "", gaussians: tuple[Gaussian, Gaussian] | None = None, view: View | None = None,
              view_kind: str = "pca", spec: Any = None) -> Pair:
    """Build a :class:`Pair` (no session involved). Refuses different dimensions with ValueError."""
    P = torch.as_tensor(P, dtype=torch.float32)
    Q = torch.as_tensor(Q, dtype=torch.float32)
    if P.ndim != 2 or Q.ndim != 2:
        raise ValueError("P and Q must be (n, d) arrays of samples")
    if P.shape[1] != Q.shape[1]:
        raise ValueError(f"P is {P.shape[1]}-dimensional and Q is {Q.shape[1]}-dimensional; "
                         "a flow needs both in the same dimension")
    if view is None:
        view = make_view([P, Q], view_kind)
    return Pair(P, Q, label_p, label_q, desc_p, desc_q, gaussians, view, spec)


def get_pair() -> Pair | None:
    pair = _session().get(PAIR_KEY)
    return pair if isinstance(pair, Pair) else None


def set_pair(P: torch.Tensor | Pair, Q: torch.Tensor | None = None, **kwargs: Any) -> Pair:
    """Store the pair for this session (a ready :class:`Pair`, or P, Q and :func:`make_pair`'s keywords)."""
    pair = P if isinstance(P, Pair) else make_pair(P, Q, **kwargs)
    _session()[PAIR_KEY] = pair
    return pair


def default_pair(n: int = 2000) -> Pair:
    """moons → 8gaussians, the demo pair."""
    import otcore

    return make_pair(otcore.sample("moons", n, seed=0), otcore.sample("8gaussians", n, seed=1),
                     label_p="moons", label_q="8gaussians",
                     desc_p=f"moons, n = {n}", desc_q=f"8gaussians, n = {n}")


def set_flow(flow: OTFlow, source: str = "trained") -> None:
    _session()[FLOW_KEY] = FlowEntry(flow, source, time.time())


def get_flow() -> OTFlow | None:
    """The newest flow of this session: the training job's (as it stands) or the last set_flow()."""
    entry = flow_entry()
    return None if entry is None else entry.flow


def flow_entry() -> FlowEntry | None:
    """Like :func:`get_flow` with where the flow comes from ('trained', 'training', 'uploaded' …)."""
    ss = _session()
    stored = ss.get(FLOW_KEY)
    stored = stored if isinstance(stored, FlowEntry) else None
    job = jobs.peek_job(FLOW_JOB)
    if job is None or job.steps == 0 or "trainer" not in job.context:
        return stored
    if stored is not None and (job.last_step_at or 0) <= stored.stamp:
        return stored
    key = (job.generation, job.steps, job.status)
    cached = ss.get(FLOW_SNAPSHOT_KEY)
    if cached is not None and cached[0] == key:
        return cached[1]
    trainer = job.context["trainer"]
    flow = job.call(lambda: trainer.flow)
    flow.meta.setdefault("pair_id", job.context.get("pair_id"))
    entry = FlowEntry(flow, "training" if job.running else "trained", job.last_step_at or time.time())
    ss[FLOW_SNAPSHOT_KEY] = (key, entry)
    return entry
