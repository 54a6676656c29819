"""Widgets that build an ``otcore.FlowConfig`` (keys ``cfg_<field>``, persisted by ``ui.page``):
the basic fields in two columns, every other field in an expander."""
from __future__ import annotations

from dataclasses import fields

import streamlit as st

import otcore

from .page import default

BASE = otcore.FlowConfig()

#: FlowConfig field -> (label, widget kind, options); the basic ones first, the rest in the expander
BASIC = {
    "warm_steps": ("Warm-start steps (flow matching)", "int", dict(min_value=0, max_value=200_000, step=100)),
    "refine_steps": ("Refinement steps", "int", dict(min_value=0, max_value=20_000, step=10)),
    "hidden": ("Network width", "int", dict(min_value=8, max_value=2048, step=32)),
    "depth": ("Network depth", "int", dict(min_value=1, max_value=12, step=1)),
    "gamma_start": ("γ at the start of refinement", "float", dict(min_value=0.0, max_value=10.0, step=0.005, format="%.4f")),
    "gamma_end": ("γ at the end of refinement", "float", dict(min_value=0.0, max_value=10.0, step=0.001, format="%.4f")),
    "seed": ("Seed", "int", dict(min_value=0, max_value=1_000_000, step=1)),
    "budget_s": ("Time budget, s (0: run the step counts)", "float", dict(min_value=0.0, max_value=86_400.0, step=10.0)),
}
CHOICES = {"solver": ["rk4", "midpoint", "euler", "dopri5"], "train_solver": ["rk4", "midpoint", "euler"],
           "refine_method": list(otcore.config.REFINE_METHODS),
           "pairing": list(otcore.config.PAIRINGS)}


def config_widgets() -> tuple[otcore.FlowConfig | None, str | None]:
    """The config the widgets describe, or (None, why it is invalid)."""
    values = {}
    c = st.columns(2)
    for i, (name, (label, kind, opts)) in enumerate(BASIC.items()):
        value = c[i % 2].number_input(label, key=default(f"cfg_{name}", getattr(BASE, name)), **opts)
        values[name] = int(value) if kind == "int" else float(value)
    with st.expander("Advanced settings"):
        c = st.columns(2)
        rest = [f for f in fields(otcore.FlowConfig) if f.name not in BASIC]
        for i, f in enumerate(rest):
            col = c[i % 2]
            key = default(f"cfg_{f.name}", getattr(BASE, f.name))
            if f.name in CHOICES:
                values[f.name] = col.selectbox(f.name, CHOICES[f.name], key=key)
            elif isinstance(getattr(BASE, f.name), bool):
                values[f.name] = col.checkbox(f.name, key=key)
            elif isinstance(getattr(BASE, f.name), int):
                values[f.name] = int(col.number_input(f.name, min_value=0, step=1, key=key))
            else:
                values[f.name] = float(col.number_input(f.name, min_value=0.0, format="%.6g", key=key))
    try:
        return otcore.FlowConfig(**values), None
    except (ValueError, TypeError) as err:
        return None, str(err)


def device_widget() -> str:
    """The device selectbox (an accelerator when there is one, else the CPU)."""
    devices = otcore.available_devices()
    default("cfg_device", next((d for d in devices if d.startswith("cuda")), "cpu"))
    if st.session_state["cfg_device"] not in devices:
        st.session_state["cfg_device"] = "cpu"
    return st.selectbox("Device", list(devices), format_func=lambda d: devices[d], key="cfg_device")
