"""The crops around boxes that GrabCut works on, byte for byte, for the box-mask eval's boxes.

``tests/segmentation/data/box_crops.json`` records, for every box of bench/box_masks_eval.py (NanoDet's
boxes on the eval, tuning and face photos) and a few edge boxes (past the image's sides, under one
pixel, the whole photo), what ``cv2.grabCut`` was given by the frozen previous method (``before_mask``,
the eval's same-run baseline) and by ``box_mask``: the BGR crop and the seed labels (sha256 prefixes),
the rectangle, and the masks that came out. Recorded before the two shared one crop function; the
baseline's numbers depend on its crops staying exactly these.
"""
from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest

from bench.box_masks_eval import before_mask
from core.image import load_image
from core.segmentation.box_masks import box_mask, crop_around_box
from tests.conftest import ROOT

CASES = json.loads((ROOT / "tests/segmentation/data/box_crops.json").read_text())["cases"]
METHODS = {"before": before_mask, "now": lambda rgb, box: box_mask(rgb, box).mask}


def digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    return hashlib.sha256(str((a.shape, a.dtype.str)).encode() + a.tobytes()).hexdigest()[:24]


@pytest.fixture(scope="module")
def images():
    return {f: load_image(ROOT / f) for f in sorted({c["file"] for c in CASES})}


@pytest.fixture
def grabcut_inputs(monkeypatch):
    """What every cv2.grabCut call is given, recorded as in the fixture (the seed before the call)."""
    calls = []
    real = cv2.grabCut

    def spy(img, mask, rect, bgd, fgd, iterations, mode):
        calls.append({"crop": digest(img), "shape": list(img.shape), "seed": digest(mask),
                      "rect": None if rect is None else [int(v) for v in rect]})
        return real(img, mask, rect, bgd, fgd, iterations, mode)

    monkeypatch.setattr(cv2, "grabCut", spy)
    return calls


def test_the_fixture_covers_the_eval_and_the_edges():
    files = {c["file"] for c in CASES}
    assert len(CASES) >= 30 and any(f.startswith("assets/faces/") for f in files)
    assert sum(not c["before"]["grabcut"] for c in CASES) >= 2  # boxes the baseline gives the ellipse
    assert sum(len(c["now"]["grabcut"]) == 2 for c in CASES) >= 2  # box_mask's second, centred try


@pytest.mark.parametrize("method", sorted(METHODS))
def test_grabcut_gets_the_same_crops_and_gives_the_same_masks(images, grabcut_inputs, method):
    for case in CASES:
        grabcut_inputs.clear()
        mask = METHODS[method](images[case["file"]], np.array(case["box"], np.float32))
        want = case[method]
        assert grabcut_inputs == want["grabcut"], (case["file"], case["box"])
        assert (digest(mask), int(mask.sum())) == (want["mask"], want["area"]), (case["file"], case["box"])


def test_crop_around_box_is_the_baselines_crop(images):
    checked = 0
    for case in CASES:
        for call in case["before"]["grabcut"]:
            c = crop_around_box(images[case["file"]], np.array(case["box"], np.float32), margin=0.1, side=64)
            rx0, ry0, rx1, ry1 = c.rect
            assert digest(c.image[:, :, ::-1]) == call["crop"] and [rx0, ry0, rx1 - rx0, ry1 - ry0] == call["rect"]
            checked += 1
    assert checked >= 25


def test_crop_geometry_at_the_image_sides():
    rgb = np.arange(100 * 200 * 3, dtype=np.uint8).reshape(100, 200, 3)
    c = crop_around_box(rgb, (-20.5, 90.25, 50.75, 140.0), margin=0.25, side=64)
    assert c.box == (0, 90, 51, 100) and c.window == (0, 85, 65, 100)  # clipped; 25% + 2 px around
    assert c.image.shape == (15, 64, 3) and c.scale == pytest.approx(64 / 65)
    assert c.rect == (0, 5, 50, 15) and c.box_area == 51 * 10
    small = crop_around_box(rgb, (10.2, 20.7, 10.9, 21.1), margin=0.1, side=64)
    assert small.box == (10, 20, 11, 22) and small.window == (7, 17, 13, 24) and small.scale == 1.0
    assert np.array_equal(small.image, rgb[17:24, 7:13]) and small.rect == (3, 3, 4, 5)
    fg = np.zeros(small.image.shape[:2], np.uint8)
    fg[:, :] = 255
    pasted = small.paste(fg, rgb.shape[:2])
    assert pasted.sum() == 2 and pasted[20:22, 10].all()  # only the box's pixels, never the margin
