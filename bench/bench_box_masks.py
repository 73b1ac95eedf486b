"""Masks for boxes without a mask model (objects-offline): the current GrabCut set-up against the
previous one (``before_mask`` in bench/box_masks_eval.py), same boxes, same run. Quality is the mean
IoU with the hand-drawn reference outlines of assets/eval/reference_masks.json; cost is the median
time per box."""
from __future__ import annotations

import numpy as np

from bench.box_masks_eval import measure, object_cases

NOW = "now: box_mask() (128 px, 25% margin, 3 it)"
BEFORE = "before: GrabCut 64 px, rectangle, 3 it"


def run() -> list[dict]:
    rows = measure(object_cases())
    iou_now = float(np.mean([r["iou"][NOW] for r in rows]))
    iou_before = float(np.mean([r["iou"][BEFORE] for r in rows]))
    ms_now = float(np.median([r["ms"][NOW] for r in rows]))
    ms_before = float(np.median([r["ms"][BEFORE] for r in rows]))
    rough = sum(r.get("quality") == "rough" for r in rows)
    return [
        {"name": "box_masks.object_iou", "value": round(iou_now, 3), "unit": "mean IoU",
         "baseline": round(iou_before, 3), "ratio": round(iou_now / max(iou_before, 1e-9), 2),
         "notes": f"{len(rows)} hand-drawn objects; {rough} marked rough"},
        {"name": "box_masks.ms_per_box", "value": round(ms_now, 1), "unit": "ms",
         "baseline": round(ms_before, 1), "ratio": round(ms_now / max(ms_before, 1e-9), 2),
         "notes": "median per box; ratio > 1 = slower than the previous set-up"},
    ]
