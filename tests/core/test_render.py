"""core.render: pure, deterministic drawing."""
from __future__ import annotations

import numpy as np
import pytest

from core import render
from core.types import Segmentation


def _seg(task="instance", n=3, h=40, w=60, **kw):
    masks = np.zeros((n, h, w), bool)
    for i in range(n):
        masks[i, 5:30, 5 + 15 * i: 15 + 15 * i] = True
    return Segmentation(masks=masks, class_ids=[1] * n, labels=("background", "person"), task=task,
                        model="toy", scores=np.linspace(0.9, 0.6, n), **kw)


def test_overlay_does_not_mutate_input_and_draws():
    rgb = np.full((40, 60, 3), 100, np.uint8)
    before = rgb.copy()
    out = render.overlay(rgb, _seg(), opacity=0.6)
    assert (rgb == before).all()
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert (out != rgb).any()
    bare = render.overlay(rgb, _seg(), opacity=0.6, show_labels=False)  # tags may sit below their boxes
    assert (bare[38, 58] == rgb[38, 58]).all()  # far from every mask: untouched


def test_crowded_label_tags_find_free_spots_apart():
    """Five boxes side by side whose near spots collide: every tag still gets a spot of its own,
    LABEL_GAP apart, inside the image and clear of the badge corners."""
    boxes = np.array([[100 + 30 * i, 200, 125 + 30 * i, 260] for i in range(5)], float)
    sizes = [(70.0, 16.0)] * 5
    spots = render.label_positions(boxes, sizes, (480, 640))
    rects = [(x, y, x + tw, y + th) for (x, y), (tw, th) in zip(spots, sizes)]
    zones = render.badge_zones((480, 640), 16.0)
    for i, a in enumerate(rects):
        assert 0 <= a[0] and a[2] <= 640 and 0 <= a[1] and a[3] <= 480
        assert not any(render.rects_overlap(a, z) for z in zones)
        for b in rects[i + 1:]:
            assert not render.rects_overlap(a, b, render.LABEL_GAP - 1e-6), (a, b)
        assert abs(a[1] - 200) <= 5 * 20  # still near its box


def test_colours_fixed_by_class_id():
    assert render.class_color(3) == render.class_color(3)
    assert render.class_color(1) != render.class_color(2)
    assert render.class_color(0, "background") == render.BACKGROUND_COLOR
    assert render.class_color(5000) == render.class_color(5000)


def test_instance_colours_follow_ids_not_detection_order():
    seg = _seg(segment_ids=[7, 3, 9])
    flipped = seg.subset([2, 1, 0])
    a = dict(zip(seg.segment_ids.tolist(), render.segment_colors(seg)))
    b = dict(zip(flipped.segment_ids.tolist(), render.segment_colors(flipped)))
    assert a == b
    assert len(set(a.values())) == 3


def test_no_ids_colours_by_position():
    seg = _seg()
    shuffled = seg.subset([1, 2, 0])
    left_a = render.segment_colors(seg)[0]
    left_b = render.segment_colors(shuffled)[2]  # the same left-most mask
    assert left_a == left_b


def test_opacity_and_filters():
    rgb = np.zeros((40, 60, 3), np.uint8)
    seg = _seg(task="semantic", n=1)
    none = render.overlay(rgb, seg, opacity=0, outline=False, show_boxes=False, show_labels=False)
    assert (none == rgb).all()
    hidden = render.overlay(rgb, seg, classes=[], show_boxes=False, show_labels=False)
    assert (hidden == rgb).all()
    low = render.overlay(rgb, _seg(), min_score=0.95, show_boxes=False, show_labels=False)
    assert (low == rgb).all()


def test_legend_aggregates_classes():
    rows = render.legend(_seg(n=2))
    assert len(rows) == 1 and rows[0]["count"] == 2 and rows[0]["label"] == "person"
    assert rows[0]["color_hex"].startswith("#")


def test_skeleton_draws_only_visible_joints():
    rgb = np.zeros((50, 50, 3), np.uint8)
    kp = np.array([[10, 10, 0.9], [40, 40, 0.9], [40, 10, 0.1]], np.float32)
    out = render.draw_skeleton(rgb, kp, [(0, 1), (1, 2)], (255, 0, 0), threshold=0.5)
    assert out[25, 25].any()           # bone 0-1 drawn
    assert not out[25, 40].any()       # bone 1-2 skipped: joint 2 not visible
    assert (rgb == 0).all()


def test_panoptic_things_get_shades_of_class_colour():
    seg = _seg(task="panoptic", is_thing=[True, True, True], segment_ids=[1, 2, 3])
    colors = render.segment_colors(seg)
    assert colors[0] == render.class_color(1) and len(set(colors)) == 3


