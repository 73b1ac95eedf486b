"""Labels and colours a visitor can read (issue 14.5), checked on the pictures the browser shows.

* Instance labels lie inside the image, clear of the component's own buttons and badge, and never on
  top of each other: the labels are found as the pixels that change when the "Labels" box is
  unticked (the same cached result drawn again without them), each label one separate region.
* Panoptic: the two people are clearly different shades of the person colour, and one person has
  one colour in the instance and the panoptic Compare panels.
"""
from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from tests.e2e.conftest import open_tab, shoot

ROOT = Path(__file__).resolve().parents[2]
GROUP = ROOT / "assets" / "eval" / "kites_beach.jpg"     # >= 5 people and kites: many labels
TWO_PEOPLE = ROOT / "assets" / "photos" / "two_people.jpg"

SHOWN_PIXELS_JS = """(sel) => {
  const i = document.querySelector(sel);
  const c = document.createElement('canvas');
  c.width = i.naturalWidth; c.height = i.naturalHeight;
  c.getContext('2d').drawImage(i, 0, 0);
  return c.toDataURL('image/png');
}"""


def shown_pixels(page, img_selector: str) -> np.ndarray:
    """The picture an <img> shows, as RGB uint8 (H, W, 3) at its natural size."""
    url = page.evaluate(SHOWN_PIXELS_JS, img_selector)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


def _src(page, img_selector: str) -> str:
    return page.locator(img_selector).first.get_attribute("src") or ""


def _wait_new_src(page, img_selector: str, old: str) -> None:
    page.wait_for_function(
        "([sel, old]) => { const i = document.querySelector(sel);"
        " return i && i.complete && i.naturalWidth > 0 && i.getAttribute('src') !== old; }",
        arg=[img_selector, old], timeout=30_000)


def _covering_rects_in_image(page, container: str, img_selector: str) -> list[tuple[float, float, float, float]]:
    """Rectangles (image pixels) of the component's own buttons and badges drawn over the image."""
    return page.evaluate("""([container, sel]) => {
      const img = document.querySelector(sel), r = img.getBoundingClientRect();
      const s = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);   // object-fit: contain
      const ox = r.left + (r.width - s * img.naturalWidth) / 2, oy = r.top + (r.height - s * img.naturalHeight) / 2;
      const out = [];
      for (const el of document.querySelectorAll(container + ' button, ' + container + ' [data-testid=block-label]')) {
        const b = el.getBoundingClientRect();
        if (!b.width || !b.height || el.contains(img)) continue;
        out.push([(b.left - ox) / s, (b.top - oy) / s, (b.right - ox) / s, (b.bottom - oy) / s]);
      }
      return out;
    }""", [container, img_selector])


def label_regions(with_labels: np.ndarray, without: np.ndarray, min_area: int = 40) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of the separate regions where two renderings differ (the labels)."""
    changed = (np.abs(with_labels.astype(np.int16) - without.astype(np.int16)).max(axis=2) > 24).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(changed, connectivity=8)
    return [(int(x), int(y), int(x + w), int(y + h)) for x, y, w, h, a in stats[1:] if a >= min_area]


def test_instance_labels_are_inside_clear_of_the_buttons_and_apart(page):
    img = "#instance-overlay img"
    open_tab(page, "Instance")
    page.locator("#instance-input input[type=file]").set_input_files(str(GROUP))
    page.locator("#instance-input img").first.wait_for(timeout=30_000)
    page.locator("#instance-run").click()
    page.locator("#instance-summary").get_by_text(re.compile(r"\d+ instance\(s\)")).first.wait_for(timeout=120_000)
    n_shown = int(re.search(r"(\d+) instance\(s\)", page.locator("#instance-summary").inner_text()).group(1))
    assert n_shown >= 6  # >= 5 people and the kites
    page.wait_for_function("(sel) => document.querySelector(sel)?.complete", arg=img)
    page.locator(img).hover()  # the buttons show on hover: they must not hide a label then either
    shoot(page, "labels_instance_group")
    labelled = shown_pixels(page, img)
    covers = _covering_rects_in_image(page, "#instance-overlay", img)
    old = _src(page, img)
    page.locator("#instance-labels input").uncheck()
    _wait_new_src(page, img, old)
    plain = shown_pixels(page, img)
    assert plain.shape == labelled.shape

    labels = label_regions(labelled, plain)
    h, w = plain.shape[:2]
    # one separate region per label: two labels on top of each other would merge into one
    assert len(labels) == n_shown, (len(labels), n_shown, labels)
    for x0, y0, x1, y1 in labels:
        assert x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h
        for c in covers:
            assert not (x0 < c[2] and c[0] < x1 and y0 < c[3] and c[1] < y1), ("label under a button", (x0, y0, x1, y1), c)


def _legend_colours(page, selector: str) -> dict[str, tuple[int, int, int]]:
    """Legend entry text -> its swatch colour (RGB)."""
    rows = page.evaluate("""(sel) => [...document.querySelectorAll(sel + ' [style*="background"]')].map(el =>
      [(el.parentElement.innerText || '').trim(), getComputedStyle(el).backgroundColor])""", selector)
    out = {}
    for text, colour in rows:
        m = re.match(r"rgba?\((\d+), (\d+), (\d+)", colour)
        if m and text:
            out[text] = tuple(int(v) for v in m.groups())
    return out


def _lab(rgb) -> np.ndarray:
    return cv2.cvtColor(np.uint8([[rgb]]), cv2.COLOR_RGB2LAB)[0, 0].astype(float) * [100 / 255, 1, 1] - [0, 128, 128]


def test_panoptic_people_differ_in_shade_and_keep_their_colour_in_every_panel(page):
    open_tab(page, "Panoptic")
    page.locator("#panoptic-input input[type=file]").set_input_files(str(TWO_PEOPLE))
    page.locator("#panoptic-input img").first.wait_for(timeout=30_000)
    page.locator("#panoptic-run").click()
    page.locator("#panoptic-legend").get_by_text("person #2").wait_for(timeout=120_000)
    colours = _legend_colours(page, "#panoptic-legend")
    people = [c for t, c in colours.items() if re.search(r"person #\d", t)]
    assert len(people) == 2, colours
    delta_e = float(np.linalg.norm(_lab(people[0]) - _lab(people[1])))
    assert delta_e >= 15, (people, delta_e)  # near-identical greens were ~3 apart

    # one person, one colour: the instance panel and the panoptic panel agree on the people's pixels
    panels = page.locator("#panoptic-compare img")
    panels.nth(2).wait_for(timeout=30_000)
    shoot(page, "labels_panoptic_compare")
    inst = shown_pixels(page, "#panoptic-compare-instance img")
    pan = shown_pixels(page, "#panoptic-compare-panoptic img")
    photo = cv2.resize(np.asarray(Image.open(TWO_PEOPLE).convert("RGB")), (inst.shape[1], inst.shape[0]),
                       interpolation=cv2.INTER_AREA)
    painted = np.abs(inst.astype(int) - photo).max(axis=2) > 40     # where the instance panel drew a thing
    assert painted.mean() > 0.05
    diff = np.abs(inst.astype(int) - pan.astype(int)).max(axis=2)[painted]
    # boxes and labels differ between the panels; the masks' colour must not
    assert np.median(diff) <= 12, np.median(diff)
