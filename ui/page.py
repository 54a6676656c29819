"""What every page does first: page config, torch threads, and widget values that survive page
switches.

Streamlit forgets the state of widgets that are not drawn on the current page. Widgets whose key
starts with one of ``PERSISTENT`` are copied to a shadow dict on every run and put back when their
page is opened again, so P and Q, the training settings, the animation settings and the Images
page's settings stay as the user left them. This is the app's only mechanism for it. Such widgets
get their default through :func:`default` (never through ``value=``). Buttons, uploads and
downloads (keys containing one of ``TRANSIENT``) are never restored: Streamlit refuses to set them.
"""
from __future__ import annotations

import importlib
import threading
from typing import Any

import streamlit as st

from . import threads

PERSISTENT = ("dist_", "cfg_", "traj_", "img_", "cmp_")
TRANSIENT = ("_btn", "btn_", "_up_", "up_", "_download")
SHADOW = "_widget_shadow"


def setup(title: str, icon: str = "🌀") -> None:
    """Call first on every page."""
    st.set_page_config(page_title=f"{title} · OT Flow Studio", page_icon=icon, layout="wide")
    threads.configure_if_loaded()
    no_gc_after_each_run()
    sync_widgets()


_preloading: set[str] = set()


def no_gc_after_each_run() -> None:
    """Turn off Streamlit's ``runner.postScriptGC`` (a full ``gc.collect(2)`` after every script run).
    With torch, scipy and plotly loaded a full collection walks ~300k objects (0.2-0.3 s here, GIL
    held); the live panel reruns three times a second, so training in the background thread ran 4×
    slower with the Train page open (bench/results/app.md). Python's own generational GC still runs.
    ``.streamlit/config.toml`` can say the same with ``[runner] postScriptGC = false``."""
    from streamlit import config

    if config.get_option("runner.postScriptGC"):
        config.set_option("runner.postScriptGC", False, "ui.page: OT Flow Studio trains in the server process")


def preload(*modules: str) -> None:
    """Import heavy modules (torch, otcore …) in a background thread, once per process, so the
    first page paints before they load and the next page finds them ready."""
    todo = [m for m in modules if m not in _preloading]
    if todo:
        _preloading.update(todo)
        threading.Thread(target=lambda: [importlib.import_module(m) for m in todo], daemon=True,
                         name="preload").start()


def sync_widgets() -> None:
    ss = st.session_state
    shadow = ss.setdefault(SHADOW, {})
    for key in list(ss.keys()):
        if persistent(key):
            shadow[key] = ss[key]
    for key, value in shadow.items():
        if key not in ss:
            ss[key] = value


def persistent(key: Any) -> bool:
    """Whether the widget ``key`` keeps its value across page switches."""
    return isinstance(key, str) and key.startswith(PERSISTENT) and not any(t in key for t in TRANSIENT)


def default(key: str, value: Any) -> str:
    """Give the widget ``key`` its starting value (once); returns the key for ``key=``."""
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def set_widget(key: str, value: Any) -> None:
    """Change a persistent widget's value from code (before the widget is drawn in this run)."""
    st.session_state[key] = value
    st.session_state.setdefault(SHADOW, {})[key] = value


def explain(text: str, *formulas: str) -> None:
    """Two or three sentences and the formula(s) beside a figure."""
    st.markdown(text)
    for f in formulas:
        st.latex(f)
