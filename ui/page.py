"""What every page does first: page config, torch threads, and widget values that survive page
switches.

Streamlit forgets the state of widgets that are not drawn on the current page. Widgets whose key
starts with one of ``PERSISTENT`` are copied to a shadow dict on every run and put back when their
page is opened again, so P and Q, the training settings and the animation settings stay as the user
left them. Such widgets get their default through :func:`default` (never through ``value=``).
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from . import threads

PERSISTENT = ("dist_", "cfg_", "traj_")
SHADOW = "_widget_shadow"


def setup(title: str, icon: str = "🌀") -> None:
    """Call first on every page."""
    st.set_page_config(page_title=f"{title} · OT Flow Studio", page_icon=icon, layout="wide")
    threads.configure()
    sync_widgets()


def sync_widgets() -> None:
    ss = st.session_state
    shadow = ss.setdefault(SHADOW, {})
    for key in list(ss.keys()):
        if isinstance(key, str) and key.startswith(PERSISTENT):
            shadow[key] = ss[key]
    for key, value in shadow.items():
        if key not in ss:
            ss[key] = value


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
