"""Overlay drawing cost per webcam frame: the renderer's cropped OpenCV blend against the plain
whole-frame numpy blend (the straightforward implementation), same masks, same run."""
from __future__ import annotations


import numpy as np
from PIL import Image

from bench.timing import median_ms
from core import render

from bench.paths import ROOT


def _numpy_blend(rgb, masks, colors, opacity):
    """Baseline: paint every mask over the whole frame, then one uint16 blend of the whole frame."""
    h, w = rgb.shape[:2]
    paint = np.zeros((h, w, 3), np.uint8)
    alpha = np.zeros((h, w), np.uint8)
    a_fill = int(round(opacity * 255))
    for m, c in zip(masks, colors):
        paint[m] = c
        alpha[m] = a_fill
        edge = m & ~render.erode(m)
        paint[edge] = c
        alpha[edge] = 230
    a = alpha.astype(np.uint16)[:, :, None]
    return ((rgb.astype(np.uint16) * (255 - a) + paint.astype(np.uint16) * a + 127) // 255).astype(np.uint8)


def run() -> list[dict]:
    rgb = np.asarray(Image.open(ROOT / "assets/photos/astronaut.png").convert("RGB").resize((640, 480)))
    masks = np.zeros((1, 480, 640), bool)
    masks[0, 120:480, 180:460] = True  # one person, about a third of the frame
    colors = [(60, 180, 75)]
    fast = median_ms(lambda: render.blend_masks(rgb, masks, colors, [0], 0.5, True), reps=40)
    base = median_ms(lambda: _numpy_blend(rgb, masks, colors, 0.5), reps=40)
    return [{"name": "render.blend_640x480_ms", "value": round(fast, 2), "unit": "ms", "baseline": round(base, 2),
             "ratio": round(base / fast, 2),
             "notes": "mask fill + outline of one person-sized mask; baseline = whole-frame numpy blend; "
                      "ratio = speed-up"}]
