"""Pure drawing: overlays, legend colours, boxes, labels and skeletons.

Every function takes an RGB uint8 (H, W, 3) image and returns a NEW image; inputs
are never mutated. Colours come from a fixed palette keyed by class id (never by
detection order, never by ``hash(label)``), so they do not flicker on a webcam and
do not change between runs. Instances get their own colour keyed by their stable
``segment_ids`` (falling back to left-to-right order when there are none).
Large segments are painted before small ones so small ones stay visible.

Honesty rules: a mask whose ``mask_quality`` is "rough" (a box-prompted guess, not an outline) is
drawn hatched with a dashed edge, never as a solid fill; every label carries its score, a low score
is marked as a guess ("bear? 0.31") and a close runner-up class is shown ("bear 0.31 / cat 0.22").
"""
from __future__ import annotations

import colorsys
from enum import Enum
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.boxes import mask_box
from core.types import BACKGROUND_NAMES, Segmentation

# 24 well-separated colours (Kelly / Tableau inspired); ids beyond use golden-ratio hues.
_BASE_PALETTE = (
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
    (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212),
    (0, 128, 128), (220, 190, 255), (170, 110, 40), (255, 250, 200), (128, 0, 0),
    (170, 255, 195), (128, 128, 0), (255, 215, 180), (0, 0, 128), (128, 128, 128),
    (255, 99, 71), (46, 139, 87), (65, 105, 225), (218, 165, 32),
)
BACKGROUND_COLOR = (90, 90, 90)
GUESS_BELOW = 0.5
"""A label whose score is below this is shown as a guess: "bear? 0.31"."""
CLOSE_SECOND = 0.6
"""A runner-up class scoring at least this share of the label's score is shown beside it."""
SECOND_MIN = 0.15
"""... and at least this score."""
HATCH = 6
"""Rough masks: diagonal stripes this many pixels apart (half filled, half see-through)."""
ROUGH_NOTE = "rough mask"


class ColorBy(str, Enum):
    """How segments are coloured: AUTO (class for semantic, instance for instance, shade for
    panoptic), CLASS (the class colour), INSTANCE (own colour per stable id), SHADE (a shade of
    the class colour per thing)."""

    AUTO = "auto"
    CLASS = "class"
    INSTANCE = "instance"
    SHADE = "shade"


@lru_cache(maxsize=4096)
def class_color(class_id: int, label: str | None = None) -> tuple[int, int, int]:
    """Fixed RGB colour of a class id (background-like labels are grey)."""
    if label is not None and label.lower() in BACKGROUND_NAMES:
        return BACKGROUND_COLOR
    if 0 <= class_id < len(_BASE_PALETTE):
        return _BASE_PALETTE[class_id]
    return _golden_color(class_id)


def _golden_color(key: int, saturation: float = 0.75, value: float = 0.95) -> tuple[int, int, int]:
    hue = (key * 0.6180339887498949 + 0.13) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return int(r * 255), int(g * 255), int(b * 255)


def instance_color(key: int) -> tuple[int, int, int]:
    """Own colour of an instance with stable key ``key`` (a segment / track id)."""
    return _BASE_PALETTE[key % len(_BASE_PALETTE)] if key >= 0 else _golden_color(-key)


def shade(color: tuple[int, int, int], index: int) -> tuple[int, int, int]:
    """The ``index``-th shade of ``color`` (0 = the colour itself), for panoptic things: clearly lighter
    or darker and a visible hue step, so two people side by side never get near-identical greens, yet a
    shade still reads as its class's colour."""
    if index == 0:
        return color
    steps = ((0.5, 0.11), (1.5, -0.11), (0.72, -0.2), (1.3, 0.2), (0.38, 0.04), (1.7, -0.04))
    light, hue_step = steps[(index - 1) % len(steps)]
    h, l, s = colorsys.rgb_to_hls(*(c / 255 for c in color))
    l = min(0.82, max(0.2, l * light))
    s = max(s, 0.45)
    return tuple(int(round(c * 255)) for c in colorsys.hls_to_rgb((h + hue_step) % 1.0, l, s))  # type: ignore


def to_hex(color: tuple[int, int, int]) -> str:
    return "#%02x%02x%02x" % tuple(color)


