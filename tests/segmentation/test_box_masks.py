"""Box-prompted masks (core.segmentation.box_masks) against hand-drawn reference outlines.

The references (assets/eval/reference_masks.json) were drawn for this test and for
bench/box_masks_eval.py; the boxes are the ones NanoDet gives for these objects, fixed here so that
the test needs no detector. Golden IoUs measured with the current settings (deterministic: GrabCut's
RNG is seeded); the assertions leave 0.03 of slack.
"""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from core.image import load_image
from core.segmentation.box_masks import box_mask, ellipse_mask
from tests.conftest import ROOT

REFS = {r["id"]: r for r in json.loads((ROOT / "assets/eval/reference_masks.json").read_text())["objects"]}
CASES = [  # id, NanoDet's box (whole pixels, as box_mask rounds it: floor x0 y0, ceil x1 y1), golden IoU, quality
    ("dog_bicycle/dog", (131, 221, 362, 543), 0.79, "fine"),
    ("person_dog_horse/horse", (406, 139, 603, 349), 0.86, "fine"),
    ("person_dog_horse/dog", (70, 264, 204, 347), 0.70, "fine"),
    ("street_bus/bus", (64, 114, 478, 391), 0.91, "fine"),
    ("coffee/cup", (140, 10, 427, 399), 0.68, "fine"),
    ("chelsea/cat", (0, 0, 450, 298), 0.74, "rough"),  # the box is the whole photo: no background seen
]


def _reference(case_id: str):
    ref = REFS[case_id]
    rgb = load_image(ROOT / "assets" / ref["file"])
    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.array(ref["polygon"], np.int32)], 1)
    return rgb, mask > 0


def _iou(a, b) -> float:
    return float((a & b).sum()) / float((a | b).sum())


@pytest.mark.parametrize("case_id, box, golden, quality", CASES, ids=[c[0] for c in CASES])
def test_masks_follow_the_outline_of_real_objects(case_id, box, golden, quality):
    rgb, ref = _reference(case_id)
    got = box_mask(rgb, box)
    assert got.quality == quality
    assert _iou(got.mask, ref) >= golden - 0.03
    x0, y0, x1, y1 = box
    assert not got.mask[:, :x0].any() and not got.mask[:y0].any() and not got.mask[:, x1:].any()
    if quality == "fine":  # an outline, not the shape GrabCut could start from
        assert got.method == "grabcut"
        assert _iou(got.mask, ref) > _iou(ellipse_mask(rgb.shape[:2], box), ref) + 0.05


def test_the_mean_over_every_reference_beats_the_ellipse_clearly():
    ious, ellipse = [], []
    for case_id, box, _, _ in CASES:
        rgb, ref = _reference(case_id)
        ious.append(_iou(box_mask(rgb, box).mask, ref))
        ellipse.append(_iou(ellipse_mask(rgb.shape[:2], box), ref))
    assert np.mean(ious) >= 0.75 and np.mean(ious) >= np.mean(ellipse) + 0.1


def test_no_outline_means_rough_never_a_fine_oval():
    flat = np.full((200, 300, 3), 128, np.uint8)  # nothing to separate
    assert box_mask(flat, (50, 40, 250, 160)).quality == "rough"
    noise = np.random.default_rng(0).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    assert box_mask(noise, (50, 40, 250, 160)).quality == "rough"  # no outline in noise either
    for bad in ((0, 0, 300, 200), (10, 10, 11, 11)):  # the whole image; a 1 px box
        got = box_mask(noise, bad)
        assert got.mask.shape == (200, 300) and (got.method != "ellipse" or got.quality == "rough")


def test_a_box_one_pixel_off_gives_the_same_verdict():
    """GrabCut's colour models can collapse to "all background" for one box and not its neighbour:
    the retry with a sure-foreground centre keeps the answer stable."""
    rgb, ref = _reference("dog_bicycle/dog")
    ious = []
    for d in (-1, 0, 1):
        got = box_mask(rgb, (131 + d, 221 + d, 361 - d, 542 - d))
        assert got.quality == "fine"
        ious.append(_iou(got.mask, ref))
    assert max(ious) - min(ious) < 0.1
