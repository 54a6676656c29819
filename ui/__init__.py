"""Streamlit helpers of OT Flow Studio: what pages use besides ``otcore``.

``ui.page``: set-up of every page and the one widget-persistence rule; ``ui.state``: the session's
pair (P, Q) and latest flow; ``ui.runner``: the one adapter from a step-wise trainer to a background
job and the one Start / Stop / Resume / Reset block; ``ui.jobs``: the job itself (thread, lifetime,
saves); ``ui.pool``: the server-wide cap and queue; ``ui.sessions``: whether a browser session is
still there; ``ui.flowjob``: the Train page's job, its run folders and checkpoints; ``ui.cli_command``
and ``ui.cli_job``: a Train run as a job process of its own (its command line; starting, following
and stopping the process); ``ui.live``:
live status, progress and loss charts; ``ui.threads``: torch threads in the app; the rest are the
sections of the larger pages (``config_form``, ``job_panel``, ``ratio_maps``, ``mi_tab``, ``energy_tab``,
``images_*``).
"""
