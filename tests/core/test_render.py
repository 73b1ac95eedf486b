"""core.render: pure, deterministic drawing."""
from __future__ import annotations

import numpy as np

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
    assert (out[38, 58] == rgb[38, 58]).all()  # far from every mask: untouched


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
