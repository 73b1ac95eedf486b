"""How good is a box-prompted mask? Measured against reference masks, per class.

Two sets of references:

* **Objects** (``assets/eval/reference_masks.json``): outlines drawn by hand as polygons for a few
  photos (dogs, a horse, a bus, a cat, a cup). Each method gets the NanoDet box of that object
  (the one the app would use; the polygon's own box when NanoDet misses it). Reported per class,
  with the quality verdict :func:`core.segmentation.box_masks.box_mask` gives ("fine"/"rough").
* **People**: for every NanoDet person box (score >= 0.35) that the BlazePose landmark model
  confirms (pose flag >= 0.5), the landmark model's mask on that box is the reference, for the
  tuning photos (assets/photos, assets/faces) and the evaluation photos (assets/eval).

"before" is the previous box-mask method, kept here as the baseline measured in the same run:
GrabCut initialised with the rectangle on a 64 px crop with a 10% margin, 3 iterations, the inscribed
ellipse when GrabCut's answer is degenerate. Run: ``python -m bench.box_masks_eval``.
"""
from __future__ import annotations

import glob
import json
import time

import numpy as np

from bench.paths import ROOT

REFERENCES = ROOT / "assets/eval/reference_masks.json"
PERSON_SETS = {
    "tuning (assets/photos, assets/faces)": sorted(glob.glob(str(ROOT / "assets/photos/*")))
    + sorted(glob.glob(str(ROOT / "assets/faces/people/*/*.jpg"))),
    "evaluation (assets/eval)": sorted(glob.glob(str(ROOT / "assets/eval/*.jpg"))),
}
MATCH_IOU = 0.5
"""A NanoDet box of the reference's class overlapping the polygon's box this much is its box."""


def before_mask(rgb: np.ndarray, box) -> np.ndarray:
    """The previous method (the baseline): (H, W) bool GrabCut mask from a rectangle on a 64 px crop."""
    import cv2

    from core.segmentation.box_masks import crop_around_box, ellipse_mask

    h, w = rgb.shape[:2]
    c = crop_around_box(rgb, box, margin=0.1, side=64)
    ch, cw = c.image.shape[:2]
    rx0, ry0, rx1, ry1 = c.rect
    if rx1 - rx0 >= 2 and ry1 - ry0 >= 2 and (rx0 > 0 or ry0 > 0 or rx1 < cw or ry1 < ch):
        mask = np.zeros((ch, cw), np.uint8)
        try:
            cv2.setRNGSeed(0)
            cv2.grabCut(np.ascontiguousarray(c.image[:, :, ::-1]), mask, (rx0, ry0, rx1 - rx0, ry1 - ry0),
                        np.zeros((1, 65)), np.zeros((1, 65)), 3, cv2.GC_INIT_WITH_RECT)
            out = c.paste(((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8) * 255, (h, w))
            if 0.08 <= out.sum() / float(c.box_area) <= 0.97:
                return out
        except cv2.error:
            pass
    return ellipse_mask((h, w), c.box)


def methods() -> dict:
    """name -> fn(rgb, box) -> (H, W) bool mask or a BoxMask."""
    from core.segmentation.box_masks import box_mask, ellipse_mask

    def whole(rgb, box):
        m = np.zeros(rgb.shape[:2], bool)
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        m[y0:y1, x0:x1] = True
        return m

    return {
        "whole box": whole,
        "ellipse in the box": lambda rgb, box: ellipse_mask(rgb.shape[:2], box),
        "before: GrabCut 64 px, rectangle, 3 it": before_mask,
        "now: box_mask() (128 px, 25% margin, 3 it)": box_mask,
    }


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / max(1.0, float((a | b).sum()))


def object_cases():
    """(id, class, rgb, box, reference mask) for every hand-drawn reference."""
    import cv2

    from core import models
    from core.boxes import iou_one_to_many
    from core.image import load_image

    det = models.load("nanodet-m")
    for ref in json.loads(REFERENCES.read_text())["objects"]:
        rgb = load_image(ROOT / "assets" / ref["file"])
        mask = np.zeros(rgb.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.array(ref["polygon"], np.int32)], 1)
        mask = mask > 0
        ys, xs = np.nonzero(mask)
        box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)
        d = det.detect(rgb).final()
        same = [b for n, b in zip(d.names, d.boxes) if n == ref["class"]]
        if same:
            ious = iou_one_to_many(box, same)
            if ious.max() >= MATCH_IOU:
                box = same[int(ious.argmax())]
        yield ref["id"], ref["class"], rgb, box, mask


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
                yield p, "person", rgb, box, ref


def measure(cases) -> list[dict]:
    """One row per case: id, class, per method IoU and ms, and the current method's quality."""
    rows = []
    for case_id, cls, rgb, box, ref in cases:
        row = {"id": str(case_id), "class": cls, "iou": {}, "ms": {}}
        for name, fn in methods().items():
            t = time.perf_counter()
            out = fn(rgb, box)
            row["ms"][name] = (time.perf_counter() - t) * 1000
            mask = out if isinstance(out, np.ndarray) else out.mask
            row["iou"][name] = round(iou(mask, ref), 3)
            if not isinstance(out, np.ndarray):
                row["quality"] = out.quality
        rows.append(row)
    return rows


def run() -> dict:
    """{"objects": rows, person set name: rows} (see :func:`measure`)."""
    out = {"objects": measure(object_cases())}
    for set_name, paths in PERSON_SETS.items():
        out[set_name] = measure(person_cases(paths))
    return out


def table(rows: list[dict], by_class: bool) -> str:
    names = list(methods())
    lines = ["| " + ("object" if by_class else "set") + " | " + " | ".join(names) + " | quality now |",
             "|---" * (len(names) + 2) + "|"]
    for r in rows if by_class else []:
        lines.append(f"| {r['id']} | " + " | ".join(f"{r['iou'][k]:.2f}" for k in names) + f" | {r.get('quality', '')} |")
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["class"], []).append(r)
    for cls, rs in sorted(groups.items()):
        lines.append(f"| **{cls}** mean of {len(rs)} | " + " | ".join(f"{np.mean([r['iou'][k] for r in rs]):.2f}"
                                                              for k in names) + " | |")
    if rows:
        lines.append(f"| **all** {len(rows)} | " + " | ".join(f"{np.mean([r['iou'][k] for r in rows]):.2f}"
                                                           for k in names) + " | |")
        lines.append("| median ms / box | " + " | ".join(f"{np.median([r['ms'][k] for r in rows]):.0f}"
                                                         for k in names) + " | |")
    return "\n".join(lines)


if __name__ == "__main__":
    results = run()
    for set_name, rows in results.items():
        print(f"\n{set_name}: {len(rows)} boxes")
        print(table(rows, by_class=set_name == "objects"))
