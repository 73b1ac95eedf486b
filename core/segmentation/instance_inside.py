"""The Inside view of the Instance tab: captioned drawings of how an instance result was built.

:func:`inside_panels` draws what ``instance(..., inside=True)`` kept in ``seg.extras`` (the region
proposals, mask probabilities and keypoint heatmaps of the torchvision models; the detector boxes,
alignment points and person crops of the BlazePose pipeline; every detector candidate and each box's
mask of ``objects-offline``). :func:`candidate_rows`, :func:`candidate_summary` and
:func:`dropped_summary` say what happened to every detector candidate. Pure functions of
(image, result): nothing here runs a model.
"""
from __future__ import annotations

import re

import numpy as np

from core.types import Segmentation


def to_crop(keypoints: np.ndarray, roi) -> np.ndarray:
    """(K, 3) float32 keypoints (x, y image pixels, visibility) moved into ``roi``'s crop pixels."""
    m = roi.image_to_crop()
    xy = keypoints[:, :2] @ m[:, :2].T + m[:, 2]
    return np.concatenate([xy, keypoints[:, 2:3]], axis=1).astype(np.float32)


def inside_panels(rgb: np.ndarray, seg: Segmentation, *, max_items: int = 8) -> list[tuple[np.ndarray, str]]:
    """Captioned RGB images of the intermediates kept by ``instance(..., inside=True)``."""
    if "candidate_boxes" in seg.extras:
        return _inside_objects(rgb, seg, max_items)
    if "crops" in seg.extras or "detector" in seg.extras:
        return _inside_blazepose(rgb, seg, max_items)
    if any(k in seg.extras for k in ("proposals", "mask_probs", "keypoint_heatmaps")):
        return _inside_rcnn(rgb, seg, max_items)
    return []


def _colormap(prob: np.ndarray) -> np.ndarray:
    """[0, 1] float (H, W) -> RGB uint8 (viridis-like via OpenCV's colour map)."""
    import cv2

    u8 = (np.clip(prob, 0, 1) * 255).astype(np.uint8)
    return cv2.applyColorMap(u8, cv2.COLORMAP_VIRIDIS)[:, :, ::-1].copy()


