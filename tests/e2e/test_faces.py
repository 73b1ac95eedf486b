"""Faces tab in a real browser: enrol a person from an upload, then the live webcam (Chromium's fake
camera playing a video made from a different real photo of that person) shows the enrolled name."""
from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import listed_files, open_tab, shoot, start_recording, upload_until_listed
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
    assert listed_files(page, "#faces-enrol-files") == []  # the Photos list is emptied by Enrol

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


def test_gallery_never_files_a_photo_under_the_wrong_name(page):
    """Issue 14.1: enrol Obama, then type "Joe Biden" and add another Obama photo. The Photos list was
    emptied by the first Enrol (so Obama's photo is not re-filed as Biden), and the new photo is held
    back with Obama named, until the visitor drops or confirms it."""
    open_tab(page, "Faces")
    _subtab(page, "Gallery")
    name = page.locator("#faces-enrol-name textarea, #faces-enrol-name input").first
    msg, summary = page.locator("#faces-enrol-msg"), page.locator("#faces-gallery-summary")
    name.fill("Barack Obama")
    upload_until_listed(page, "#faces-enrol-files", PEOPLE / "Barack_Obama" / "1.jpg")
    page.locator("#faces-enrol-btn").click()
    summary.get_by_text("1 people, 1 photos").wait_for(timeout=60_000)
    assert listed_files(page, "#faces-enrol-files") == []

    name.fill("Joe Biden")
    upload_until_listed(page, "#faces-enrol-files", PEOPLE / "Barack_Obama" / "2.jpg")
    page.locator("#faces-enrol-btn").click()
    msg.get_by_text("looks like").wait_for(timeout=60_000)
    text = msg.inner_text()
    assert re.search(r"looks like Barack Obama \(0\.\d\d\)", text) and "not enrolled" in text, text
    assert page.locator("#faces-enrol-anyway").is_visible() and page.locator("#faces-enrol-drop").is_visible()
    assert "1 people, 1 photos" in summary.inner_text()
    shoot(page, "faces_enrol_lookalike")
    page.locator("#faces-enrol-drop").click()
    msg.get_by_text("Dropped 2.jpg").wait_for()
    page.locator("#faces-enrol-anyway").wait_for(state="hidden")
    assert "1 people, 1 photos" in summary.inner_text()

    upload_until_listed(page, "#faces-enrol-files", PEOPLE / "Joe_Biden" / "1.jpg")
    page.locator("#faces-enrol-btn").click()
    summary.get_by_text("2 people, 2 photos").wait_for(timeout=60_000)
    table = page.locator("#faces-gallery-table").inner_text()
    assert "Joe Biden" in table and "1.jpg" in table and "2.jpg" not in table, table
