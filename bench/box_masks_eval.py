"""How good is a box-prompted mask? Measured against BlazePose's person masks on person boxes.

For every person the NanoDet detector finds (score >= 0.35) whose box the BlazePose landmark model
confirms (pose flag >= 0.5), the landmark model's mask on that box is the reference; each
box-prompted method gets only the box. Printed: mean / median / worst IoU and median ms per box,
for the tuning photos (assets/photos, assets/faces: used while choosing) and the evaluation
photos (assets/eval: never used to choose anything). Run: ``python -m bench.box_masks_eval``.
"""
from __future__ import annotations

import glob
import time

import numpy as np

from bench.paths import ROOT

SETS = {
    "tuning (assets/photos, assets/faces)": sorted(glob.glob(str(ROOT / "assets/photos/*")))
    + sorted(glob.glob(str(ROOT / "assets/faces/people/*/*.jpg"))),
    "evaluation (assets/eval)": sorted(glob.glob(str(ROOT / "assets/eval/*.jpg"))),
}


def methods():
    from core.segmentation.box_masks import box_mask, ellipse_mask

    def whole(rgb, box):
        m = np.zeros(rgb.shape[:2], bool)
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        m[y0:y1, x0:x1] = True
        return m

    return {
        "whole box": whole,
        "ellipse in the box": lambda rgb, box: ellipse_mask(rgb.shape[:2], box),
        "GrabCut, 64 px crop, 3 it (chosen)": lambda rgb, box: box_mask(rgb, box).mask,
        "GrabCut, 96 px crop, 3 it": lambda rgb, box: box_mask(rgb, box, side=96).mask,
        "GrabCut, 128 px crop, 5 it": lambda rgb, box: box_mask(rgb, box, side=128, iterations=5).mask,
    }


def person_cases(paths):
    from core import models
    from core.image import load_image
    from core.segmentation.objects import person_from_box

    det = models.load("nanodet-m")
    lm = models.load("blazepose-landmark")
    for p in paths:
        rgb = load_image(p)
        d = det.detect(rgb).final()
        for name, box in zip(d.names, d.boxes):
            if name != "person":
                continue
            person = person_from_box(rgb, box, lm)
            if person.presence < 0.5:
                continue
            ref = person.mask > 0.5
            if ref.sum() >= 200:
                yield rgb, box, ref


def run() -> dict:
    out = {}
    for set_name, paths in SETS.items():
        ms = methods()
        iou = {k: [] for k in ms}
        t_ms = {k: [] for k in ms}
        for rgb, box, ref in person_cases(paths):
            for k, f in ms.items():
                t = time.perf_counter()
                m = f(rgb, box)
                t_ms[k].append((time.perf_counter() - t) * 1000)
                iou[k].append(float((m & ref).sum()) / max(1, float((m | ref).sum())))
        n = len(iou["whole box"])
        out[set_name] = {k: {"n": n, "mean": round(float(np.mean(v)), 3), "median": round(float(np.median(v)), 3),
                             "min": round(float(np.min(v)), 3), "ms": round(float(np.median(t_ms[k])), 1)}
                         for k, v in iou.items() if v}
    return out


if __name__ == "__main__":
    for set_name, rows in run().items():
        n = next(iter(rows.values()))["n"] if rows else 0
        print(f"\n{set_name}: {n} person boxes")
        print("| method | mean IoU | median | worst | ms / box |")
        for k, r in rows.items():
            print(f"| {k} | {r['mean']:.2f} | {r['median']:.2f} | {r['min']:.2f} | {r['ms']:.0f} |")
