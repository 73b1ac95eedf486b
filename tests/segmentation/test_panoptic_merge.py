"""Panoptic FPN's merge rule on synthetic masks, and the COCO panoptic export."""
from __future__ import annotations

import numpy as np
import pytest

from core.segmentation.panoptic import coco_panoptic, id_map, merge, stuff_classes
from core.types import Segmentation

H, W = 100, 100
INST_LABELS = ("background", "person", "dog")
SEM_LABELS = ("background", "person", "sky")


def _inst(boxes, scores, classes=None):
    masks = np.zeros((len(boxes), H, W), bool)
    for m, (x0, y0, x1, y1) in zip(masks, boxes):
        m[y0:y1, x0:x1] = True
    return Segmentation(masks=masks, class_ids=classes or [1] * len(boxes), labels=INST_LABELS,
                        task="instance", model="inst", scores=scores)


def _sem(label_map):
    return Segmentation.from_label_map(label_map, SEM_LABELS, model="sem")


def test_stuff_is_what_the_instance_model_does_not_know():
    assert stuff_classes(SEM_LABELS, INST_LABELS) == {0, 2}


def test_higher_score_claims_overlap_first():
    things = _inst([(0, 0, 50, 50), (25, 0, 75, 50)], [0.6, 0.9])
    pan = merge(things, _sem(np.zeros((H, W), int)), min_stuff_area=10)
    assert pan.scores[0] == pytest.approx(0.9)           # claimed first
    assert pan.areas[0] == 2500 and pan.areas[1] == 1250   # the lower one keeps only its free half
    assert (pan.masks.sum(0) <= 1).all()                  # no pixel in two segments


def test_mostly_hidden_instance_is_dropped():
    things = _inst([(0, 0, 50, 50), (5, 5, 50, 50)], [0.9, 0.8])  # second is 100% covered
    pan = merge(things, _sem(np.zeros((H, W), int)), overlap=0.5, min_stuff_area=10)
    assert pan.is_thing.sum() == 1 and pan.extras["dropped_overlapping_instances"] == 1
    kept = merge(things, _sem(np.zeros((H, W), int)), overlap=0.0, min_stuff_area=10)
    assert kept.is_thing.sum() == 1  # no free pixels at all: nothing to keep even at overlap 0


def test_score_threshold_and_empty_inputs():
    things = _inst([(0, 0, 10, 10)], [0.3])
    pan = merge(things, _sem(np.zeros((H, W), int)), score_threshold=0.5, min_stuff_area=10)
    assert pan.is_thing.sum() == 0 and len(pan) == 1  # just background stuff
    empty = merge(_inst([], []), Segmentation.empty(H, W, SEM_LABELS, "semantic", "sem"))
    assert len(empty) == 0 and empty.void_fraction == 1.0


def test_small_stuff_becomes_void_and_semantic_things_are_ignored():
    lm = np.zeros((H, W), int)
    lm[:10, :10] = 2     # 100 px of sky: too small
    lm[50:, 50:] = 1     # semantic "person" with no instance: thing class, ignored -> void
    pan = merge(_inst([], []), _sem(lm), min_stuff_area=200)
    assert pan.class_names == ["background"]
    assert pan.extras["small_stuff_to_void"] == 1
    assert pan.void_fraction == pytest.approx((100 + 2500) / (H * W))
    assert pan.area_fractions.sum() + pan.void_fraction == pytest.approx(1.0)


def test_stuff_fills_only_free_pixels_and_labels_extend():
    lm = np.full((H, W), 2)  # all sky
    pan = merge(_inst([(0, 0, 20, 20)], [0.9]), _sem(lm), min_stuff_area=10)
    assert pan.class_names == ["person", "sky"] and list(pan.is_thing) == [True, False]
    assert pan.labels[:3] == INST_LABELS and pan.labels[3] == "sky"
    assert pan.areas[1] == H * W - 400
    assert np.isnan(pan.scores[1]) and list(pan.segment_ids) == [1, 2]


def test_coco_panoptic_png_roundtrip():
    pan = merge(_inst([(0, 0, 20, 20)], [0.9]), _sem(np.full((H, W), 2)), min_stuff_area=10)
    png, ann = coco_panoptic(pan, "x.png")
    p = png.astype(np.int64)
    ids = p[..., 0] + 256 * p[..., 1] + 65536 * p[..., 2]
    assert (ids == id_map(pan)).all()
    info = {s["id"]: s for s in ann["segments_info"]}
    assert info[1]["bbox"] == [0, 0, 20, 20] and info[1]["area"] == 400
    assert {c["name"]: c["isthing"] for c in ann["categories"]} == {"person": 1, "sky": 0}
