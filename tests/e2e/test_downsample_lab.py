"""The Semantic tab's "Why downsample?" lab in a real browser: click a pixel of the photo and see the
per-layer receptive-field table and the effective field's numbers; the context panel answers a click
with class scores per crop; the cost and boundary panels show their tables (desktop and phone)."""
from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import open_tab, shoot

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = ROOT / "assets" / "photos" / "two_people.jpg"


def _open_lab(page):
    open_tab(page, "Semantic")
    page.locator("#semantic-input input[type=file]").set_input_files(str(PEOPLE))
    page.locator("#semantic-input img").first.wait_for(timeout=30_000)
    page.locator("#downsample-lab").get_by_text("Lab: why segmentation networks downsample").first.click()
    page.locator("#dl-rf-image img").first.wait_for(timeout=30_000)


def _click_at(page, selector: str, fx: float, fy: float) -> None:
    """Click the shown image at a fraction (fx, fy) of the picture drawn inside its <img> box
    (object-fit contain / scale-down leave bands around it)."""
    img = page.locator(f"{selector} img").first
    img.scroll_into_view_if_needed()
    page.wait_for_function(f"() => document.querySelector('{selector} img')?.naturalWidth > 0")
    r = img.evaluate("""e => { const b = e.getBoundingClientRect();
        let s = Math.min(b.width / e.naturalWidth, b.height / e.naturalHeight);
        if (getComputedStyle(e).objectFit === "scale-down") s = Math.min(s, 1);
        const w = e.naturalWidth * s, h = e.naturalHeight * s;
        return {x: b.x + (b.width - w) / 2, y: b.y + (b.height - h) / 2, w, h}; }""")
    page.mouse.click(r["x"] + fx * r["w"], r["y"] + fy * r["h"])


def test_click_shows_receptive_field_table(page):
    _open_lab(page)
    _click_at(page, "#dl-rf-image", 0.3, 0.4)
    page.locator("#dl-rf-text").get_by_text("theoretical field").wait_for(timeout=120_000)
    table = page.locator("#dl-rf-table").inner_text()
    for layer, rf in (("conv3_4", "48"), ("conv4_4", "116"), ("conv5_4", "252")):
        assert re.search(rf"{layer}\s+\d+\s+{rf}\b", table), table
    x = float(page.locator("#dl-rf-x input").input_value())
    assert 0.25 * 890 < x < 0.35 * 890  # the click became photo pixels (two_people.jpg is 890 px wide)
    text = page.locator("#dl-rf-text").inner_text()
    assert "116 px" in text and re.search(r"within \d+ px", text), text
    shoot(page, "downsample_lab_rf")

    page.get_by_text("Theoretical vs effective, layer by layer").click()
    page.locator("#dl-growth-run").click()
    page.locator("#dl-growth-text").get_by_text("theoretical field grows").wait_for(timeout=180_000)
    assert "conv5_4" in page.locator("#dl-growth-table").inner_text()
    shoot(page, "downsample_lab_growth")

    page.get_by_role("tab", name="Context").click()
    _click_at(page, "#dl-ctx-image", 0.12, 0.4)
    page.locator("#dl-ctx-text").get_by_text("Label by crop size").wait_for(timeout=120_000)
    assert "whole photo" in page.locator("#dl-ctx-table").inner_text()
    shoot(page, "downsample_lab_context")


def test_cost_and_boundary_panels(page):
    _open_lab(page)
    page.get_by_role("tab", name="Cost of stride 1").click()
    page.locator("#dl-cost-run").click()
    page.locator("#dl-cost-text").get_by_text("the operations").wait_for(timeout=120_000)
    assert "stride 1" in page.locator("#dl-cost-table").inner_text()
    shoot(page, "downsample_lab_cost")
    page.get_by_role("tab", name="Boundaries").click()
    page.locator("#dl-bd-run").click()
    page.locator("#dl-bd-text").get_by_text("Near the boundaries").wait_for(timeout=120_000)
    assert "coarse" in page.locator("#dl-bd-table").inner_text()
    shoot(page, "downsample_lab_boundaries")


def test_phone_layout(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(app_url)
        page.wait_for_selector("button[role=tab]", timeout=60_000)
        _open_lab(page)
        _click_at(page, "#dl-rf-image", 0.5, 0.5)
        page.locator("#dl-rf-text").get_by_text("theoretical field").wait_for(timeout=120_000)
        shoot(page, "downsample_lab_phone")
    finally:
        context.close()
