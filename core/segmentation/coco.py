"""COCO-style JSON for instance results: RLE masks (pycocotools), boxes, scores, keypoints.

``to_coco(seg)`` returns a dict in the COCO dataset layout (``info``, ``images``, ``categories``,
``annotations``) with one annotation per instance:

* ``segmentation``: compressed RLE ``{"size": [H, W], "counts": str}`` (pycocotools), absent when
  the model has no masks (Keypoint R-CNN);
* ``bbox``: [x, y, width, height] in pixels; ``area``: mask pixels (box area without a mask);
* ``score`` (a prediction's confidence, as in COCO result files) and ``track_id`` (the stable id);
* ``keypoints``: flat [x1, y1, v1, ...] in the model's own order with COCO's visibility flags
  (2 = visible: the model's visibility >= ``keypoint_threshold``, 1 = predicted but not visible),
  ``num_keypoints`` (how many are 2) and ``keypoint_scores`` (the model's raw visibilities); only
  on instances that have keypoints (a dog of the offline pipeline has none);
* ``mask_quality`` ("model", "fine" or "rough", see :data:`core.types.MASK_QUALITIES`) when the
  model's masks are not all its own, and ``second`` (the detector's runner-up class: category_id,
  name, score) when it gave one.

Category ids are the model's class ids (torchvision's ids are COCO's own ids; the bundled person
model uses 1 = person); the person category lists ``keypoints`` names and a 1-based ``skeleton``.
"""
from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import numpy as np

from core.types import Segmentation

COCO17_KEYPOINT_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)

COCO17_SKELETON: tuple[tuple[int, int], ...] = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
    (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)
"""COCO's person skeleton, 0-based (the 1-based list of the COCO annotations minus one)."""

SKIP_LABELS = frozenset({"__background__", "background", "N/A", "no person"})


def encode_mask(mask: np.ndarray) -> dict:
    """(H, W) bool -> COCO compressed RLE with ``counts`` as a str (JSON-ready)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"]}


def decode_mask(rle: dict) -> np.ndarray:
    """COCO RLE (counts as str or bytes) -> (H, W) bool."""
    from pycocotools import mask as mask_utils

    rle = dict(rle)
    if isinstance(rle["counts"], str):
        rle["counts"] = rle["counts"].encode("ascii")
    return mask_utils.decode(rle).astype(bool)


def to_coco(seg: Segmentation, *, image_id: int = 1, file_name: str = "image.png",
            keypoint_threshold: float = 0.5, min_score: float = 0.0) -> dict:
    """The instance result ``seg`` as a COCO-style dict (see module docstring)."""
    h, w = seg.image_size
    has_masks = seg.has_masks
    used = sorted({int(c) for c in seg.class_ids})
    categories = []
    for cid, label in enumerate(seg.labels):
        if label in SKIP_LABELS and cid not in used:
            continue
        cat = {"id": cid, "name": label, "supercategory": "person" if label == "person" else "object"}
        if label == "person" and seg.keypoint_names:
            cat["keypoints"] = list(seg.keypoint_names)
            cat["skeleton"] = [[a + 1, b + 1] for a, b in seg.skeleton]
        categories.append(cat)
    boxes = seg.boxes if seg.boxes is not None else seg.mask_boxes()
    annotations = []
    for i in range(len(seg)):
        score = None if seg.scores is None else float(seg.scores[i])
        if score is not None and score < min_score:
            continue
        x0, y0, x1, y1 = (float(v) for v in boxes[i])
        ann: dict = {
            "id": len(annotations) + 1,
            "image_id": image_id,
            "category_id": int(seg.class_ids[i]),
            "bbox": [round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)],
            "iscrowd": 0,
        }
        if has_masks:
            ann["segmentation"] = encode_mask(seg.masks[i])
            ann["area"] = int(seg.masks[i].sum())
            if seg.mask_quality:
                ann["mask_quality"] = seg.quality(i)
        else:
            ann["area"] = round((x1 - x0) * (y1 - y0), 2)
        if score is not None:
            ann["score"] = round(score, 5)
        if seg.segment_ids is not None:
            ann["track_id"] = int(seg.segment_ids[i])
        ann.update(_extra_fields(seg, i, keypoint_threshold))
        annotations.append(ann)
    return {
        "info": {
            "description": f"CV Lab instance segmentation ({seg.model})",
            "date_created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "model": seg.model,
        },
        "images": [{"id": image_id, "file_name": file_name, "height": h, "width": w}],
        "categories": categories,
        "annotations": annotations,
    }


def _extra_fields(seg: Segmentation, i: int, keypoint_threshold: float) -> dict:
    """Segment ``i``'s runner-up class and keypoints (only when it has some), as COCO fields."""
    out: dict = {}
    second = seg.runner_up(i)
    if second is not None:
        out["second"] = {"category_id": int(seg.second_class_ids[i]), "name": second[0], "score": round(second[1], 5)}
    if seg.keypoints is not None and seg.keypoints[i].any():  # no keypoints where there are none
        kp = seg.keypoints[i]
        flags = np.where(kp[:, 2] >= keypoint_threshold, 2, 1)
        out["keypoints"] = [v for (x, y, _), f in zip(kp, flags)
                            for v in (round(float(x), 2), round(float(y), 2), int(f))]
        out["num_keypoints"] = int((flags == 2).sum())
        out["keypoint_scores"] = [round(float(v), 4) for v in kp[:, 2]]
    return out


def write_coco(seg: Segmentation, path: str | Path, *, file_name: str = "image.png", **kwargs) -> Path:
    """Write :func:`to_coco` as JSON to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_coco(seg, file_name=file_name, **kwargs)))
    return path
