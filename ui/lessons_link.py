"""The Lessons page's choice of lesson, pair and settings, kept in step with the page's URL.

The link wins when it is new (a shared link, opened in a fresh browser or pasted): it is decoded
(``ui.lessons_spec.decode``: bad values fall back to defaults, with messages) and set into the
widgets. Afterwards the widgets win, and every change is written back into ``st.query_params``, so
the address bar always holds the link of what is on screen. Switching to another page clears the
URL and Streamlit forgets the widgets; the last choice, kept under ``CURRENT`` (and each lesson's
own under ``MEMORY``), brings them back.
"""
from __future__ import annotations

import streamlit as st

from .lessons_spec import LESSONS, Decoded, decode, encode

PICK = "lesson_pick"
CURRENT = "lessons.current"     # the Decoded last shown
MEMORY = "lessons.memory"       # lesson -> its Decoded as last shown (a lesson chosen again comes back as it was)
WRITTEN = "lessons.written"     # the query parameters this page last wrote


def key(lesson: str, name: str) -> str:
    """The widget key of a lesson's pair ('pair') or setting."""
    return f"lesson_{lesson}_{name}"


def _apply(d: Decoded, *, only_missing: bool = False) -> None:
    ss = st.session_state
    values = {PICK: d.lesson, key(d.lesson, "pair"): d.pair, **{key(d.lesson, k): v for k, v in d.settings.items()}}
    for k, v in values.items():
        if not only_missing or k not in ss:
            ss[k] = v


def _link_params() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params}


def choose() -> tuple[Decoded, tuple[str, ...]]:
    """Draw the lesson's choices; return what they say and the link's problems (if it was just read)."""
    ss = st.session_state
    messages: tuple[str, ...] = ()
    if st.query_params.to_dict() and st.query_params.to_dict() != ss.get(WRITTEN):
        d = decode(_link_params())
        _apply(d)
        messages = d.messages
    else:
        _apply(ss.get(CURRENT) or decode({}), only_missing=True)
    names = list(LESSONS)
    lesson = LESSONS[st.selectbox("Lesson", names, key=PICK, format_func=lambda k: LESSONS[k].title)]
    _apply(ss.get(MEMORY, {}).get(lesson.key) or decode({"lesson": lesson.key}), only_missing=True)
    c = st.columns([2] + [1] * len(lesson.settings))
    pair = c[0].selectbox("Pair", list(lesson.pairs), key=key(lesson.key, "pair"), format_func=lesson.pairs.get)
    settings = {}
    for col, s in zip(c[1:], lesson.settings):
        if s.integer:
            value = col.number_input(s.label, int(s.low), int(s.high), step=1, key=key(lesson.key, s.name), help=s.help)
        else:
            value = col.number_input(s.label, float(s.low), float(s.high), step=1.0, key=key(lesson.key, s.name),
                                     help=s.help)
        settings[s.name] = value
    d = Decoded(lesson.key, pair, settings)
    ss[CURRENT] = d
    ss.setdefault(MEMORY, {})[d.lesson] = d
    written = encode(d.lesson, d.pair, d.settings)
    if st.query_params.to_dict() != written:
        st.query_params.from_dict(written)
    ss[WRITTEN] = written
    return d, messages


def share_line(d: Decoded) -> str:
    """The lesson's link: this page's address (when the browser told it) and the query string."""
    query = "&".join(f"{k}={v}" for k, v in encode(d.lesson, d.pair, d.settings).items())
    base = st.context.url or ""
    return f"{base}?{query}"