def test_labels_stay_clear_of_badges_and_of_each_other():
    """Issue 14.5: a box in the image's top-left corner used to get its tag at (0, 0), under the image
    component's own label badge; faces side by side got tags on top of one another."""
    h, w = 480, 640
    boxes = np.array([[0, 0, 300, 300],                                       # touches the top-left corner
                      [200, 100, 280, 200], [250, 105, 330, 205], [300, 110, 380, 210]], float)  # a group
    sizes = [(150, 20)] * len(boxes)
    spots = render.label_positions(boxes, sizes, (h, w))
    rects = [(x, y, x + tw, y + th) for (x, y), (tw, th) in zip(spots, sizes)]
    zones = render.badge_zones((h, w), 20)
    for r in rects:
        assert 0 <= r[0] and r[2] <= w and 0 <= r[1] and r[3] <= h
        assert not any(render.rects_overlap(r, z) for z in zones), (r, zones)
    for i in range(len(rects)):
        for j in range(i):
            assert not render.rects_overlap(rects[i], rects[j]), (rects[i], rects[j])
    # and the drawing uses those places: the badge corner keeps its pixels
    rgb = np.full((h, w, 3), 100, np.uint8)
    out = render.draw_boxes(rgb, boxes, [(230, 25, 75)] * 4, ["person 0.99"] * 4, draw_rect=False)
    assert (out[:int(zones[0][3]), :int(zones[0][2])] == 100).all()


def test_things_of_one_class_get_clearly_different_shades_and_keep_them_in_every_view():
    """Two people side by side were near-identical greens; the instance and panoptic views coloured the
    same person differently. Shades now differ clearly and follow the left-to-right order."""
    base = render.class_color(1)
    shades = [render.shade(base, i) for i in range(4)]
    for i in range(4):
        for j in range(i):
            assert np.abs(np.subtract(shades[i], shades[j])).sum() >= 90, (shades[i], shades[j])
    seg = _seg(task="panoptic", is_thing=[True, True, True], segment_ids=[9, 2, 5])
    colors = render.segment_colors(seg, "shade")
    flipped = seg.subset([2, 0, 1])
    assert render.segment_colors(flipped, "shade") == [colors[2], colors[0], colors[1]]


def _two(quality=("rough", "fine")):
    masks = np.zeros((2, 60, 80), bool)
    masks[0, 5:55, 5:35] = True
    masks[1, 5:55, 45:75] = True
    return Segmentation(masks=masks, class_ids=[2, 3], labels=("bg", "person", "dog", "cat"), task="instance",
                        model="toy", scores=[0.31, 0.8], second_class_ids=[3, -1], second_scores=[0.22, 0.0],
                        mask_quality=quality)


def test_rough_masks_are_hatched_never_solid():
    rgb = np.full((60, 80, 3), 100, np.uint8)
    out = render.overlay(rgb, _two(), opacity=0.6, show_boxes=False, show_labels=False, outline=False)
    rough_inside = (out[10:50, 10:30] != 100).any(axis=2)
    fine_inside = (out[10:50, 50:70] != 100).any(axis=2)
    assert fine_inside.all()  # a fine mask is filled
    assert 0.3 < rough_inside.mean() < 0.7  # a rough one: stripes, about half of it see-through
    solid = render.overlay(rgb, _two(("fine", "fine")), opacity=0.6, show_boxes=False, show_labels=False,
                           outline=False)
    assert (solid[10:50, 10:30] != 100).any(axis=2).all()


def test_labels_carry_score_guess_mark_and_close_runner_up():
    seg = _two()
    assert render.label_text(seg, 0) == "dog? 0.31 / cat 0.22"
    assert render.label_text(seg, 1) == "cat 0.80"
    assert render.label_text(seg, 0, tag="#4") == "dog? #4 0.31 / cat 0.22"
    far = Segmentation(masks=seg.masks, class_ids=[2, 3], labels=seg.labels, task="instance", model="toy",
                       scores=[0.9, 0.8], second_class_ids=[3, -1], second_scores=[0.2, 0.0])
    assert render.label_text(far, 0) == "dog 0.90"  # a distant second is not shown
    assert render.label_text(_seg("semantic"), 0).startswith("person")
    rows = render.legend(seg)
    assert {r["label"]: r["rough"] for r in rows} == {"dog": 1, "cat": 0}


def test_color_by_is_an_enum():
    seg = _seg()
    assert render.segment_colors(seg, render.ColorBy.CLASS) == render.segment_colors(seg, "class")
    with pytest.raises(ValueError):
        render.segment_colors(seg, "rainbow")
