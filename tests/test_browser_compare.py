"""The Compare page in a real browser: pick the built-in moons → 8gaussians pair, compare three methods
with small settings, then check the small multiples (one panel per method, the same particles in every
panel at t = 0), the shared time slider, the table and its CSV download. Screenshot:
test-artifacts/browser/compare.png."""
import base64
import csv
import io
import math
import re
import time

import numpy as np
import pytest

from browser_helpers import app_in_chromium, require_browser, screenshot

pytestmark = pytest.mark.browser
KEEP = ["independent flow matching", "exact OT (POT)", "entropic OT (Sinkhorn)"]
DROP = ["full pipeline", "warm start (minibatch OT-CFM)", "rectified flow (one reflow)"]
PARTICLES = 60
#: the comparison's background run on a loaded 2-core machine: generous, yet bounded
RUN_TIMEOUT_MS = 240_000

#: the particles traces of the chart's plotly div (named 'particles at t = …'), one per panel
PARTICLES_JS = """() => {
  const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  return gd && gd.data ? gd.data.filter(t => (t.name || '').startsWith('particles')).map(t => [t.x, t.y]) : [];
}"""
#: KaTeX draws what it cannot parse (an unknown command) in its error colour instead of failing
KATEX_ERRORS_JS = """() => Array.from(document.querySelectorAll('.katex-error, .katex [style*="color"]'))
  .filter(e => e.classList.contains('katex-error') || getComputedStyle(e).color === 'rgb(204, 0, 0)')
  .map(e => e.textContent)"""


@pytest.fixture(scope="module")
def browser():
    require_browser()
    with app_in_chromium() as (chromium, url):
        yield chromium, url


def values(v) -> np.ndarray:
    """A plotly array as the browser holds it: a list, or a typed array {'dtype', 'bdata'} (base64)."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).astype(float)
    return np.asarray(v, dtype=float)


def particles(page) -> list[np.ndarray]:
    """Each panel's particles, (n, 2), in panel order."""
    return [np.stack([values(x), values(y)], axis=1) for x, y in page.evaluate(PARTICLES_JS)]


def sidebar_link(page, name):
    return page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=name, exact=True)


def wait_title(page, text: str, timeout_ms: int = 60_000) -> None:
    page.wait_for_function("t => { const e = document.querySelector('[data-testid=\"stPlotlyChart\"] .gtitle');"
                           " return e && e.textContent.trim() === t; }", arg=text, timeout=timeout_ms)


def test_compare_page_runs_three_methods_and_draws_panels_slider_table_and_csv(browser):
    chromium, url = browser
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    try:
        page = context.new_page()
        page.set_default_timeout(90_000)
        page.goto(url)
        page.get_by_role("button", name=re.compile("Try the demo")).wait_for()
        sidebar_link(page, "Distributions").click()      # a fresh session gets the default built-in pair
        page.get_by_role("heading", name="In use: moons → 8gaussians").wait_for()
        sidebar_link(page, "Compare").click()
        page.get_by_role("heading", name="Compare methods").wait_for()
        main = page.get_by_test_id("stMainBlockContainer")
        main.get_by_text("Pair: moons → 8gaussians").wait_for()
        main.locator(".katex").first.wait_for()
        assert page.evaluate(KATEX_ERRORS_JS) == [], "a formula beside the figure does not parse"

        for label in DROP:                               # three methods keep the run short
            main.get_by_role("button", name=f"Remove {label}").click()
            main.get_by_role("button", name=f"Remove {label}").wait_for(state="detached")
        for label in KEEP:
            assert main.get_by_role("button", name=f"Remove {label}").count() == 1
        for name, value in (("Seconds per flow", "1"), ("Particles", str(PARTICLES))):
            box = main.get_by_label(name, exact=True)
            box.fill(value)
            box.press("Enter")
        main.get_by_text("1 learned flow(s) × 1 s", exact=False).wait_for()

        began = time.perf_counter()
        main.get_by_role("button", name="Start", exact=True).click()
        page.get_by_text("Status: finished").wait_for(timeout=RUN_TIMEOUT_MS)
        print(f"the comparison ran {time.perf_counter() - began:.1f} s")
        assert page.locator('[data-testid="stException"]').count() == 0

        # the small multiples: one panel per method, titled with its label, at the slider's middle time
        chart = main.locator('[data-testid="stPlotlyChart"]')
        chart.locator(".gtitle").first.wait_for()
        wait_title(page, "t = 0.50")
        titles = [t.strip() for t in chart.locator(".annotation-text").all_text_contents()]
        assert titles[:3] == ["independent flow matching", "exact OT (POT)", "entropic OT (ε = 0.05)"], titles
        title_box = chart.locator(".gtitle").first.bounding_box()
        for i in range(3):                               # the figure's title clears every panel's title
            box = chart.locator(".annotation-text").nth(i).bounding_box()
            assert box["y"] >= title_box["y"] + title_box["height"], f"the title overlaps the panel title {titles[i]!r}"
        assert page.evaluate(KATEX_ERRORS_JS) == []      # the formulas beside the panels and the table
        assert main.locator(".katex").count() >= 3
        middle = particles(page)
        assert [p.shape for p in middle] == [(PARTICLES, 2)] * 3

        # the table and its CSV: the exact plan's cost is the exact cost; the flow inverts itself
        main.locator('[data-testid="stDataFrame"]').first.wait_for()
        download = main.get_by_role("button", name="Download the table (CSV)")
        download.wait_for()
        with page.expect_download() as info:
            download.click()
        assert info.value.suggested_filename == "compare.csv"
        rows = list(csv.DictReader(io.StringIO(open(info.value.path(), encoding="utf-8").read())))
        by_method = {r["method"]: r for r in rows}
        assert list(by_method) == ["independent", "exact", "entropic"], list(by_method)
        assert float(by_method["exact"]["cost_ratio"]) == pytest.approx(1.0, abs=1e-6)
        assert by_method["exact"]["inversion_error"] == "n/a"
        assert float(by_method["independent"]["inversion_error"]) < 0.05
        assert all(math.isfinite(float(r["cost"])) and float(r["cost"]) > 0 for r in rows)
        assert len({r["exact_cost"] for r in rows}) == 1    # one exact reference for every method

        # one slider moves every panel: at t = 0 each panel shows the same particles of P
        slider = main.get_by_role("slider", name=re.compile("Time t"))
        slider.focus()
        slider.press("Home")
        wait_title(page, "t = 0.00")
        start = particles(page)
        assert len(start) == 3
        for p in start[1:]:
            np.testing.assert_allclose(p, start[0], atol=1e-5)      # the same particles of P in every panel
        slider.press("End")
        wait_title(page, "t = 1.00")
        end = particles(page)
        assert all(np.abs(a - b).max() > 1e-2 for a, b in zip(start, end)), "a panel did not follow the slider"
        assert np.abs(end[1] - end[2]).max() > 1e-2      # exact and entropic OT send the particles to different places
        assert page.locator('[data-testid="stException"]').count() == 0
        slider.press("Home")                             # back to the middle for the picture
        for _ in range(10):
            slider.press("ArrowRight")
        wait_title(page, "t = 0.50")
        page.wait_for_timeout(1000)
        screenshot(page, "compare")
    except Exception:
        screenshot(page, "compare-failed")          # what the page showed when the test gave up
        raise
    finally:
        context.close()
