"""core.types.Segmentation: validated on construction, filtered by numpy indexing."""
from __future__ import annotations

import numpy as np
import pytest

from core.types import Segmentation, Timings


def test_from_label_map_areas_sum_to_one():
    lm = np.zeros((10, 10), int)
    lm[:5] = 2
    lm[5:, :5] = 1
    seg = Segmentation.from_label_map(lm, ["bg", "a", "b"], model="m")
    assert list(seg.class_ids) == [0, 1, 2]
    assert seg.area_fractions.sum() == pytest.approx(1.0)
    assert (seg.label_map() == lm).all()


def test_shapes_validated():
    with pytest.raises(ValueError):
        Segmentation(masks=np.zeros((2, 4, 4)), class_ids=[0], labels=("a",), task="semantic", model="m")
    with pytest.raises(ValueError):
        Segmentation(masks=np.zeros((1, 4, 4)), class_ids=[3], labels=("a",), task="semantic", model="m")
    with pytest.raises(ValueError):
        Segmentation(masks=np.zeros((1, 4, 4)), class_ids=[0], labels=("a",), task="instance", model="m",
                     keypoints=np.zeros((1, 5, 2)))


def test_empty_is_a_result_not_none():
    seg = Segmentation.empty(8, 9, ("bg", "person"), "instance", "m")
    assert len(seg) == 0 and seg.image_size == (8, 9) and seg.summary() == []
    assert len(seg.filter(min_score=0.5)) == 0


def test_filter_and_summary():
    masks = np.zeros((3, 4, 4), bool)
    masks[0, :2] = masks[1, 2:] = masks[2, :, :1] = True
    seg = Segmentation(masks=masks, class_ids=[1, 1, 2], labels=("bg", "p", "q"), task="instance",
                       model="m", scores=[0.9, 0.3, 0.8], boxes=np.zeros((3, 4)))
    kept = seg.filter(min_score=0.5)
    assert len(kept) == 2 and list(kept.class_ids) == [1, 2]
    assert len(seg.filter(classes={2})) == 1
    rows = seg.summary()
    assert rows[0]["label"] == "p" and rows[0]["area_fraction"] == 0.5 and "box" in rows[0]
    assert list(seg.mask_boxes()[0]) == [0, 0, 4, 2]


def test_timings():
    t = Timings()
    with t.stage("model"):
        pass
    assert "model" in t and t.total_ms >= 0