def segment_colors(seg: Segmentation, color_by: ColorBy | str = ColorBy.AUTO) -> list[tuple[int, int, int]]:
    """One colour per segment (see :class:`ColorBy`; a plain string names a member, anything else
    raises ValueError)."""
    color_by = ColorBy(color_by)
    if color_by is ColorBy.AUTO:
        color_by = {"semantic": ColorBy.CLASS, "instance": ColorBy.INSTANCE, "panoptic": ColorBy.SHADE}[seg.task]
    keys = _stable_keys(seg)
    colors = []
    seen_per_class: dict[int, int] = {}
    # shades are numbered left to right within each class (by box), not by segment id: the same people
    # then get the same shades in every view of one photo (panoptic overlay, instance view, compare)
    order = _spatial_order(seg) if color_by is ColorBy.SHADE else np.argsort(keys, kind="stable")
    shade_index = np.zeros(len(seg), int)
    for i in order:  # shades numbered by stable key within each class
        cid = int(seg.class_ids[i])
        thing = seg.is_thing is None or bool(seg.is_thing[i])
        shade_index[i] = seen_per_class.get(cid, 0) if thing else 0
        if thing:
            seen_per_class[cid] = shade_index[i] + 1
    for i in range(len(seg)):
        cid = int(seg.class_ids[i])
        base = class_color(cid, seg.labels[cid])
        if color_by is ColorBy.CLASS:
            colors.append(base)
        elif color_by is ColorBy.INSTANCE:
            colors.append(instance_color(int(keys[i])))
        else:
            colors.append(shade(base, int(shade_index[i])))
    return colors


def _spatial_order(seg: Segmentation) -> np.ndarray:
    """Segment indices ordered left to right (box x0, then y0)."""
    if not len(seg):
        return np.zeros(0, np.int64)
    boxes = seg.boxes if seg.boxes is not None else seg.mask_boxes()
    return np.lexsort((boxes[:, 1], boxes[:, 0]))


def _stable_keys(seg: Segmentation) -> np.ndarray:
    """Stable per-segment keys: segment_ids when given, else rank by box left edge."""
    if seg.segment_ids is not None:
        return seg.segment_ids.astype(np.int64)
    boxes = seg.boxes if seg.boxes is not None else seg.mask_boxes()
    if not len(seg):
        return np.zeros(0, np.int64)
    rank = np.empty(len(seg), np.int64)
    rank[np.lexsort((boxes[:, 1], boxes[:, 0]))] = np.arange(len(seg))
    return rank


def legend(seg: Segmentation, color_by: ColorBy | str = ColorBy.AUTO) -> list[dict]:
    """Rows (label, class_id, color_hex, area_fraction, count, rough), one per class, largest
    first; ``rough`` counts that class's segments whose mask is rough."""
    color_by = ColorBy(color_by)
    colors = segment_colors(seg, ColorBy.CLASS if color_by is ColorBy.AUTO else color_by)
    rows: dict[int, dict] = {}
    fractions = seg.area_fractions
    for i, cid in enumerate(seg.class_ids):
        cid = int(cid)
        row = rows.setdefault(cid, {"label": seg.labels[cid], "class_id": cid, "color_hex": to_hex(colors[i]),
                                    "area_fraction": 0.0, "count": 0, "rough": 0})
        row["area_fraction"] += float(fractions[i])
        row["count"] += 1
        row["rough"] += int(seg.quality(i) == "rough")
    return sorted(rows.values(), key=lambda r: -r["area_fraction"])


def label_text(seg: Segmentation, i: int, *, tag: str = "") -> str:
    """Segment ``i``'s label as the overlay and legends show it: "cat 0.82", a guess "bear? 0.31",
    with a close runner-up "bear? 0.31 / cat 0.22" (see :data:`GUESS_BELOW`, :data:`CLOSE_SECOND`);
    ``tag`` (e.g. an id "#2") goes after the name: "bear? #2 0.31". Unscored segments (semantic,
    panoptic stuff) show the class name (and tag) only."""
    name = seg.labels[seg.class_ids[i]]
    score = None if seg.scores is None or not np.isfinite(seg.scores[i]) else float(seg.scores[i])
    tag = f" {tag}" if tag else ""
    if score is None:
        return name + tag
    text = f"{name}{'?' if score < GUESS_BELOW else ''}{tag} {score:.2f}"
    second = seg.runner_up(i)
    if second is not None and second[1] >= max(SECOND_MIN, CLOSE_SECOND * score):
        text += f" / {second[0]} {second[1]:.2f}"
    return text


