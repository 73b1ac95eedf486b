"""The clip panel in a real browser: upload a clip, watch the progress, the result plays in the page
(its <video> has a duration), the JSON downloads; Stop keeps the frames done as a playable clip."""
from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import open_tab, shoot

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "assets" / "video" / "two_people_pan.mp4"


def _open_panel(page, kind: str, tab: str) -> None:
    open_tab(page, tab)
    page.locator(f"#{kind}-video-acc").get_by_text("Clip: video in").first.click()
    page.locator(f"#{kind}-video-in input[type=file]").set_input_files(str(CLIP))
    page.locator(f"#{kind}-video-in video").first.wait_for(timeout=30_000)


def _played_duration(page, kind: str) -> float:
    """Seconds of the result <video> once the browser has decoded its first frame (0 if never)."""
    page.wait_for_function(
        f"() => {{ const v = document.querySelector('#{kind}-video-out video');"
        " return v && v.readyState >= 2 && v.videoWidth > 0 && v.duration > 0; }", timeout=60_000)
    return page.eval_on_selector(f"#{kind}-video-out video", "v => v.duration")


def _download_json(page, kind: str) -> dict:
    with page.expect_download(timeout=30_000) as dl:
        page.locator(f"#{kind}-video-json a").first.click()
    return json.loads(Path(dl.value.path()).read_text())


def test_instance_clip_shows_progress_plays_and_downloads(page):
    _open_panel(page, "instance", "Instance")
    page.locator("#instance-video-run").click()
    page.locator("#instance-video-status").get_by_text("of 30").first.wait_for(timeout=90_000)  # progress
    progress = page.locator("#instance-video-status").inner_text()
    assert "frame" in progress and "s so far" in progress, progress
    page.locator("#instance-video-status").get_by_text("Done").first.wait_for(timeout=180_000)
    assert abs(_played_duration(page, "instance") - 3.0) < 0.2
    assert "Timeline" in page.locator("#instance-video-timeline").inner_text()
    shoot(page, "video_instance_done")
    data = _download_json(page, "instance")
    assert data["video"]["frame_count"] == 30 and data["video"]["complete"] is True
    assert any(t["label"] == "person" for t in data["tracks"])


def test_stop_keeps_the_frames_done_as_a_playable_clip(page):
    _open_panel(page, "semantic", "Semantic")
    page.locator("#semantic-video-run").click()
    page.wait_for_function(
        "() => /frame ([3-9]|\\d\\d) of/.test(document.querySelector('#semantic-video-status')?.innerText || '')",
        timeout=120_000)
    page.locator("#semantic-video-stop").click()
    page.locator("#semantic-video-status").get_by_text("partial clip").first.wait_for(timeout=60_000)
    assert 0 < _played_duration(page, "semantic") < 3.0
    data = _download_json(page, "semantic")
    assert data["video"]["complete"] is False and 3 <= data["video"]["frame_count"] < 30
    assert any("stopped" in n for n in data["video"]["notes"])


def test_clip_panel_on_a_phone(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("button[role=tab]", timeout=60_000)
    _open_panel(page, "instance", "Instance")
    page.locator("#instance-video-run").scroll_into_view_if_needed()
    box = page.locator("#instance-video-run").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    shoot(page, "video_instance_phone")
    context.close()
