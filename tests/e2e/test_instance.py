"""Instance tab in a real browser: an uploaded photo of two people gives two instances with skeletons
(switching skeletons off changes the picture without re-running the model), the Inside view and the
COCO export work, and the live webcam (Chromium's fake camera playing a photo) shows a person with fps."""
from __future__ import annotations

import json
import re
from pathlib import Path

from tests.e2e.conftest import open_tab, shoot, start_recording
from tests.e2e.y4m import photo_to_frame, write_y4m

ROOT = Path(__file__).resolve().parents[2]
TWO = ROOT / "assets" / "photos" / "two_people.jpg"
ASTRONAUT = ROOT / "assets" / "photos" / "astronaut.png"
CAT = ROOT / "assets" / "photos" / "chelsea.png"


def _overlay_src(page) -> str:
    return page.locator("#instance-overlay img").first.get_attribute("src") or ""


def test_upload_two_people_shows_instances_and_skeletons(page):
    open_tab(page, "Instance")
    page.locator("#instance-input input[type=file]").set_input_files(str(TWO))
    page.locator("#instance-input img").first.wait_for(timeout=30_000)
    page.locator("#instance-run").click()
    page.locator("#instance-summary").get_by_text("2 instance(s)").first.wait_for(timeout=90_000)
    table = page.locator("#instance-table").inner_text()
    assert table.count("person") == 2, table
    seen = [int(a) for a, b in re.findall(r"(\d+)/(33)", table)]
    assert len(seen) == 2 and min(seen) >= 8, table  # each skeleton has visible joints
    assert "#0" in page.locator("#instance-legend").inner_text()
    assert "Timings" in page.locator("#instance-timings").inner_text()
    with_skeleton = _overlay_src(page)
    assert with_skeleton
    shoot(page, "instance_two_people")

    # skeletons off: a re-render of the cached result, a different picture
    page.locator("#instance-skeletons input").uncheck()
    page.wait_for_function(
        "(old) => { const i = document.querySelector('#instance-overlay img');"
        " return i && i.getAttribute('src') && i.getAttribute('src') !== old; }", arg=with_skeleton,
        timeout=30_000)
    assert "2 instance(s)" in page.locator("#instance-summary").inner_text()

    # the Inside view shows the detector step and the crops
    page.locator("#instance-inside-acc").get_by_text("Inside").first.click()
    page.locator("#instance-inside img").first.wait_for(timeout=30_000)
    assert page.locator("#instance-inside img").count() >= 2

    # export: a COCO JSON with two annotations
    page.locator("#instance-export-acc").get_by_text("Export").first.click()
    with page.expect_download(timeout=30_000) as dl:
        page.locator("#instance-export").click()
        page.locator("#instance-export-file a").first.click()
    data = json.loads(Path(dl.value.path()).read_text())
    assert len(data["annotations"]) == 2 and all("segmentation" in a for a in data["annotations"])


def test_live_webcam_finds_a_person_with_fps(camera_page, tmp_path):
    video = write_y4m([photo_to_frame(ASTRONAUT)] * 20, tmp_path / "astronaut.y4m")
    page = camera_page(str(video))
    open_tab(page, "Instance")
    page.locator("#instance-live-acc").get_by_text("Live webcam").first.click()
    start_recording(page, "#instance-live-cam")
    page.wait_for_function(
        "() => { const m = document.querySelector('#instance-fps')?.innerText.match(/([0-9.]+) fps/);"
        " return m && parseFloat(m[1]) > 0; }", timeout=90_000)
    text = page.locator("#instance-fps").inner_text()
    assert "1 instance(s)" in text and "480x360" in text, text
    assert page.locator("#instance-live img").count() >= 1
    shoot(page, "instance_live")


def test_inside_says_why_each_dropped_candidate_is_not_in_the_result(page):
    """Issue 14, item 10: the cat close-up, which NanoDet also calls a person: the result is a cat,
    and the Inside view lists every candidate with what dropped it (pose check, overlap, score)."""
    from core import models

    if models.registry().status("objects-offline") not in ("ready", "loaded"):
        import pytest

        pytest.skip("the offline detector (nanodet-m) is not made here: the tab falls back to BlazePose")
    open_tab(page, "Instance")
    page.locator("#instance-input input[type=file]").set_input_files(str(CAT))
    page.locator("#instance-input img").first.wait_for(timeout=30_000)
    page.locator("#instance-run").click()
    page.locator("#instance-summary").get_by_text("instance(s)").first.wait_for(timeout=90_000)
    page.locator("#instance-inside-acc").get_by_text("Inside").first.click()
    page.wait_for_function("() => (document.querySelector('#instance-candidates')?.textContent || '')"
                           ".includes('pose check')", timeout=30_000)
    page.locator("#instance-candidates").scroll_into_view_if_needed()
    rows = page.locator("#instance-candidates").text_content()
    assert "cat" in rows and "kept" in rows and "overlaps" in rows, rows
    summary = page.locator("#instance-candidates-summary").inner_text()
    assert "dropped by the score threshold" in summary and "pose check" in summary, summary
    assert page.locator("#instance-inside img").count() >= 2
    shoot(page, "instance_inside_candidates")


def test_rough_masks_and_guesses_are_marked_on_the_page(page):
    """The cat close-up: its mask is rough (hatched; the legend and the table say so), its label is
    a guess with the detector's runner-up, and the summary counts the dropped candidates by reason."""
    open_tab(page, "Instance")
    page.locator("#instance-input input[type=file]").set_input_files(str(CAT))
    page.locator("#instance-input img").first.wait_for(timeout=30_000)
    page.locator("#instance-run").click()
    page.locator("#instance-summary").get_by_text("instance(s)").first.wait_for(timeout=90_000)
    legend = page.locator("#instance-legend").inner_text()
    assert re.search(r"cat\? #\d+ 0\.40 / person 0\.59 · rough mask", legend), legend
    summary = page.locator("#instance-summary").inner_text()
    assert "rough mask(s), hatched" in summary and "are guesses" in summary, summary
    assert "Dropped:" in summary and "by the pose check" in summary, summary
    table = page.locator("#instance-table").inner_text()
    assert "rough" in table and "person 0.59" in table, table
    shoot(page, "instance_rough_cat")


def test_phone_shows_the_rough_mask_legend(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.set_default_timeout(60_000)
        page.goto(app_url)
        page.wait_for_selector("button[role=tab]", timeout=60_000)
        open_tab(page, "Instance")
        page.locator("#instance-input input[type=file]").set_input_files(str(ROOT / "assets/eval/dog_bicycle.jpg"))
        page.locator("#instance-input img").first.wait_for(timeout=30_000)
        page.locator("#instance-run").click()
        page.locator("#instance-summary").get_by_text("instance(s)").first.wait_for(timeout=90_000)
        legend = page.locator("#instance-legend")
        assert re.search(r"dog\? #\d+ 0\.45", legend.inner_text()), legend.inner_text()
        assert legend.bounding_box()["width"] <= 390
        page.locator("#instance-overlay").scroll_into_view_if_needed()
        shoot(page, "instance_phone_dog_bicycle")
    finally:
        context.close()
