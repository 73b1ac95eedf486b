"""Semantic tab in a real browser: segment an example photo and see the overlay with its legend;
the live webcam (Chromium's fake camera playing a photo of a person) shows the person and a frame rate;
the lab's sliding-window comparison runs on the same photo."""
from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import open_tab, shoot, start_recording
from tests.e2e.y4m import photo_to_frame, write_y4m

ROOT = Path(__file__).resolve().parents[2]
ASTRONAUT = ROOT / "assets" / "photos" / "astronaut.png"


def _upload_and_segment(page):
    open_tab(page, "Semantic")
    page.locator("#semantic-input input[type=file]").set_input_files(str(ASTRONAUT))
    page.locator("#semantic-input img").first.wait_for(timeout=30_000)
    page.locator("#semantic-run").click()
    page.locator("#semantic-legend").get_by_text("person").first.wait_for(timeout=60_000)


def test_upload_shows_overlay_legend_and_shares(page):
    _upload_and_segment(page)
    assert page.locator("#semantic-overlay img").count() >= 1
    legend = page.locator("#semantic-legend").inner_text()
    share = float(re.search(r"person\s*([0-9.]+)%", legend).group(1))
    assert 40 < share < 46, legend  # the bundled model: 42.9% of astronaut.png is person
    table = page.locator("#semantic-table").inner_text()
    assert "person" in table and "background" in table
    assert "Timings" in page.locator("#semantic-timings").inner_text()
    shoot(page, "semantic_overlay")

    # the lab runs on the same photo, without re-uploading
    page.locator("#semantic-lab").get_by_text("Lab: how fully convolutional networks work").first.click()
    page.get_by_role("button", name="Run both").click()
    page.get_by_text(re.compile(r"One pass was .*faster")).first.wait_for(timeout=90_000)
    shoot(page, "semantic_lab")


def test_live_webcam_segments_a_person_with_fps(camera_page, tmp_path):
    video = write_y4m([photo_to_frame(ASTRONAUT)] * 20, tmp_path / "astronaut.y4m")
    page = camera_page(str(video))
    open_tab(page, "Semantic")
    page.locator("#semantic-live-acc").get_by_text("Live webcam").first.click()
    start_recording(page, "#semantic-live-cam")
    page.wait_for_function(
        "() => { const m = document.querySelector('#semantic-fps')?.innerText.match(/([0-9.]+) fps/);"
        " return m && parseFloat(m[1]) > 0; }", timeout=90_000)
    text = page.locator("#semantic-fps").inner_text()
    assert "person" in text and "480x360" in text, text
    assert page.locator("#semantic-live img").count() >= 1
    shoot(page, "semantic_live")


def test_live_webcam_falls_back_to_the_gradio_stream(camera_page, tmp_path, app_url):
    """When the live WebSocket cannot be used (forced here with ?live=gradio), the page says so, opens
    Gradio's own webcam stream, and that stream segments the person; its fps line is the browser's count."""
    video = write_y4m([photo_to_frame(ASTRONAUT)] * 20, tmp_path / "astronaut.y4m")
    page = camera_page(str(video))
    page.goto(app_url + "?live=gradio")
    page.wait_for_selector("button[role=tab]", timeout=60_000)
    open_tab(page, "Semantic")
    page.locator("#semantic-live-acc").get_by_text("Live webcam").first.click()
    start_recording(page, "#semantic-live-cam")
    page.locator("#semantic-fps").get_by_text("could not be opened").wait_for(timeout=30_000)
    start_recording(page, "#semantic-live-cam-gradio")
    page.wait_for_function(
        "() => /person/.test(document.querySelector('#semantic-fps-gradio')?.innerText || '')", timeout=90_000)
    assert "640x480" in page.locator("#semantic-fps-gradio").inner_text()
    page.wait_for_function(
        "() => { const m = document.querySelector('#semantic-fps-gradio-shown')?.innerText.match(/([0-9.]+) fps shown/);"
        " return m && parseFloat(m[1]) > 0; }", timeout=60_000)
    assert page.locator("#semantic-live-gradio img").count() >= 1
    shoot(page, "semantic_live_fallback")