# --------------------------------------------------------------------------- overlay
def overlay(
    rgb: np.ndarray,
    seg: Segmentation,
    *,
    opacity: float = 0.5,
    classes: set[int] | list[int] | None = None,
    min_score: float = 0.0,
    show_boxes: bool = True,
    show_labels: bool = True,
    show_keypoints: bool = True,
    keypoint_threshold: float = 0.5,
    outline: bool = True,
    hide_background: bool | None = None,
    color_by: ColorBy | str = ColorBy.AUTO,
) -> np.ndarray:
    """Draw ``seg`` over ``rgb`` and return a new RGB uint8 image of the same size.

    Args:
        rgb: (H, W, 3) uint8, the image the result was computed on (same H, W).
        opacity: mask fill opacity in [0, 1].
        classes: class ids to draw (None = all).
        min_score: hide scored segments below this score.
        hide_background: skip background-like classes (default: True for
            semantic/instance, False for panoptic where stuff matters).
        color_by: see :class:`ColorBy`.
    Rough masks (``seg.mask_quality``) are hatched with a dashed edge, and their label says so.
    """
    rgb = np.asarray(rgb)
    if rgb.shape[:2] != seg.image_size:
        raise ValueError(f"image is {rgb.shape[:2]} but the result is {seg.image_size}")
    colors = segment_colors(seg, color_by)
    keep = np.ones(len(seg), bool)
    if classes is not None:
        keep &= np.isin(seg.class_ids, list(classes))
    if seg.scores is not None and min_score > 0:
        keep &= seg.scores >= min_score
    if hide_background is None:
        hide_background = seg.task != "panoptic"
    if hide_background:
        keep &= np.array([seg.labels[c].lower() not in BACKGROUND_NAMES for c in seg.class_ids], bool)
    idx = [i for i in np.argsort(-seg.areas, kind="stable") if keep[i]]

    rough = {i for i in idx if seg.quality(i) == "rough" and seg.masks[i].any()}  # live: boxes, no mask
    out = blend_masks(rgb, seg.masks, colors, idx, opacity, outline, rough)
    if show_keypoints and seg.keypoints is not None and seg.skeleton:
        for i in idx:
            out = draw_skeleton(out, seg.keypoints[i], seg.skeleton, colors[i], keypoint_threshold)
    if (show_boxes or show_labels) and len(idx):
        boxes = seg.boxes if seg.boxes is not None else seg.mask_boxes()
        texts = []
        for i in idx:
            text = label_text(seg, i) + (f" ({ROUGH_NOTE})" if i in rough else "")
            texts.append(text if show_labels else "")
        out = draw_boxes(out, boxes[idx], [colors[i] for i in idx], texts, draw_rect=show_boxes)
    return out


def blend_masks(rgb, masks, colors, idx, opacity, outline, rough=frozenset()) -> np.ndarray:
    """Fill masks ``idx`` (painted in that order: later ones win) at ``opacity`` and draw their
    outlines nearly opaque; masks in ``rough`` get diagonal stripes instead of a fill and a dashed
    outline. Only the box around all drawn masks is touched (a person fills a
    fraction of a webcam frame) and the blend and erosion run in OpenCV (bench/bench_render.py compares a whole-frame
    numpy blend)."""
    out = rgb.copy()
    if not idx:
        return out
    union = np.logical_or.reduce(masks[idx], axis=0)
    box = mask_box(union)
    if box is None:
        return out
    x0, y0, x1, y1 = (int(v) for v in box)
    crop = out[y0:y1, x0:x1]  # a view: drawing on it draws on ``out``
    paint = np.zeros_like(crop)
    fill = union[y0:y1, x0:x1].copy()
    stripes = _stripes(y0, y1, x0, x1) if rough else None
    for i in idx:
        m = masks[i, y0:y1, x0:x1]
        paint[m] = colors[i]
        if i in rough:
            fill[m] = stripes[m]  # a later, solid mask still wins its own pixels below
        else:
            fill |= m
    a = float(np.clip(opacity, 0, 1))
    if a > 0:
        np.copyto(crop, cv2.addWeighted(crop, 1 - a, paint, a, 0), where=fill[:, :, None])
    if outline or rough:
        for i in idx:
            if not outline and i not in rough:
                continue
            m = masks[i, y0:y1, x0:x1]
            edge = m & ~erode(m)
            if i in rough:
                edge &= _stripes(y0, y1, x0, x1, HATCH * 2, diagonal=False)
            crop[edge] = (0.1 * crop[edge] + 0.9 * np.asarray(colors[i], np.float32)).astype(np.uint8)
    return out


