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


def test_compare_view_shows_the_tab_s_things_and_says_which_model(page):
    """Offline, the stuff comes from the people-only map; the compare view's semantic picture still
    shows the horse the tab found, and the sentence names the model it shows."""
    open_tab(page, "Panoptic")
    page.locator("#panoptic-input input[type=file]").set_input_files(str(ROOT / "assets/eval/person_dog_horse.jpg"))
    page.locator("#panoptic-input img").first.wait_for(timeout=30_000)
    page.locator("#panoptic-run").click()
    page.locator("#panoptic-legend").get_by_text("horse").first.wait_for(timeout=90_000)
    sentence = page.locator("#panoptic-sentence").inner_text()
    assert "Semantic view" in sentence and "objects-offline" in sentence and "knows only people" in sentence, sentence
    assert "1 horse: 1 region in semantic" in sentence, sentence
    page.locator("#panoptic-compare").scroll_into_view_if_needed()
    shoot(page, "panoptic_compare_offline")
