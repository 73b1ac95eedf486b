"""Panoptic tab in a real browser: an example shows things and stuff in the legend, and a slider
re-merges the cached outputs."""
from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import open_tab, shoot

ROOT = Path(__file__).resolve().parents[2]
TWO_PEOPLE = ROOT / "assets" / "photos" / "two_people.jpg"


def test_panoptic_example_shows_things_and_stuff(page):
    open_tab(page, "Panoptic")
    page.locator("#panoptic-input input[type=file]").set_input_files(str(TWO_PEOPLE))
    page.locator("#panoptic-input img").first.wait_for(timeout=30_000)
    page.locator("#panoptic-run").click()
    legend = page.locator("#panoptic-legend")
    legend.get_by_text("person #1").wait_for(timeout=90_000)
    text = legend.inner_text()
    assert "person #2" in text and "background (stuff)" in text, text
    assert "2 things" in page.locator("#panoptic-summary").inner_text()
    assert "2 person" in page.locator("#panoptic-sentence").inner_text()
    shoot(page, "panoptic")
