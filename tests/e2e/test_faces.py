"""Faces tab in a real browser: enrol a person from an upload, then the live webcam (Chromium's fake
camera playing a video made from a different real photo of that person) shows the enrolled name."""
from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import open_tab, shoot, start_recording, upload_until_listed
from tests.e2e.y4m import photo_to_frame, write_y4m

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = ROOT / "assets" / "faces" / "people"
NAME = "Enrolled Obama"


def _subtab(page, name: str):
    page.locator("button[role=tab]:visible", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")).first.click()


def test_enrol_then_live_webcam_shows_the_name(camera_page, tmp_path):
    frame = photo_to_frame(PEOPLE / "Barack_Obama" / "3.jpg")
    video = write_y4m([frame] * 20, tmp_path / "obama.y4m")
    page = camera_page(str(video))
    open_tab(page, "Faces")
    _subtab(page, "Gallery")
    page.locator("#faces-enrol-name textarea, #faces-enrol-name input").first.fill(NAME)
    upload_until_listed(page, "#faces-enrol-files", PEOPLE / "Barack_Obama" / "1.jpg")
    page.locator("#faces-enrol-btn").click()
    page.locator("#faces-enrol-msg").get_by_text("enrolled").wait_for(timeout=60_000)
    page.locator("#faces-gallery-summary").get_by_text("1 people, 1 photos").wait_for()

    _subtab(page, "Recognize")
    _subtab(page, "Live webcam")
    start_recording(page, "#faces-live-cam")
    fps = page.locator("#faces-live-fps")
    fps.get_by_text(NAME).first.wait_for(timeout=90_000)
    page.wait_for_function(
        "() => { const m = document.querySelector('#faces-live-fps')?.innerText.match(/([0-9.]+) fps/);"
        " return m && parseFloat(m[1]) > 0; }", timeout=60_000)
    assert page.locator("#faces-live-out img").count() >= 1
    text = fps.inner_text()
    assert NAME in text and "fps" in text
    shoot(page, "faces_live")


def test_gallery_kept_in_this_browser_survives_a_reload(page):
    open_tab(page, "Faces")
    _subtab(page, "Gallery")
    page.get_by_label("Keep my gallery in this browser (local storage)").check()
    page.get_by_role("button", name="Load the example gallery").click()
    summary = page.locator("#faces-gallery-summary")
    summary.get_by_text("3 people, 4 photos").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # let the BrowserState write reach localStorage
    page.reload()
    page.wait_for_selector("button[role=tab]")
    open_tab(page, "Faces")
    _subtab(page, "Gallery")
    page.locator("#faces-gallery-summary").get_by_text("3 people, 4 photos").wait_for(timeout=30_000)
    assert page.get_by_label("Keep my gallery in this browser (local storage)").is_checked()