def _stripes(y0: int, y1: int, x0: int, x1: int, period: int = HATCH, diagonal: bool = True) -> np.ndarray:
    """(y1-y0, x1-x0) bool: diagonal stripes (x + y) in image coordinates, half of each period set,
    so stripes line up across crops; ``diagonal=False`` gives dashes along both axes (for edges)."""
    ys, xs = np.ogrid[y0:y1, x0:x1]
    if diagonal:
        return ((xs + ys) % period) < period // 2
    return ((xs // period + ys // period) % 2) == 0


_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def erode(mask: np.ndarray) -> np.ndarray:
    """4-neighbour binary erosion; pixels outside the array count as background."""
    eroded = cv2.erode(mask.view(np.uint8), _CROSS, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return eroded.view(bool)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # very old Pillow
        return ImageFont.load_default()


def draw_boxes(
    rgb: np.ndarray,
    boxes: np.ndarray,
    colors: list[tuple[int, int, int]],
    texts: list[str] | None = None,
    *,
    draw_rect: bool = True,
    width: int | None = None,
) -> np.ndarray:
    """Rectangles (x0, y0, x1, y1 pixels) with a filled label tag for each; new image. Tags are placed
    by :func:`label_positions`: inside the image, clear of the corners where the app's badges sit and
    not on top of one another."""
    img = Image.fromarray(np.asarray(rgb, np.uint8).copy())
    draw = ImageDraw.Draw(img)
    h, w = rgb.shape[:2]
    width = width or max(2, round(max(h, w) / 320))
    font = _font(max(11, round(max(h, w) / 45)))
    texts = texts or [""] * len(boxes)
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    for box, color in zip(boxes, colors):
        if draw_rect:
            x0, y0, x1, y1 = (float(v) for v in box)
            draw.rectangle([x0, y0, x1 - 1, y1 - 1], outline=tuple(color), width=width)
    bbs = [draw.textbbox((0, 0), t, font=font) if t else (0, 0, 0, 0) for t in texts]
    sizes = [(b[2] - b[0] + 6, b[3] - b[1] + 4) if t else (0, 0) for b, t in zip(bbs, texts)]
    spots = label_positions(boxes, sizes, (h, w))
    for text, color, (tx0, ty0, _, _), (tx, ty), (tw, th) in zip(texts, colors, bbs, spots, sizes):
        if text:
            draw.rectangle([tx, ty, tx + tw, ty + th], fill=tuple(color))
            draw.text((tx + 3 - tx0, ty + 2 - ty0), text, fill=_text_color(color), font=font)
    return np.asarray(img)


def badge_zones(image_hw: tuple[int, int], tag_height: float) -> list[tuple[float, float, float, float]]:
    """Corners of an image that the app's own badges cover when it is shown (the component's label at
    the top left, its buttons at the top right), as (x0, y0, x1, y1) pixel rectangles."""
    h, w = image_hw
    if min(h, w) < 160:  # a thumbnail-sized image: its tags could not avoid the corners anyway
        return []
    band = max(1.6 * tag_height, 0.08 * h)
    return [(0.0, 0.0, 0.3 * w, band), (0.8 * w, 0.0, float(w), band)]


def rects_overlap(a, b, gap: float = 0.0) -> bool:
    """Rectangles (x0, y0, x1, y1) overlap, or come closer than ``gap`` pixels."""
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


LABEL_GAP = 4.0
"""Pixels kept free between two label tags (touching tags read as one)."""


def _label_spots(box, tw: float, th: float, rings: int = 4):
    """Candidate top-left corners (x, y, far) for a (tw, th) tag of ``box``, best first: just above the
    box, inside it at the top, lower inside, just below; then (a crowd, every near spot taken) rings
    of ``far`` spots ever further above and beside the box, one tag height and half a tag width apart
    (used only where they fit in the image as they are: a far spot pushed into a corner would label
    nothing near it)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    for ty in [y0 - th, y0] + [y0 + k * th for k in range(1, max(1, int((y1 - y0) // max(th, 1))))] + [y1 - th, y1]:
        for tx in (x0, x1 - tw):
            yield tx, ty, False
    step_y, step_x = th + LABEL_GAP, tw / 2
    for r in range(1, rings + 1):
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                if max(abs(dx), abs(dy)) == r:
                    yield x0 + dx * step_x, y0 - th + dy * step_y, True


def label_positions(boxes: np.ndarray, sizes: list[tuple[float, float]],
                    image_hw: tuple[int, int]) -> list[tuple[float, float]]:
    """Top-left corners for label tags of ``sizes`` (w, h) belonging to ``boxes`` (N, 4) x0 y0 x1 y1.

    Each tag goes to the first place (:func:`_label_spots`) that lies inside the image, avoids
    :func:`badge_zones` and every tag placed before it (by :data:`LABEL_GAP`): just above its box, inside
    its box at the top, then lower inside the box, just below it, then further out. When none is
    free, the one overlapping least is used.
    Greedy in the given order (callers pass large/important things first)."""
    h, w = image_hw
    placed: list[tuple[float, float, float, float]] = []
    out: list[tuple[float, float]] = []
    for box, (tw, th) in zip(np.asarray(boxes, float).reshape(-1, 4), sizes):
        if tw <= 0:
            out.append((0.0, 0.0))
            continue
        zones = badge_zones(image_hw, th)
        best, best_cost = None, None
        for tx, ty, far in _label_spots(box, tw, th):
            tx_c = min(max(0.0, tx), max(0.0, w - tw))
            ty_c = min(max(0.0, ty), max(0.0, h - th))
            if far and (tx_c, ty_c) != (tx, ty):
                continue
            rect = (tx_c, ty_c, tx_c + tw, ty_c + th)
            cost = 2 * sum(rects_overlap(rect, z) for z in zones) + 3 * sum(rects_overlap(rect, p, LABEL_GAP)
                                                                        for p in placed)
            cost += 0.001 * (abs(tx_c - tx) + abs(ty_c - ty))  # prefer spots that needed no clamping
            if best_cost is None or cost < best_cost:
                best, best_cost = rect, cost
            if cost < 0.5:
                break
        placed.append(best)
        out.append((best[0], best[1]))
    return out


def _text_color(color) -> tuple[int, int, int]:
    r, g, b = color
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 140 else (255, 255, 255)


def draw_skeleton(
    rgb: np.ndarray,
    keypoints: np.ndarray,
    skeleton: tuple[tuple[int, int], ...] | list,
    color: tuple[int, int, int],
    threshold: float = 0.5,
) -> np.ndarray:
    """Joints (K, 3) = (x, y, visibility) with visibility >= threshold, and bones between them."""
    img = Image.fromarray(np.asarray(rgb, np.uint8).copy())
    draw = ImageDraw.Draw(img)
    h, w = rgb.shape[:2]
    lw = max(2, round(max(h, w) / 250))
    r = lw + 1
    kp = np.asarray(keypoints, float)
    ok = kp[:, 2] >= threshold
    for a, b in skeleton:
        if a < len(kp) and b < len(kp) and ok[a] and ok[b]:
            draw.line([(kp[a, 0], kp[a, 1]), (kp[b, 0], kp[b, 1])], fill=tuple(color), width=lw)
    for x, y, _ in kp[ok]:
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(255, 255, 255), outline=tuple(color))
    return np.asarray(img)


def side_by_side(*images: np.ndarray, gap: int = 8) -> np.ndarray:
    """Images of equal height next to each other with a white gap (for comparisons)."""
    h = max(im.shape[0] for im in images)
    parts = []
    for k, im in enumerate(images):
        if im.shape[0] != h:
            scale = h / im.shape[0]
            im = np.asarray(Image.fromarray(im).resize((max(1, round(im.shape[1] * scale)), h)))
        parts.append(im)
        if k < len(images) - 1:
            parts.append(np.full((h, gap, 3), 255, np.uint8))
    return np.concatenate(parts, axis=1)
