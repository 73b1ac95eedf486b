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
from core.segmentation.box_masks import box_mask
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
