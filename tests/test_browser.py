"""The real app in a real browser: Playwright drives Debian's chromium against `streamlit run app.py`.

Skipped (with the reason) where playwright or chromium is missing, unless OTFLOW_REQUIRE_BROWSER=1
(CI), where that is a failure. Screenshots of each page go to test-artifacts/browser/.
"""
import re
import time

import pytest

from browser_helpers import app_in_chromium, require_browser, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser_page():
    require_browser()
    with app_in_chromium() as (browser, url):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        yield page


def app_pages():
    """The entrypoint's PAGES table: (file, sidebar title, URL path)."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).resolve().parent.parent / "app.py").read_text())
    return next(ast.literal_eval(n.value) for n in tree.body
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "PAGES")


def sidebar_link(page, name):
    return page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=name, exact=True)


def loss_step(page) -> int:
    title = page.locator('[data-testid="stPlotlyChart"] .gtitle').first.text_content(timeout=60_000)
    match = re.search(r"step (\d+)", title or "")
    return int(match.group(1)) if match else -1


def slider_time(page) -> float:
    text = page.locator("text.slider-label", has_text="t =").first.text_content()
    return float(text.split("=")[1])


def test_home_is_titled_home_and_the_toolbar_has_no_deploy_button(browser_page):
    page = browser_page
    page.get_by_role("button", name=re.compile("Try the demo")).wait_for()
    nav = page.locator('[data-testid="stSidebarNav"]').get_by_role("link")
    assert nav.first.text_content().strip() == "Home"
    assert [n.strip() for n in nav.all_text_contents()] == [title for _, title, _ in app_pages()]
    assert page.title().startswith("Home")
    page.locator('[data-testid="stHeader"]').first.wait_for(state="attached")
    page.wait_for_timeout(1000)
    # with client.toolbarMode = "developer" each of these finds the button (checked by hand)
    assert page.get_by_role("button", name="Deploy").count() == 0
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
    assert page.get_by_text("Deploy", exact=True).count() == 0
    screenshot(page, "0-home-toolbar")


def test_demo_train_and_trajectories_in_chromium(browser_page):
    page = browser_page
    demo = page.get_by_role("button", name=re.compile("Try the demo"))
    demo.wait_for()
    page.get_by_role("img").first.wait_for()
    screenshot(page, "1-home")

    demo.click()
    page.get_by_role("heading", name="Trajectories").wait_for()
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for()

    # the loss chart's step count grows while the demo trains in the background
    sidebar_link(page, "Train").click()
    page.get_by_role("heading", name="Training").wait_for()
    first = loss_step(page)
    deadline = time.time() + 60
    while loss_step(page) <= max(first, 0) and time.time() < deadline:
        time.sleep(0.5)
    second = loss_step(page)
    assert 0 <= first < second, f"loss chart did not advance: {first} -> {second}"
    screenshot(page, "2-train")
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text("Status: stopped").wait_for()

    # play the animation, pause it, drag the time slider to the end
    sidebar_link(page, "Trajectories").click()
    page.get_by_role("heading", name="Trajectories").wait_for()
    page.locator("text.slider-label", has_text="t =").first.wait_for()
    assert slider_time(page) == 0.0
    page.locator(".updatemenu-button").nth(0).click()          # ▶ Play
    deadline = time.time() + 20
    while slider_time(page) == 0.0 and time.time() < deadline:
        time.sleep(0.1)
    assert slider_time(page) > 0.0, "play did not advance the frames"
    page.locator(".updatemenu-button").nth(1).click()          # ❚❚ Pause
    grip = page.locator(".slider-grip-rect").first.bounding_box()
    rail = page.locator(".slider-rail-rect").first.bounding_box()
    page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    page.mouse.down()
    page.mouse.move(rail["x"] + rail["width"] / 2, rail["y"] + rail["height"] / 2, steps=8)
    page.mouse.up()
    middle = slider_time(page)
    assert 0.3 <= middle <= 0.7, f"dragging the slider to the middle gave t = {middle}"
    screenshot(page, "3-trajectories")

    sidebar_link(page, "Distributions").click()
    page.get_by_role("heading", name="In use: moons → 8gaussians").wait_for()
    screenshot(page, "4-distributions")

    # the density ratio along the (stopped) demo flow: train the ratio network, the heatmaps draw
    sidebar_link(page, "Density ratio").click()
    page.get_by_role("heading", name="Density ratio").wait_for()
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Start", exact=True).click()
    page.get_by_text("Status: finished").wait_for(timeout=180_000)
    page.get_by_text("log q(x) − log p(x)", exact=True).wait_for()
    heatmaps = page.locator('[data-testid="stPlotlyChart"] g.hm image')
    heatmaps.first.wait_for(state="attached")
    print("heatmap images:", heatmaps.count())
    assert heatmaps.count() >= 4, "the log-ratio, time-score and comparison heatmaps did not render"
    screenshot(page, "5-density-ratio")
