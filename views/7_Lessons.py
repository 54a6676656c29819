"""Guided lessons a teacher can project, each with a shareable link (?lesson=…&pair=…&steps=…)."""
from __future__ import annotations

import streamlit as st

from ui import lesson_views, lessons_link, lessons_runs, live, page, runner
from ui.lessons_spec import LESSONS, encode
from ui.literal import literal

page.setup("Lessons", "🎓")
PROBLEM = "lessons.problem"      # (link, Problem) of the lesson on screen

st.title("Lessons")
st.caption("Pick a lesson, press its button, and share the link below: it opens the same lesson, pair and "
           "settings in any browser.")
d, messages = lessons_link.choose()
for message in messages:
    st.warning(literal(message), icon=":material/link_off:")
link = encode(d.lesson, d.pair, d.settings)
st.header(LESSONS[d.lesson].title)
st.code(lessons_link.share_line(d), language=None)
lesson_views.explain(d)
problem = None
if d.lesson != "ratio":
    cached = st.session_state.get(PROBLEM)
    if cached is None or cached[0] != link:
        with st.spinner("Drawing the samples …"):
            cached = (link, lessons_runs.lesson_problem(d))
        st.session_state[PROBLEM] = cached
    problem = cached[1]
lesson_views.preview(d, problem)

job = runner.job(f"lesson_{d.lesson}")


def start() -> None:
    chosen, shared = d, problem

    def steps(ctx: dict):
        yield from runner.drive(lessons_runs.run_for(chosen, shared), ctx, "run")

    runner.start(job, steps, context={"link": link})


runner.controls(job, f"lesson_{d.lesson}", start, start_label="Set up this lesson")
live.live_panel(job, lesson_views.status)

run = job.context.get("run")
finished = run is not None and not job.running and run.done
if finished and job.context.get("link") != link:
    st.warning("The results below are for other settings of this lesson; press Restart to run it with these.")
if finished:
    lesson_views.results(d, run, problem)
else:
    st.info("Press **Set up this lesson**: it trains in the background (a few seconds to a minute on a "
            "laptop) and the results appear here.")
