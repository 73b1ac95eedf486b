"""The app on a phone (390x844) and a tablet (768x1024) in a real browser: every tab and sub-tab name is on
screen and clickable, the Models table's columns keep a readable width (the table scrolls sideways
instead), and the Faces charts' labels render at 11 px or more."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import open_tab, shoot

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = ROOT / "assets" / "faces" / "people"
SCREENS = {"phone": (390, 844), "tablet": (768, 1024)}
TOP_TABS = ("Semantic", "Instance", "Panoptic", "Faces", "Style", "Models")
SUB_TABS = {"Faces": ("Verify", "Gallery", "Recognize", "Calibrate", "Learn"),
            "Style": ("Fast", "Quality (Gatys)")}
MIN_COLUMN_PX = 60
MIN_TEXT_PX = 11.0

# the rendered size of every visible SVG text inside a selector: font size (user units) x the screen scale
TEXT_SIZES_JS = """sel => [...document.querySelectorAll(sel + ' .cv-chart svg text')]
  .filter(t => t.getClientRects().length > 0 && t.closest('svg').getBoundingClientRect().width > 0)
  .map(t => [t.textContent, parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a])"""


@pytest.fixture(params=list(SCREENS))
def small_page(request, browser, app_url):
    width, height = SCREENS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(app_url)
    page.wait_for_selector("button[role=tab]", timeout=60_000)
    page.screen_name = request.param
    yield page
    context.close()


def _tab(page, name: str):
    return page.locator("button[role=tab]:visible", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")).first


def _assert_on_screen_and_select(page, name: str) -> None:
    tab = _tab(page, name)
    box = tab.bounding_box()
    width = page.viewport_size["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)
    assert tab.inner_text().strip() == name
    tab.click()
    page.wait_for_function("el => el.getAttribute('aria-selected') === 'true'", arg=tab.element_handle())


def test_every_tab_and_sub_tab_name_is_visible_and_clickable(small_page):
    page = small_page
    assert page.locator(".overflow-menu button:visible").count() == 0  # no "More tabs" menu hides a name
    for name in TOP_TABS:
        _assert_on_screen_and_select(page, name)
        for sub in SUB_TABS.get(name, ()):
            _assert_on_screen_and_select(page, sub)
    _assert_on_screen_and_select(page, "Faces")
    shoot(page, f"phone_tabs_{page.screen_name}")


def test_models_table_columns_stay_readable(small_page):
    page = small_page
    open_tab(page, "Models")
    page.locator("#models-table thead th").first.wait_for()
    widths = page.eval_on_selector_all("#models-table thead th",
                                       "ths => ths.filter(t => t.innerText.trim()).map(t => [t.innerText.trim(),"
                                       " t.getBoundingClientRect().width])")
    assert len(widths) == 8, widths
    assert all(w >= MIN_COLUMN_PX for _, w in widths), widths
    shoot(page, f"phone_models_{page.screen_name}")


def _text_sizes(page, selector: str) -> list[tuple[str, float]]:
    return [tuple(x) for x in page.evaluate(TEXT_SIZES_JS, selector)]


def test_faces_charts_text_is_at_least_11px(small_page):
    page = small_page
    open_tab(page, "Faces")
    page.locator("#faces-verify-a input[type=file]").set_input_files(str(PEOPLE / "Barack_Obama" / "1.jpg"))
    page.locator("#faces-verify-b input[type=file]").set_input_files(str(PEOPLE / "Barack_Obama" / "3.jpg"))
    page.locator("#faces-verify-b img").first.wait_for(timeout=30_000)
    page.locator("#faces-verify-run").click()
    page.locator("#faces-verify-axis .cv-chart svg:visible").first.wait_for(timeout=90_000)
    sizes = _text_sizes(page, "#faces-verify-axis")
    assert len(sizes) >= 8, sizes  # ticks, zones, threshold, default, this pair, the axis name
    assert min(s for _, s in sizes) >= MIN_TEXT_PX, sizes
    shoot(page, f"phone_verify_{page.screen_name}")

    # the triplet line (Learn) on the example gallery
    _tab(page, "Gallery").click()
    page.get_by_role("button", name="Load the example gallery").click()
    page.locator("#faces-gallery-summary").get_by_text("3 people, 4 photos").wait_for(timeout=60_000)
    _tab(page, "Learn").click()
    margin = page.locator("#faces-triplet-margin input[type=number]")
    margin.fill("0.3")
    margin.press("Enter")
    page.locator("#faces-triplet-svg .cv-chart svg:visible").first.wait_for(timeout=60_000)
    sizes = _text_sizes(page, "#faces-triplet-svg")
    assert len(sizes) >= 6 and min(s for _, s in sizes) >= MIN_TEXT_PX, sizes
