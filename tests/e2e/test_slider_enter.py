"""A number typed into a slider's box and confirmed with Enter is applied (Instance and Panoptic redraw
the cached result), as dragging the slider is."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import open_tab

ROOT = Path(__file__).resolve().parents[2]
TWO_PEOPLE = ROOT / "assets" / "photos" / "two_people.jpg"
TABS = {  # tab: (input, run button, text that says the result is there, overlay, opacity slider)
    "Instance": ("#instance-input", "#instance-run", ("#instance-summary", "instance(s)"), "#instance-overlay",
                 "instance-opacity"),
    "Panoptic": ("#panoptic-input", "#panoptic-run", ("#panoptic-legend", "person #1"), "#panoptic-overlay",
                 "panoptic-opacity"),
}


def _src(page, overlay: str) -> str:
    return page.locator(f"{overlay} img").first.get_attribute("src") or ""


@pytest.mark.parametrize("tab", list(TABS))
def test_typed_slider_value_and_enter_redraws(page, tab):
    image, run, (done_sel, done_text), overlay, slider = TABS[tab]
    open_tab(page, tab)
    page.locator(f"{image} input[type=file]").set_input_files(str(TWO_PEOPLE))
    page.locator(f"{image} img").first.wait_for(timeout=30_000)
    page.locator(run).click()
    page.locator(done_sel).get_by_text(done_text).first.wait_for(timeout=120_000)
    page.wait_for_function(f"() => document.querySelector('{overlay} img')?.getAttribute('src')")
    before = _src(page, overlay)
    box = page.locator(f"#{slider} input[type=number]")
    box.fill("0")
    box.press("Enter")  # no drag, no click elsewhere: Enter alone must apply it
    page.wait_for_function(
        "([sel, old]) => { const i = document.querySelector(sel + ' img');"
        " return i && i.getAttribute('src') && i.getAttribute('src') !== old; }", arg=[overlay, before],
        timeout=30_000)
    assert page.locator(f"#{slider} input[type=range]").input_value() == "0"
