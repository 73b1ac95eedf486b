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


def _typed(n=3, **kw):
    masks = np.zeros((n, 10, 10), bool)
    for i in range(n):
        masks[i, i:i + 2, :] = True
    return Segmentation(masks=masks, class_ids=[1, 2, 3][:n], labels=("bg", "person", "dog", "cat"),
                        task="instance", model="toy", scores=[0.9, 0.4, 0.3][:n], **kw)


def test_typed_fields_are_validated_and_follow_subsets():
    seg = _typed(second_class_ids=[-1, 3, 2], second_scores=[0.0, 0.3, 0.2], mask_quality=("model", "rough", "fine"),
                 has_masks=1, fallback=None)
    assert seg.has_masks is True and seg.fallback == "" and seg.void_fraction is None
    assert seg.runner_up(0) is None and seg.runner_up(1) == ("cat", pytest.approx(0.3))
    sub = seg.filter(min_score=0.35)
    assert len(sub) == 2 and sub.mask_quality == ("model", "rough") and sub.runner_up(1)[0] == "cat"
    assert seg.subset([2]).mask_quality == ("fine",) and seg.subset([2]).quality(0) == "fine"
    assert _typed().quality(0) == "model"  # no qualities given: every mask is a model's own
    with pytest.raises(ValueError):
        _typed(mask_quality=("model", "oval", "fine"))
    with pytest.raises(ValueError):
        _typed(mask_quality=("model",))
    with pytest.raises(ValueError):
        _typed(second_class_ids=[0, 9, 1], second_scores=[0, 0, 0])


def test_summary_has_no_keypoints_where_there_are_none_and_says_mask_quality():
    kps = np.zeros((3, 33, 3), np.float32)
    kps[0, :, :] = 5.0  # only the person has keypoints
    seg = _typed(keypoints=kps, mask_quality=("model", "rough", "fine"), second_class_ids=[-1, 3, -1],
                 second_scores=[0, 0.25, 0])
    rows = seg.summary()
    assert len(rows[0]["keypoints"]) == 33
    assert "keypoints" not in rows[1] and "keypoints" not in rows[2]
    assert [r["mask_quality"] for r in rows] == ["model", "rough", "fine"]
    assert rows[1]["second"] == {"label": "cat", "score": 0.25} and "second" not in rows[0]