def _grid(tiles: list[np.ndarray], captions: list[str], cols: int = 4, pad: int = 6) -> np.ndarray:
    from PIL import Image, ImageDraw

    th = max(t.shape[0] for t in tiles)
    tw = max(t.shape[1] for t in tiles)
    rows = (len(tiles) + cols - 1) // cols
    cols = min(cols, len(tiles))
    text_h = 16
    canvas = Image.new("RGB", (cols * (tw + pad) + pad, rows * (th + text_h + pad) + pad), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for k, (t, c) in enumerate(zip(tiles, captions)):
        r, q = divmod(k, cols)
        x, y = pad + q * (tw + pad), pad + r * (th + text_h + pad)
        canvas.paste(Image.fromarray(t), (x, y + text_h))
        draw.text((x, y + 2), c[:40], fill=(0, 0, 0))
    return np.asarray(canvas)


def _inside_blazepose(rgb, seg, max_items) -> list[tuple[np.ndarray, str]]:
    import cv2

    from core import render

    panels = []
    det = seg.extras.get("detector")
    if det is not None:
        img = rgb.copy()
        lw = max(2, round(max(rgb.shape[:2]) / 300))
        for (x0, y0, side) in det.get("tiles", []):
            cv2.rectangle(img, (x0, y0), (x0 + side - 1, y0 + side - 1), (200, 200, 200), 1)
        colors = [(255, 80, 80), (80, 200, 255), (255, 220, 0), (190, 120, 255)]
        dropped = {int(r["#"][1:]) for r in seg.extras.get("candidates", []) if not r["result"].startswith("kept")}
        for k in range(len(det["scores"])):
            box = det["boxes"][k].astype(int)
            col = (255, 40, 40) if k in dropped else (255, 160, 0) if det["from_tile"][k] else (0, 255, 120)
            cv2.rectangle(img, tuple(box[:2]), tuple(box[2:]), col, lw)
            pts = det["alignment"][k]
            cv2.line(img, tuple(pts[0].astype(int)), tuple(pts[1].astype(int)), (255, 255, 255), lw)
            for j, p in enumerate(pts):
                cv2.circle(img, tuple(p.astype(int)), lw * 2 + 1, colors[j], -1)
            cv2.putText(img, f"{det['scores'][k]:.2f}", (int(box[0]), max(12, int(box[1]) - 4)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, col, 1, cv2.LINE_AA)
        for roi in seg.extras.get("rois", []):
            from core.segmentation.blazepose import Roi

            corners = Roi(*roi).corners().astype(np.int32)
            cv2.polylines(img, [corners], True, (255, 255, 255), max(1, lw // 2), cv2.LINE_AA)
        panels.append((img, "1. Detector: head boxes (green; orange = found in a zoomed tile; red = dropped in "
                            "stage 2, the table says why) with scores, "
                            "and alignment points: red = hip centre, blue = body scale point, yellow = "
                            "shoulders, purple = upper body. The white square is each person's crop."))
    crops = seg.extras.get("crops")
    if crops is not None and len(crops):
        tiles, caps = [], []
        for i in range(min(len(crops), max_items)):
            crop = crops[i]
            kp = seg.extras["crop_keypoints"][i]
            from core.segmentation.blazepose import BLAZEPOSE_SKELETON

            col = render.instance_color(int(seg.segment_ids[i])) if seg.segment_ids is not None else (255, 0, 0)
            tiles.append(render.draw_skeleton(crop, kp, BLAZEPOSE_SKELETON, col, 0.5))
            caps.append(f"person {int(seg.segment_ids[i]) if seg.segment_ids is not None else i}"
                        f"  flag {seg.extras['presence'][i]:.2f}")
        panels.append((_grid(tiles, caps), "2. Each person's crop, rotated so the body points up and "
                                            "resized to 256x256: the landmark model sees only this."))
    return panels


def candidate_rows(seg: Segmentation) -> list[dict]:
    """objects-offline: one row per detector candidate (#, detector, class, score, box, result),
    kept ones first, then the dropped ones with the reason (empty for other models)."""
    rows = [dict(r) for r in seg.extras.get("candidates", [])]
    ids = seg.segment_ids
    for r in rows:
        k = r.pop("instance", -1)
        if r["result"] == "kept" and ids is not None and 0 <= k < len(ids):
            r["result"] = f"kept: instance {seg.labels[seg.class_ids[k]]} #{int(ids[k])}"
    rows.sort(key=lambda r: (not r["result"].startswith("kept"), r["result"].startswith("score"), -r["score"]))
    return rows


def candidate_summary(seg: Segmentation) -> str:
    """One sentence: how many candidates each rule dropped (objects-offline)."""
    rows = seg.extras.get("candidates", [])
    if not rows:
        return ""
    count = lambda prefix: sum(r["result"].startswith(prefix) for r in rows)  # noqa: E731
    return (f"{len(rows)} detector candidates: {count('kept')} kept; dropped by the score threshold "
            f"{count('score')}, by overlap (NMS or the same box) {count('overlap')}, as duplicates "
            f"{count('duplicate')}, by the pose check {count('pose check') + count('stage 2')}.")


DROP_GROUPS = (("pose", "by the pose check"), ("stage 2", "by the pose check"), ("duplicate", "as duplicates"),
               ("overlap", "as overlapping boxes (NMS, or the same box under another class)"),
               ("score", "below the score threshold"))
"""Candidate verdict prefix -> how the summary names it, most telling first."""


def dropped_summary(seg: Segmentation) -> str:
    """objects-offline: the dropped candidates counted by reason, most telling first, with the pose
    check's own numbers: "Dropped: 1 by the pose check (flag 0.47 < 0.50); 80 below the score
    threshold (see Inside)"; "" when nothing was dropped."""
    groups: dict[str, list[str]] = {}
    for r in seg.extras.get("candidates", []):
        reason = r["result"]
        name = next((n for prefix, n in DROP_GROUPS if reason.startswith(prefix)), None)
        if name is None:  # kept
            continue
        flag = re.search(r"flag (\d\.\d+ < \d\.\d+)", reason)
        groups.setdefault(name, []).append(flag.group(1) if flag else "")
    if not groups:
        return ""
    parts = []
    for _, name in DROP_GROUPS:
        flags = groups.pop(name, None)
        if flags is None:
            continue
        shown = [f for f in flags if f]
        parts.append(f"{len(flags)} {name}" + (f" (flag {', '.join(shown[:3])}{', ...' if len(shown) > 3 else ''})"
                                               if shown else ""))
    return "Dropped: " + "; ".join(parts) + " (see Inside)"


def _inside_objects(rgb, seg, max_items) -> list[tuple[np.ndarray, str]]:
    import cv2

    from core import render
    from core.segmentation.blazepose import BLAZEPOSE_SKELETON, Roi

    panels = []
    img = (rgb.astype(np.float32) * 0.75 + 64).astype(np.uint8)
    lw = max(1, round(max(rgb.shape[:2]) / 400))
    index = {r["#"]: r.get("instance", -1) for r in seg.extras.get("candidates", [])}
    colors = render.segment_colors(seg) if len(seg) else []
    boxes = seg.extras["candidate_boxes"]
    for key, label, score, box, status in reversed(boxes):  # best drawn last, on top
        b = box.round().astype(int)
        if status.startswith("score"):
            cv2.rectangle(img, tuple(b[:2]), tuple(b[2:]), (170, 170, 170), 1)
            continue
        k = index.get(key, -1)
        if status.startswith("kept") and 0 <= k < len(colors):
            col, thick = tuple(int(v) for v in colors[k]), lw + 2
        elif status.startswith(("pose", "stage 2")):
            col, thick = (230, 40, 40), lw
        else:
            col, thick = (255, 170, 0), lw
        cv2.rectangle(img, tuple(b[:2]), tuple(b[2:]), col, thick)
        if not status.startswith("overlaps"):
            cv2.putText(img, f"{key} {label} {score:.2f}", (int(b[0]) + 2, max(12, int(b[1]) + 12)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.4, col, 1, cv2.LINE_AA)
    panels.append((img, "1. Stage 1, every detector candidate: thick = kept (instance colour); orange = "
                        "dropped by overlap or as a duplicate; red = dropped by the pose check; thin grey = "
                        "below the score threshold. N = NanoDet, B = BlazePose. The table lists why each was dropped."))
    tiles, caps = [], []
    for kind, i, crop, kps, roi, flag, caption in seg.extras.get("stage2_people", [])[:max_items]:
        r = Roi(*roi.as_tuple())
        col = tuple(int(v) for v in colors[i]) if 0 <= i < len(colors) else (230, 40, 40)
        tiles.append(render.draw_skeleton(crop, to_crop(kps, r), BLAZEPOSE_SKELETON, col, 0.5))
        caps.append(f"person #{int(seg.segment_ids[i])} flag {flag:.2f}" if kind == "person" and seg.segment_ids is not None
                    else f"{caption}: dropped, flag {flag:.2f}")
    methods = seg.extras.get("mask_method", [])
    for i in range(len(seg)):
        if len(tiles) >= 2 * max_items:
            break
        if i >= len(methods) or methods[i] == "blazepose":
            continue
        tiles.append(_mask_tile(rgb, seg, i, colors[i] if i < len(colors) else (255, 0, 0)))
        sid = int(seg.segment_ids[i]) if seg.segment_ids is not None else i
        caps.append(f"{seg.labels[seg.class_ids[i]]} #{sid} {methods[i] or 'box'} mask, {seg.quality(i)}")
    if tiles:
        panels.append((_grid(tiles, caps), "2. Stage 2, a head per box: each person box's 256x256 crop as the "
                                           "landmark model saw it, with the skeleton it gave (a crop whose pose "
                                           "flag is below 0.5 is dropped); every other box with the GrabCut mask "
                                           "found inside it and its verdict (rough = no outline found: hatched "
                                           "in the overlay; ellipse = GrabCut gave no usable answer)."))
    return panels


def _mask_tile(rgb: np.ndarray, seg: Segmentation, i: int, color) -> np.ndarray:
    """(256, 256, 3) uint8: segment ``i``'s box cut from ``rgb`` with its mask tinted ``color``,
    scaled to fit, on white."""
    import cv2

    x0, y0, x1, y1 = seg.boxes[i].round().astype(int)
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    patch = rgb[y0:y1, x0:x1].copy()
    m = seg.masks[i, y0:y1, x0:x1]
    patch[m] = (0.45 * patch[m] + 0.55 * np.asarray(color, np.float32)).astype(np.uint8)
    s = 256 / max(patch.shape[:2])
    patch = cv2.resize(patch, (max(1, round(patch.shape[1] * s)), max(1, round(patch.shape[0] * s))),
                       interpolation=cv2.INTER_NEAREST)
    tile = np.full((256, 256, 3), 255, np.uint8)
    tile[:patch.shape[0], :patch.shape[1]] = patch
    return tile


def _inside_rcnn(rgb, seg, max_items) -> list[tuple[np.ndarray, str]]:
    import cv2

    from core import render

    panels = []
    props = seg.extras.get("proposals")
    if props is not None:
        img = rgb.copy()
        for b in props[:300][::-1]:
            cv2.rectangle(img, (int(b[0]), int(b[1])), (int(b[2]), int(b[3])), (0, 255, 255), 1)
        panels.append((img, f"1. Region proposals: the top {min(300, len(props))} of {len(props)} boxes the "
                            "region proposal network thinks may hold an object, before classification."))
    probs = seg.extras.get("mask_probs")
    if probs is not None and len(probs):
        order = np.argsort(-seg.scores)[:max_items * 2]
        tiles = [cv2.resize(_colormap(probs[i]), (112, 112), interpolation=cv2.INTER_NEAREST) for i in order]
        caps = [f"{seg.labels[seg.class_ids[i]]} {seg.scores[i]:.2f}" for i in order]
        panels.append((_grid(tiles, caps), "2. Each instance's 28x28 mask probabilities (yellow = 1) "
                                           "before they are stretched into its box and cut at 0.5."))
    heat = seg.extras.get("keypoint_heatmaps")
    if heat is not None and len(heat):
        i = int(np.argmax(seg.scores))
        maps = heat[i]
        tiles = []
        for k in range(maps.shape[0]):
            m = maps[k] - maps[k].max()
            p = np.exp(m)
            p /= p.max() if p.max() > 0 else 1
            tiles.append(cv2.resize(_colormap(p), (112, 112), interpolation=cv2.INTER_NEAREST))
        names = list(seg.keypoint_names) or [str(k) for k in range(len(tiles))]
        panels.append((_grid(tiles, names, cols=6), "3. Keypoint heatmaps (56x56 over the box) of the "
                                                   "highest-scoring person: each joint is the peak."))
        img = rgb.copy()
        x0, y0, x1, y1 = seg.boxes[i].astype(int)
        if x1 > x0 and y1 > y0:
            m = maps.max(axis=0)
            m = np.exp(m - m.max())
            patch = cv2.resize(_colormap(m / max(m.max(), 1e-9)), (x1 - x0, y1 - y0))
            region = img[y0:y1, x0:x1]
            img[y0:y1, x0:x1] = (0.45 * region + 0.55 * patch[: region.shape[0], : region.shape[1]]).astype(np.uint8)
        panels.append((render.draw_skeleton(img, seg.keypoints[i], seg.skeleton, (255, 255, 255), 0.5),
                       "4. All heatmaps of that person pasted into its box, and the skeleton read from their peaks."))
    return panels
