"""Box geometry shared by the detectors, NMS, the two-stage pipeline and the trackers.

Boxes are float x0, y0, x1, y1 in image pixels (x1, y1 exclusive)."""
from __future__ import annotations

import numpy as np


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) float32 IoU of two sets of xyxy boxes (either may be empty)."""
    a = np.asarray(a, np.float32).reshape(-1, 4)
    b = np.asarray(b, np.float32).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def iou_one_to_many(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(len(boxes),) IoU of one xyxy box with each of ``boxes`` (which may be empty)."""
    return box_iou(box, boxes)[0]


def mask_box(mask: np.ndarray) -> np.ndarray | None:
    """(4,) float32 box around one (H, W) bool ``mask`` (x1, y1 exclusive), or None when it is empty."""
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    if not len(xs):
        return None
    return np.array((xs[0], ys[0], xs[-1] + 1, ys[-1] + 1), np.float32)


def masks_to_boxes(masks: np.ndarray, fallback: np.ndarray | None = None) -> np.ndarray:
    """(N, 4) float32 boxes around each of the (N, H, W) bool ``masks`` (x1, y1 exclusive); an empty
    mask keeps its row of ``fallback`` ((N, 4), e.g. the detector's box), or zeros without one."""
    masks = np.asarray(masks, bool)
    out = np.zeros((len(masks), 4), np.float32) if fallback is None else np.array(fallback, np.float32).reshape(-1, 4)
    for i, m in enumerate(masks):
        box = mask_box(m)
        if box is not None:
            out[i] = box
    return out


def resolve_overlaps(probs: np.ndarray, threshold: float) -> np.ndarray:
    """(N, H, W) bool masks from (N, H, W) float probabilities thresholded at ``threshold``, with every
    pixel that several masks claim given to the most probable one, so instances never overlap."""
    probs = np.asarray(probs)
    masks = probs > threshold
    contested = masks.sum(axis=0) > 1
    if contested.any():
        owner = probs[:, contested].argmax(axis=0)
        masks[:, contested] = owner[None, :] == np.arange(len(probs))[:, None]
    return masks
