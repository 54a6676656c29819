"""Shared pieces of the app tests: opening the app through its entrypoint, and waiting on a job."""
from __future__ import annotations

import time
from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def open_app(monkeypatch, timeout: float = 60) -> AppTest:
    """The app through ``app.py`` (so page links work), run once, its jobs capped at the test's threads."""
    monkeypatch.setenv("OTFLOW_TORCH_THREADS", str(torch.get_num_threads()))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    app.run()
    return app


def wait_for(cond, timeout: float = 10.0) -> None:
    """Poll ``cond()`` until it is true; fail the test after ``timeout`` seconds."""
    end = time.time() + timeout
    while not cond():
        assert time.time() < end, "timed out"
        time.sleep(0.005)
