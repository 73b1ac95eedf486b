"""What a first-time visitor trips over (issue 14), checked in a real browser: a failed run leaves the last
good result on screen with one message; bad uploads are refused when they arrive; the screen never says
something about a result it does not show; the answer is visible without scrolling; every tab works on
a phone-sized screen."""
from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import open_tab, shoot

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "assets" / "photos"


def _pick(page, elem_id: str, option: str) -> None:
    """Choose ``option`` in the gr.Dropdown ``#elem_id``."""
    box = page.locator(f"#{elem_id} input").first
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).first.click()
    page.wait_for_function(f"() => document.querySelector('#{elem_id} input')?.value === {option!r}")


def _error_badges(page) -> int:
    """Red "Error" status badges that cover an output (a toast is not one)."""
    return page.locator("[data-testid=status-tracker] span.error:visible").count()


def test_a_failed_run_keeps_the_last_result_and_says_why_once(page):
    open_tab(page, "Style")
    page.locator("#style-gallery").locator("img").first.wait_for(timeout=90_000)
    page.locator("#style-examples img").first.click()
    page.locator("#style-content img").first.wait_for(timeout=30_000)
    page.locator("#style-gallery button.thumbnail-item").nth(1).click()  # a built-in style
    page.locator("#style-fast-run").click()
    page.wait_for_function("() => document.querySelector('#style-fast-out img')?.naturalWidth > 0",
                           timeout=90_000)
    info = page.locator("#style-fast-info").inner_text()
    # now a run that fails: a built-in style cannot mix with a painting
    _pick(page, "style-mix-with", "painting: starry_night")
    page.locator("#style-fast-run").click()
    toast = page.locator(".toast-body.error")
    toast.first.wait_for(timeout=60_000)
    assert "mixes with another built-in style" in toast.first.inner_text()
    page.wait_for_timeout(500)
    shoot(page, "ux_failed_run_keeps_result")
    assert _error_badges(page) == 0
    assert page.evaluate("() => document.querySelector('#style-fast-out img')?.naturalWidth") > 0
    assert page.locator("#style-fast-info").inner_text() == info
