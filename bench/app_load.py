"""App under load (not a test): does a fresh session's page still render while others train?

    python -m bench.app_load                       # 5 training sessions, 3 timed loads of each page
    python -m bench.app_load --sessions 8 --repeats 5 --max-jobs 2
    python -m bench.app_load --write               # also write bench/results/app_load.md

One ``streamlit run app.py`` server and Debian's chromium (``tests/browser_helpers.py``). First the
*idle* times: a fresh browser session (its own context, so its own Streamlit session) opens each
page and the clock stops when the page's marker element is visible. Then ``--sessions`` other
sessions each pick the default pair on the Train page, set a long warm start and press Start, and
stay on the Train page (its live chart refreshing, as a user's would). Beyond the server's job cap
(``$OTFLOW_MAX_JOBS``, default all cores but one) their runs wait in the queue, which the table
reports. Then the same fresh-session loads are timed again. The target (issue 10): loaded ≤ 2 × idle.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))   # browser_helpers

from browser_helpers import launch_chromium, missing, streamlit_server  # noqa: E402

TARGET = 2.0
LONG_RUN = "200000"          # warm-start steps of a loaded session: it trains for the whole measurement
#: page URL path -> (name, what marks the page as rendered for a fresh session)
PAGES = {
    "": ("Home", lambda p: p.get_by_role("button", name=re.compile("Try the demo"))),
    "train": ("Train", lambda p: p.get_by_role("button", name="Use the default pair (moons → 8gaussians)")),
    "distributions": ("Distributions", lambda p: p.get_by_role("heading", name=re.compile("In use"))),
}


def render_seconds(browser, url: str, path: str, timeout_ms: int) -> float:
    """A new browser context (a new Streamlit session) opens ``url/path``; seconds until the page's
    marker is visible."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    try:
        began = time.perf_counter()
        page.goto(f"{url}/{path}")
        PAGES[path][1](page).first.wait_for()
        return time.perf_counter() - began
    finally:
        context.close()


def timings(browser, url: str, repeats: int, timeout_ms: int) -> dict[str, list[float]]:
    return {path: [render_seconds(browser, url, path, timeout_ms) for _ in range(repeats)] for path in PAGES}


def start_training(browser, url: str, timeout_ms: int):
    """A session that trains a long run from the Train page and stays there; returns its page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.goto(f"{url}/train")
    page.get_by_role("button", name="Use the default pair (moons → 8gaussians)").click()
    steps = page.get_by_label("Warm-start steps (flow matching)")
    steps.fill(LONG_RUN)
    steps.press("Enter")
    page.wait_for_timeout(500)
    main = page.get_by_test_id("stMainBlockContainer")
    main.get_by_role("button", name="Start", exact=True).click()
    page.get_by_text(re.compile(r"Status: (running|waiting for a free slot)")).first.wait_for()
    return page


def states(pages) -> dict[str, int]:
    counts = {"running": 0, "waiting": 0, "other": 0}
    for page in pages:
        text = page.get_by_text(re.compile(r"^Status: ")).first.text_content() or ""
        key = "running" if "running" in text else "waiting" if "waiting" in text else "other"
        counts[key] += 1
    return counts


def table(idle: dict[str, list[float]], loaded: dict[str, list[float]], sessions: int, counts: dict[str, int],
          cap: str) -> str:
    lines = [f"Fresh-session page render with {sessions} sessions training (server cap: {cap}; "
             f"{counts['running']} running, {counts['waiting']} queued at the end), median of "
             f"{len(next(iter(idle.values())))} loads, chromium, {platform.node()} ({os.cpu_count()} cores).", "",
             "| page | idle (s) | loaded (s) | loaded / idle | target | ok |", "|---|---:|---:|---:|---:|:-:|"]
    for path, (name, _) in PAGES.items():
        a, b = statistics.median(idle[path]), statistics.median(loaded[path])
        ratio = b / a if a > 0 else float("inf")
        lines.append(f"| {name} | {a:.2f} | {b:.2f} | {ratio:.2f} | ≤ {TARGET:g} | {'yes' if ratio <= TARGET else 'NO'} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=5, help="sessions that train meanwhile (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="timed loads of each page, idle and loaded (default 3)")
    parser.add_argument("--max-jobs", type=int, default=0, help="the server's job cap (default: its own rule)")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds of training before timing (default 10)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds any one page may take (default 180)")
    parser.add_argument("--write", action="store_true", help="also write bench/results/app_load.md")
    args = parser.parse_args()
    if args.sessions < 1 or args.repeats < 1:
        parser.error("--sessions and --repeats must be at least 1")
    why = missing()
    if why:
        print(f"cannot run: {why}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    env = {"OTFLOW_RUNS_DIR": str(ROOT / "test-artifacts" / "runs-load")}
    if args.max_jobs > 0:
        env["OTFLOW_MAX_JOBS"] = str(args.max_jobs)
    cap = str(args.max_jobs) if args.max_jobs > 0 else "default, max(1, cores − 1)"
    timeout_ms = int(args.timeout * 1000)
    with streamlit_server(env=env) as (url, _), sync_playwright() as pw:
        browser = launch_chromium(pw)
        # warm-up: imports and caches
        render_seconds(browser, url, "", timeout_ms)
        idle = timings(browser, url, args.repeats, timeout_ms)
        trainers = [start_training(browser, url, timeout_ms) for _ in range(args.sessions)]
        time.sleep(args.settle)
        loaded = timings(browser, url, args.repeats, timeout_ms)
        counts = states(trainers)
        browser.close()
    out = table(idle, loaded, args.sessions, counts, cap)
    print(out)
    if args.write:
        path = ROOT / "bench" / "results" / "app_load.md"
        path.write_text(f"# App under load\n\n`python -m bench.app_load` ({time.strftime('%Y-%m-%d')})\n\n{out}\n")
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
