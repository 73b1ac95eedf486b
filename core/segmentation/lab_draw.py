"""Pure drawings for the "Why downsample?" lab: squares, a gradient heat map, crops, error maps.

Every function takes an RGB uint8 (H, W, 3) image, never changes it, and returns a new RGB uint8
image of the same size. Coordinates are (x, y) pixels, x to the right, y down.
"""
from __future__ import annotations

import cv2
import numpy as np

BLOCK_COLOURS = {1: (255, 255, 255), 2: (80, 220, 255), 3: (120, 255, 120), 4: (255, 200, 60), 5: (255, 80, 80)}
"""Square colour per VGG19 block (by the layer name's block digit)."""
CLICK = (255, 0, 255)
WRONG = (255, 40, 40)


def layer_colour(layer: str) -> tuple[int, int, int]:
    """Fixed colour of a VGG19 layer, by block (``conv4_4`` -> block 4)."""
    return BLOCK_COLOURS.get(int(layer[4]) if layer[4:5].isdigit() else 1, (255, 255, 255))


def heat_overlay(rgb: np.ndarray, values: np.ndarray, gamma: float = 0.5) -> np.ndarray:
    """Photo dimmed to 35%, with ``values`` (H, W) >= 0 as an inferno heat map on top; opacity
    follows (value / max) ** gamma, so weak but non-zero values stay visible."""
    v = np.asarray(values, np.float32)
    top = float(v.max())
    g = np.zeros_like(v) if top <= 0 else (v / top) ** gamma
    heat = cv2.applyColorMap((g * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)[:, :, ::-1].astype(np.float32)
    a = g[:, :, None]
    out = rgb.astype(np.float32) * 0.35 * (1 - a) + heat * a
    return np.clip(out, 0, 255).astype(np.uint8)


def draw_squares(rgb: np.ndarray, squares: list[tuple[str, tuple[float, float, float, float]]],
                 width: int = 2) -> np.ndarray:
    """Outline each ``(layer, (x0, y0, x1, y1))`` in its layer's colour (clipped to the image)."""
    out = np.ascontiguousarray(rgb.copy())
    h, w = out.shape[:2]
    for layer, (x0, y0, x1, y1) in squares:
        p0 = (int(round(max(0, x0))), int(round(max(0, y0))))
        p1 = (int(round(min(w - 1, x1 - 1))), int(round(min(h - 1, y1 - 1))))
        cv2.rectangle(out, p0, p1, layer_colour(layer), width, cv2.LINE_AA)
    return out


def mark_point(rgb: np.ndarray, x: float, y: float, radius: float | None = None,
               colour: tuple[int, int, int] = CLICK) -> np.ndarray:
    """A cross at (x, y) and, when ``radius`` is given, a circle of that radius (px) around it."""
    out = np.ascontiguousarray(rgb.copy())
    c = (int(round(x)), int(round(y)))
    cv2.drawMarker(out, c, colour, cv2.MARKER_CROSS, 12, 2, cv2.LINE_AA)
    if radius is not None:
        cv2.circle(out, c, max(1, int(round(radius))), colour, 1, cv2.LINE_AA)
    return out


def draw_crops(rgb: np.ndarray, boxes: list[tuple[int, int, int, int]], x: int, y: int) -> np.ndarray:
    """The crops (smallest first) as outlines from white (small) to red (large), and the pixel."""
    out = np.ascontiguousarray(rgb.copy())
    n = max(1, len(boxes) - 1)
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        t = i / n
        colour = (255, int(255 * (1 - t)), int(255 * (1 - t)))
        cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), colour, 2, cv2.LINE_AA)
    return mark_point(out, x, y)


def error_map(rgb: np.ndarray, wrong: np.ndarray, band: np.ndarray | None = None) -> np.ndarray:
    """Photo greyed to 40%; the boundary band (if given) tinted blue; wrong pixels (H, W) bool red."""
    grey = rgb.astype(np.float32).mean(2, keepdims=True).repeat(3, 2) * 0.4
    if band is not None:
        grey[band] = grey[band] * 0.6 + np.array([40, 70, 140], np.float32)
    grey[wrong] = WRONG
    return np.clip(grey, 0, 255).astype(np.uint8)
