"""Streamlit helper components of OT Flow Studio (state, background jobs, live panels, widgets).

``ui.state``: the session's pair (P, Q) and latest flow; ``ui.jobs``: background training runner;
``ui.live``: live loss charts and progress bars; ``ui.threads``: torch thread settings for the app.
"""
