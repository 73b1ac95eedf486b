"""Context: one pixel's label decided from growing crops around it.

A network that sees only a small window around a pixel must guess from texture and colour; with
more of the photo in view it can use the object's shape and its surroundings. Here a real model
labels square crops of growing size centred on the chosen pixel, and we read its class scores at
that pixel in every crop.

Two kinds of real model:

* a **semantic** model with per-pixel probabilities (the downloadable torchvision / smp-hub networks,
  the bundled person models): the softmax at the pixel, summing to 1;
* the offline **detector** (``nanodet-m``, used when the tab's model is the detector-based
  ``things-offline``, whose own map is one-hot): for each class the best score of any candidate
  box of that class that covers the pixel (NanoDet's sigmoid scores, which do not sum to 1),
  and "nothing" = 1 - the best of them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DETECTOR = "nanodet-m"
CROP_SIDES = (24, 48, 96, 192)
"""Crop sides (px) tried before the whole photo."""
TOP_K = 5
NOTHING = "nothing"
DETECTOR_FLOOR = 0.05
"""Candidate boxes scoring below this are ignored."""
DETECTOR_THRESHOLD = 0.35
"""The detector names a class at the pixel only when it scores at least this (its own keep threshold)."""


def crop_around(hw: tuple[int, int], x: int, y: int, side: int) -> tuple[int, int, int, int]:
    """A ``side`` x ``side`` window (x0, y0, x1, y1) holding pixel (x, y), centred on it where the
    image allows (shifted inwards at the borders, shrunk to the image when larger)."""
    h, w = hw
    sw, sh = min(side, w), min(side, h)
    x0 = int(min(max(0, x - sw // 2), w - sw))
    y0 = int(min(max(0, y - sh // 2), h - sh))
    return x0, y0, x0 + sw, y0 + sh


@dataclass(frozen=True)
class CropScores:
    """One crop's verdict on the pixel: ``scores`` class -> score (best first, at most
    :data:`TOP_K` + nothing), ``label`` the winner, ``box`` the crop (x0, y0, x1, y1)."""

    box: tuple[int, int, int, int]
    scores: dict[str, float]
    label: str

    @property
    def side(self) -> int:
        return max(self.box[2] - self.box[0], self.box[3] - self.box[1])


@dataclass(frozen=True)
class ContextResult:
    """Result of :func:`context_scores`: the pixel, the model used, how its scores read, one
    :class:`CropScores` per crop (smallest first, the whole photo last)."""

    point: tuple[int, int]
    model: str
    kind: str
    crops: tuple[CropScores, ...]

    def table(self) -> tuple[list[str], list[list]]:
        """(headers, rows): one row per crop, one column per class seen in any crop's top list."""
        classes: list[str] = []
        for c in self.crops:
            classes += [k for k in c.scores if k not in classes]
        rows = [[f"{c.side} px" if i < len(self.crops) - 1 else f"whole photo ({c.side} px)", c.label,
                 *[round(c.scores.get(k, 0.0), 3) for k in classes]] for i, c in enumerate(self.crops)]
        return ["crop", "label", *classes], rows


def detector_scores(det, px: float, py: float) -> dict[str, float]:
    """Best score per class over a :class:`core.segmentation.nanodet.Detections`' candidates whose
    box covers (px, py), plus :data:`NOTHING`; best first, top :data:`TOP_K` classes."""
    best: dict[str, float] = {}
    for (x0, y0, x1, y1), s, name in zip(det.boxes, det.scores, det.names):
        if x0 <= px <= x1 and y0 <= py <= y1:
            best[name] = max(best.get(name, 0.0), float(s))
    top = dict(sorted(best.items(), key=lambda kv: -kv[1])[:TOP_K])
    top[NOTHING] = 1.0 - max(best.values(), default=0.0)
    return dict(sorted(top.items(), key=lambda kv: -kv[1]))


def pixel_scores(probs: np.ndarray, labels: tuple[str, ...], px: int, py: int) -> dict[str, float]:
    """Top :data:`TOP_K` classes of a (C, H, W) probability map at pixel (px, py), best first."""
    p = probs[:, py, px]
    order = np.argsort(-p, kind="stable")[:TOP_K]
    return {labels[i]: float(p[i]) for i in order}


def winner(scores: dict[str, float], kind: str) -> str:
    """The label a crop gives the pixel: the best class; for the detector, only when it reaches
    :data:`DETECTOR_THRESHOLD`, else :data:`NOTHING`."""
    if kind == "detector":
        best = max((kv for kv in scores.items() if kv[0] != NOTHING), key=lambda kv: kv[1], default=(NOTHING, 0.0))
        return best[0] if best[1] >= DETECTOR_THRESHOLD else NOTHING
    return max(scores, key=scores.get)


def _scorer(model: str):
    """(registry name, kind, function crop_rgb, px, py -> scores) for ``model`` (a semantic model
    name or "auto")."""
    from core import models
    from core.segmentation.semantic import resolve_model

    name = resolve_model(model)
    if name == "things-offline":
        det_net = models.load(DETECTOR)
        return DETECTOR, "detector", lambda crop, px, py: detector_scores(
            det_net.detect(crop, floor=DETECTOR_FLOOR), px, py)
    net = models.load(name)
    return name, "semantic", lambda crop, px, py: pixel_scores(net.probabilities(crop), tuple(net.labels), px, py)


def context_scores(rgb: np.ndarray, x: int, y: int, model: str = "auto",
                   sides: tuple[int, ...] = CROP_SIDES) -> ContextResult:
    """Class scores of pixel (x, y) of RGB uint8 (H, W, 3) ``rgb`` from crops of each side in
    ``sides`` (those smaller than the photo) and from the whole photo, by a real model."""
    h, w = rgb.shape[:2]
    x, y = int(x), int(y)
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError(f"The point ({x}, {y}) is outside the {w}x{h} photo.")
    name, kind, score = _scorer(model)
    boxes = [crop_around((h, w), x, y, s) for s in sides if s < max(h, w)] + [(0, 0, w, h)]
    crops = []
    for x0, y0, x1, y1 in boxes:
        scores = score(np.ascontiguousarray(rgb[y0:y1, x0:x1]), x - x0, y - y0)
        crops.append(CropScores((x0, y0, x1, y1), scores, winner(scores, kind)))
    return ContextResult((x, y), name, kind, tuple(crops))
