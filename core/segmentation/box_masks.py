"""A mask inside a detector's box, for classes that have no mask model offline.

:func:`box_mask` runs OpenCV's GrabCut (Rother et al. 2004: colour models of the box's inside and
outside, then a graph cut): no weights. It works on a downscaled crop around the box (the box plus a
:data:`MARGIN` share on each side, longest side :data:`WORK_SIDE` px), seeded with labels: outside
the box is background, the box is probable foreground; when the box fills nearly the whole crop (a
close-up), a thin strip along the box border is probable background instead, as there is nothing
else to learn the background's colours from. The mask is resized back and clipped to the box.

Every mask comes with a verdict. **fine**: GrabCut separated the object from background it saw.
**rough**: GrabCut's answer was degenerate (less than :data:`MIN_FILL` or more than :data:`MAX_FILL`
of the box: the inscribed ellipse is used, only to mark where the object is), or it kept more than
:data:`ROUGH_FILL` of the box (no outline found), or it saw too little background around the box to
tell the two apart, or its border does not follow the photo's edges (:func:`edge_support` below
:data:`MIN_EDGE_SUPPORT`). The renderer hatches rough masks and the exports say ``"mask_quality": "rough"``.

Quality is measured against hand-drawn reference outlines (``assets/eval/reference_masks.json``)
and BlazePose's person masks by ``bench/box_masks_eval.py``; the numbers behind these settings are in
the project's decision history.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WORK_SIDE = 128
"""GrabCut runs on a crop whose longest side is this many pixels (see the module docstring)."""
ITERATIONS = 3
MARGIN = 0.25
"""Share of the box's size added around it so that GrabCut sees some background."""
EDGE_STRIP = 0.05
"""When the crop holds almost no pixels outside the box (a box that fills the photo), this share of
the box's width / height along its border is marked *probable* background instead."""
MIN_OUTSIDE = 0.15
"""Below this share of the crop outside the box, the background model is too thin to trust."""
CORE = 0.3
"""When GrabCut's first answer is (nearly) empty, it runs once more with the ellipse of this share of
the box's width and height at the box's centre marked as sure foreground: a detector's box is
centred on its object, and GrabCut's colour models can otherwise collapse to "all background"."""
MIN_FILL, MAX_FILL = 0.08, 0.97
ROUGH_FILL = 0.92
"""A GrabCut mask covering more of its box than this found no outline (it is the box)."""
MIN_EDGE_SUPPORT = 1.5
"""An outline must follow edges of the photo: the mean gradient magnitude along the mask's border
(inside the box) must be at least this multiple of the box's mean gradient. Outlines GrabCut got
right score about 2-6, the inscribed ellipse about 0.6-1.3, a flat or noisy patch 0-1.1."""


@dataclass(frozen=True)
class BoxMask:
    """mask: (H, W) bool in image pixels, True inside the object (never outside ``box``);
    method: "grabcut" or "ellipse" (no usable GrabCut answer); fill: share of the box the mask
    covers; quality: "fine" (GrabCut found an outline against background it saw) or "rough"
    (the ellipse, a mask that is nearly the whole box, or a box with too little background around
    it to tell object from background): a rough mask must be drawn and exported as such."""

    mask: np.ndarray
    method: str
    fill: float
    quality: str = "fine"


