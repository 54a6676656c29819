"""Starting the app as a real server and driving Debian's chromium with Playwright (tests and bench)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
EXTRA = os.environ.get("OTFLOW_STREAMLIT_FLAGS", "").split()
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements.txt)"
    if shutil.which("chromium") is None:
        return "Debian's chromium is not on PATH (apt-get install chromium; .ci/run does this)"
    return None


def require_browser() -> None:
    """Skip the calling test when Chromium or Playwright is missing; fail instead where the browser
    tests are required (``OTFLOW_REQUIRE_BROWSER=1``, as in CI)."""
    import pytest

    why = missing()
    if why:
        if os.environ.get("OTFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required here (OTFLOW_REQUIRE_BROWSER=1) but {why}")
        pytest.skip(why)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(port: int | None = None, env: dict[str, str] | None = None,
                     timeout: float = 60.0) -> Iterator[tuple[str, float]]:
    """Run ``streamlit run app.py`` on 127.0.0.1:port in its own process group; yields (url,
    time.perf_counter() at launch) once /_stcore/health answers; stops the group afterwards."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--server.port", str(port), *EXTRA]
    log = open(ARTIFACTS.parent / f"streamlit-{port}.log", "w") if _mkdirs() else subprocess.DEVNULL
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {proc.returncode}; see {getattr(log, 'name', 'its log')}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > end:
                raise RuntimeError(f"streamlit did not answer within {timeout:.0f} s")
            time.sleep(0.05)
        yield url, started
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if log is not subprocess.DEVNULL:
            log.close()


def _mkdirs() -> bool:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return True


@contextmanager
def app_in_chromium(env: dict[str, str] | None = None) -> Iterator[tuple[object, str]]:
    """The app served by Streamlit and a headless Chromium: yields (browser, the app's URL); runs
    go to test-artifacts/runs unless ``env`` says otherwise. Call :func:`require_browser` first."""
    from playwright.sync_api import sync_playwright

    with streamlit_server(env={"OTFLOW_RUNS_DIR": "test-artifacts/runs", **(env or {})}) as (url, _):
        with sync_playwright() as pw:
            chromium = launch_chromium(pw)
            try:
                yield chromium, url
            finally:
                chromium.close()


def launch_chromium(playwright):
    """Debian's chromium, headless, with the flags that keep it quiet and offline."""
    return playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS, headless=True)


def screenshot(page, name: str) -> Path:
    """The whole page: Streamlit scrolls inside its main container, so the viewport is stretched to
    the container's content height for the picture and restored afterwards."""
    _mkdirs()
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                           " return m ? m.scrollHeight : document.body.scrollHeight; }")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height), 8000))})
    try:
        page.wait_for_timeout(500)
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)
    return path
