"""Job lifetime in a real browser: closing the tab that trains stops its run (after the grace
period, here 2 s) with a checkpoint in its run folder, and a new tab is offered to resume it."""
import json
import re
import time

import pytest

from browser_helpers import launch_chromium, require_browser, screenshot, streamlit_server

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_env():
    require_browser()


def status_of(runs):
    files = list(runs.glob("*/status.json"))
    return json.loads(files[0].read_text()) if files else None


def test_closing_the_tab_stops_the_run_keeps_a_checkpoint_and_a_new_tab_can_resume_it(browser_env, tmp_path):
    from playwright.sync_api import sync_playwright

    runs = tmp_path / "runs"
    env = {"OTFLOW_RUNS_DIR": str(runs), "OTFLOW_SESSION_GRACE": "2", "OTFLOW_CHECKPOINT_EVERY": "3600"}
    with streamlit_server(env=env) as (url, _), sync_playwright() as pw:
        browser = launch_chromium(pw)
        tab = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = tab.new_page()
        page.set_default_timeout(120_000)
        # the home page first, as a visitor arrives; then the Train page
        page.goto(url)
        page.get_by_role("button", name=re.compile("Try the demo")).wait_for()
        page.goto(f"{url}/train")
        page.get_by_role("button", name="Use the default pair (moons → 8gaussians)").click()
        steps = page.get_by_label("Warm-start steps (flow matching)")
        steps.fill("200000")
        steps.press("Enter")
        page.wait_for_timeout(500)
        page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Start", exact=True).click()
        page.get_by_text(re.compile(r"Status: running · [1-9]\d* steps")).first.wait_for()
        assert status_of(runs) is None                  # no checkpoint yet (the periodic one is an hour away)
        tab.close()                                     # the user closes the tab

        deadline = time.time() + 90
        while status_of(runs) is None and time.time() < deadline:
            time.sleep(0.5)
        first = status_of(runs)
        assert first is not None, "no checkpoint was written when the session went away"
        assert first["global_step"] > 0 and first["stage"] == "warm-start"
        time.sleep(5)
        assert status_of(runs) == first                  # stopped: nothing trains, nothing is rewritten

        other = browser.new_page(viewport={"width": 1400, "height": 1000})
        other.set_default_timeout(120_000)
        other.goto(f"{url}/train")
        other.get_by_text(re.compile(r"Resume an unfinished run \(1 found")).wait_for()
        pick = other.locator('[data-testid="stSelectbox"]').first
        pick.wait_for()
        shown = pick.inner_text() + " ".join(i.input_value() for i in pick.locator("input").all())
        screenshot(other, "lifetime-resume-offer")
        assert f"moons → 8gaussians · step {first['global_step']} " in shown, shown
        browser.close()