def _box_pixels(box, h: int, w: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (float(v) for v in box)
    x0, y0 = int(np.clip(np.floor(x0), 0, w - 1)), int(np.clip(np.floor(y0), 0, h - 1))
    x1, y1 = int(np.clip(np.ceil(x1), x0 + 1, w)), int(np.clip(np.ceil(y1), y0 + 1, h))
    return x0, y0, x1, y1


@dataclass(frozen=True)
class BoxCrop:
    """The crop around a box that GrabCut works on (see :func:`crop_around_box`).

    image: (ch, cw, 3) uint8 RGB crop, downscaled (INTER_AREA) so its longest side is at most the
    ``side`` asked for, never upscaled; box: the box in whole image pixels (x0, y0 floored, x1, y1
    ceiled, clipped to the image, at least 1 px wide and high); window: x0, y0, x1, y1 of the crop in
    image pixels; rect: the box in crop pixels (x0, y0, x1, y1, at least 1 px); scale: crop pixels
    per image pixel (at most 1)."""

    image: np.ndarray
    box: tuple[int, int, int, int]
    window: tuple[int, int, int, int]
    rect: tuple[int, int, int, int]
    scale: float

    @property
    def box_area(self) -> int:
        """The box's area in image pixels."""
        x0, y0, x1, y1 = self.box
        return (x1 - x0) * (y1 - y0)

    def paste(self, fg: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """(H, W) bool image mask from a (ch, cw) uint8 0/255 foreground of the crop: resized back to
        the window (bilinear, then > 127) and kept only inside the box."""
        cx0, cy0, cx1, cy1 = self.window
        if fg.shape[:2] != (cy1 - cy0, cx1 - cx0):
            fg = cv2.resize(fg, (cx1 - cx0, cy1 - cy0), interpolation=cv2.INTER_LINEAR)
        out = np.zeros(shape, bool)
        out[cy0:cy1, cx0:cx1] = fg > 127
        x0, y0, x1, y1 = self.box
        inside = np.zeros(shape, bool)
        inside[y0:y1, x0:x1] = True
        return out & inside


def crop_around_box(rgb: np.ndarray, box, margin: float, side: int) -> BoxCrop:
    """The crop of an RGB uint8 (H, W, 3) image around ``box`` (x0, y0, x1, y1 pixels, clipped to the
    image) with ``margin`` of the box's width / height plus 2 px added on each side (clipped to the
    image), downscaled so its longest side is at most ``side`` px."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = _box_pixels(box, h, w)
    bw, bh = x1 - x0, y1 - y0
    cx0, cy0 = max(0, int(x0 - margin * bw) - 2), max(0, int(y0 - margin * bh) - 2)
    cx1, cy1 = min(w, int(x1 + margin * bw) + 2), min(h, int(y1 + margin * bh) + 2)
    crop = rgb[cy0:cy1, cx0:cx1]
    s = min(1.0, side / max(crop.shape[:2]))
    if s < 1.0:
        crop = cv2.resize(crop, (max(2, round(crop.shape[1] * s)), max(2, round(crop.shape[0] * s))),
                          interpolation=cv2.INTER_AREA)
    ch, cw = crop.shape[:2]
    rx0, ry0 = int(round((x0 - cx0) * s)), int(round((y0 - cy0) * s))
    rx1, ry1 = min(cw, max(rx0 + 1, int(round((x1 - cx0) * s)))), min(ch, max(ry0 + 1, int(round((y1 - cy0) * s))))
    return BoxCrop(crop, (x0, y0, x1, y1), (cx0, cy0, cx1, cy1), (rx0, ry0, rx1, ry1), s)


def ellipse_mask(shape: tuple[int, int], box) -> np.ndarray:
    """(H, W) bool: the ellipse inscribed in ``box`` (x0, y0, x1, y1 image pixels)."""
    h, w = shape
    x0, y0, x1, y1 = _box_pixels(box, h, w)
    out = np.zeros((h, w), np.uint8)
    cv2.ellipse(out, (((x0 + x1) / 2.0, (y0 + y1) / 2.0), (float(max(1, x1 - x0)), float(max(1, y1 - y0))), 0.0), 255, -1)
    inside = np.zeros((h, w), bool)
    inside[y0:y1, x0:x1] = True  # OpenCV's rasterised ellipse may touch the pixel just past the box
    return (out > 0) & inside


def edge_support(rgb: np.ndarray, box, mask: np.ndarray) -> float:
    """How well the border of ``mask`` ((H, W) bool) follows edges of ``rgb`` (RGB uint8) inside
    ``box``: the mean gradient magnitude (Sobel on the grey image, blurred with sigma 1.5 px) on the
    mask's border pixels, divided by the mean over the whole box. 1 = no better than anywhere; 0 when
    the border inside the box has fewer than 10 pixels."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = _box_pixels(box, h, w)
    grey = cv2.GaussianBlur(cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
                            .astype(np.float32), (0, 0), 1.5)
    mag = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    m = mask[y0:y1, x0:x1].astype(np.uint8)
    border = (m > 0) & (cv2.erode(m, np.ones((3, 3), np.uint8)) == 0)
    border[[0, -1], :] = False  # the box's own sides are not an outline the method found
    border[:, [0, -1]] = False
    if border.sum() < 10:
        return 0.0
    return float(mag[border].mean() / (mag.mean() + 1e-3))


def _seed(ch: int, cw: int, rect: tuple[int, int, int, int], core: float = 0.0) -> tuple[np.ndarray, bool]:
    """GrabCut's (ch, cw) uint8 start labels: outside the box background (GC_BGD), the box probable
    foreground; when less than MIN_OUTSIDE of the crop is outside the box, a thin strip along the box
    border becomes probable background; ``core`` > 0 marks the centred ellipse of that share of the
    box as sure foreground (GC_FGD). Returns (labels, enough background seen)."""
    rx0, ry0, rx1, ry1 = rect
    seed = np.full((ch, cw), cv2.GC_BGD, np.uint8)
    seed[ry0:ry1, rx0:rx1] = cv2.GC_PR_FGD
    outside = 1.0 - (rx1 - rx0) * (ry1 - ry0) / float(ch * cw)
    if outside < MIN_OUTSIDE:
        sx, sy = max(1, round(EDGE_STRIP * (rx1 - rx0))), max(1, round(EDGE_STRIP * (ry1 - ry0)))
        seed[ry0:ry1, rx0:rx1] = cv2.GC_PR_BGD
        seed[ry0 + sy:ry1 - sy, rx0 + sx:rx1 - sx] = cv2.GC_PR_FGD
    if core > 0:
        centre, axes = ((rx0 + rx1) / 2.0, (ry0 + ry1) / 2.0), (core * (rx1 - rx0), core * (ry1 - ry0))
        cv2.ellipse(seed, (centre, axes, 0.0), int(cv2.GC_FGD), -1)
    return seed, outside >= MIN_OUTSIDE


def _grabcut(crop: np.ndarray, seed: np.ndarray, iterations: int) -> np.ndarray | None:
    """Foreground (ch, cw) uint8 0/255 of GrabCut on an RGB crop from ``seed`` labels, or None."""
    if crop.shape[0] < 2 or crop.shape[1] < 2 or not (seed != cv2.GC_PR_FGD).any():
        return None
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        # GrabCut seeds its colour models with k-means on OpenCV's (per-thread) RNG: a fixed seed
        # makes a box's mask independent of what this thread computed before.
        cv2.setRNGSeed(0)
        cv2.grabCut(np.ascontiguousarray(crop[:, :, ::-1]), seed, None, bgd, fgd, int(iterations),
                    cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # e.g. one of the two colour models has no pixel: the caller falls back
        return None
    return ((seed == cv2.GC_FGD) | (seed == cv2.GC_PR_FGD)).astype(np.uint8) * 255


def box_mask(rgb: np.ndarray, box, *, side: int = WORK_SIDE, iterations: int = ITERATIONS,
             margin: float = MARGIN) -> BoxMask:
    """GrabCut mask of the object in ``box`` of an RGB uint8 (H, W, 3) image.

    Args:
        box: (4,) x0, y0, x1, y1 in image pixels (x1, y1 exclusive; clipped to the image).
        side: longest side in pixels of the crop GrabCut works on.
        iterations: GrabCut iterations.
        margin: share of the box's width / height added on each side as known background.

    Returns:
        :class:`BoxMask` with an (H, W) bool mask, True only inside the box, and its quality.
    """
    h, w = rgb.shape[:2]
    c = crop_around_box(rgb, box, margin, side)
    ch, cw = c.image.shape[:2]
    rx0, ry0, rx1, ry1 = c.rect
    seed, saw_background = _seed(ch, cw, c.rect)
    fg = _grabcut(c.image, seed, iterations) if rx1 - rx0 >= 2 and ry1 - ry0 >= 2 else None
    if fg is not None and (fg[ry0:ry1, rx0:rx1] > 0).mean() < MIN_FILL:
        fg = _grabcut(c.image, _seed(ch, cw, c.rect, CORE)[0], iterations)  # collapsed: once more, centre sure
    if fg is not None:
        out = c.paste(fg, (h, w))
        fill = float(out.sum()) / float(c.box_area)
        if MIN_FILL <= fill <= MAX_FILL:
            fine = saw_background and fill <= ROUGH_FILL and edge_support(rgb, box, out) >= MIN_EDGE_SUPPORT
            return BoxMask(out, "grabcut", fill, "fine" if fine else "rough")
    ell = ellipse_mask((h, w), c.box)
    return BoxMask(ell, "ellipse", float(ell.sum()) / float(c.box_area), "rough")
