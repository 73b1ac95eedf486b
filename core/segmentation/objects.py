"""``objects-offline``: Mask R-CNN's idea built from bundled parts, for COCO's 80 thing classes.

Two stages, as in Mask R-CNN (detect boxes, then a head per box):

1. **Boxes.** NanoDet (:mod:`core.segmentation.nanodet`: 80 classes, score threshold, class-aware
   NMS) plus the BlazePose person detector's people (:func:`blazepose.detect_people_tiled`: it
   finds faces well, and gives each person alignment points for a good crop).
2. **A head per box.**

   * A BlazePose detection goes through the landmark model on its own rotated crop
     (:func:`blazepose.people`): mask + 33 keypoints.
   * A NanoDet **person** box that is the same person as one of those (IoU of the boxes >=
     :data:`SAME_PERSON_IOU`) is dropped as a duplicate. Otherwise the landmark model runs on an
     upright square crop around the box (:func:`blazepose.roi_from_box`); its pose-presence flag
     must be >= 0.5 (the **pose check**). The flag alone also fires on animals (0.96 on the cat
     of ``assets/photos/chelsea.png``), so a person box that NanoDet also calls an animal at the
     same place (IoU >= :data:`ANIMAL_CONFLICT_IOU`) fails the pose check too: the close-up cat,
     which NanoDet calls person 0.59, cat 0.40 and dog 0.40, stays a cat.
   * **Every other class** gets a GrabCut mask inside its box (:mod:`core.segmentation.box_masks`).
     Two boxes of different classes on the same object (IoU >= :data:`SAME_OBJECT_IOU`) keep the
     better-scoring one.

Person masks win the pixels they share with an object's rough GrabCut mask (a rider is not part
of the horse). The result is the usual :class:`core.types.Segmentation` (torchvision's COCO ids and
``COCO91_LABELS``, as Mask R-CNN gives), so the renderer, the COCO export and the CLI work as for
every instance model. ``extras["candidates"]`` lists every candidate of both detectors with what
happened to it (kept, or the reason it was dropped: score threshold, overlap, duplicate, pose
check), for the Inside view.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from core.boxes import iou_one_to_many, masks_to_boxes, resolve_overlaps
from core.segmentation import blazepose as bp
from core.segmentation.box_masks import box_mask
from core.segmentation.labels import COCO80_LABELS, COCO91_LABELS
from core.types import Segmentation, Timings

NAME = "objects-offline"
SAME_PERSON_IOU = 0.5
"""A NanoDet person box and a BlazePose person overlapping this much are one person."""
ANIMAL_CONFLICT_IOU = 0.8
SMALL_PERSON_PX = 48
"""Person boxes shorter than this are too small for the landmark model to judge (its flag on a
34 px walker of assets/eval/street_bus.jpg was 0.44): with a NanoDet score of at least
SMALL_PERSON_MIN_SCORE they are kept without the pose check, with a GrabCut mask and no skeleton."""
SMALL_PERSON_MIN_SCORE = 0.5
SAME_OBJECT_IOU = 0.9
ANIMALS = frozenset({"bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe",
                     "teddy bear"})
MASK_THRESHOLD = 0.5
SCORE_FLOOR = 0.3
LIVE_DETECTOR_SIZE = 320
"""NanoDet's input side on live video (trained at 416): 44 against 102 ms on one core; a webcam's
objects are near and large, which is where the smaller input loses nothing (bench/bench_nanodet.py)."""
"""Neither detector keeps candidates below this (as blazepose-multi): below it they are clutter,
and each would cost a landmark run or a GrabCut."""
COCO91_ID = {name: COCO91_LABELS.index(name) for name in COCO80_LABELS}
"""COCO-80 name -> torchvision's COCO id (index into ``COCO91_LABELS``; person = 1)."""


LIVE_LANDMARKER = "blazepose-landmark-lite"
"""The landmark model live video uses when it is here (made by ``make setup``), else the full one."""


class ObjectsPipeline:
    """The built ``objects-offline`` model: NanoDet + the BlazePose detector and landmark model."""

    def __init__(self, detector, person_detector, landmarker) -> None:
        self.detector = detector
        self.person_detector = person_detector
        self.landmarker = landmarker
        self._live_landmarker = None

    @property
    def live_landmarker(self):
        """The lite landmark model when it is here (half the full model's time per person), else
        the full one; loaded on first use."""
        if self._live_landmarker is None:
            from core import models

            name = models.first_available((LIVE_LANDMARKER, "blazepose-landmark"))
            self._live_landmarker = models.load(name) if name == LIVE_LANDMARKER else self.landmarker
        return self._live_landmarker

    def __repr__(self) -> str:
        return "ObjectsPipeline(nanodet-m + blazepose detector + landmarks + GrabCut)"


@dataclass
class Candidate:
    """One box proposed by a detector, and what happened to it (for the Inside view).

    key: "N3" (NanoDet candidate 3) or "B0" (BlazePose detection 0); box: (4,) image pixels;
    status: "kept" or the reason it was dropped; instance: index into the result when kept.
    """

    key: str
    source: str
    label: str
    score: float
    box: np.ndarray
    status: str
    instance: int = -1

    def as_row(self) -> dict:
        return {"#": self.key, "detector": self.source, "class": self.label, "score": round(self.score, 3),
                "box": "[" + ", ".join(f"{v:.0f}" for v in self.box) + "]", "result": self.status}


def person_from_box(rgb: np.ndarray, box, landmarker, *, with_mask: bool = True) -> bp.Person:
    """The landmark model on an upright square crop around a person box (``box``: x0, y0, x1, y1
    pixels); returns a :class:`blazepose.Person` whose ``presence`` is the pose flag."""
    h, w = rgb.shape[:2]
    roi = bp.roi_from_box(box)
    kps, flag, mask, crop, next_roi = bp.landmark_person(rgb, roi, landmarker, with_mask=with_mask)
    return bp.Person(box=bp._box_from(mask, kps, w, h), score=0.0, keypoints=kps,
                     mask=mask if mask is not None else np.zeros((h, w), np.float32), roi=roi,
                     presence=flag, detector_box=np.asarray(box, np.float32), crop=crop, next_roi=next_roi)


def segment(rgb: np.ndarray, net: ObjectsPipeline, min_score: float, timings: Timings, *,
            keypoint_format: str = "native", inside: bool = False, with_masks: bool = True,
            tracker=None, iou_threshold: float = 0.5) -> Segmentation:
    """Run both stages on an RGB uint8 (H, W, 3) image (see the module docstring).

    ``min_score``: NanoDet's score threshold and the BlazePose detector's minimum score (at least
    :data:`SCORE_FLOOR`).
    ``with_masks``: False skips the object masks (GrabCut) and the person masks (live video).
    ``tracker``: an :class:`core.segmentation.instance.IouTracker`; the detectors then run every
    ``tracker.redetect_every`` frames (NanoDet at :data:`LIVE_DETECTOR_SIZE`), people are followed
    by the landmark model (:attr:`ObjectsPipeline.live_landmarker`) in between and other objects
    keep their last boxes (live video: boxes only for them, no GrabCut).
    """
    h, w = rgb.shape[:2]
    min_score = max(float(min_score), SCORE_FLOOR)
    object_masks = with_masks and tracker is None  # GrabCut is too slow for live video: boxes there
    run_detectors = True
    tracked = None
    landmarker = net.live_landmarker if tracker is not None else net.landmarker
    if tracker is not None:
        tracked = [t for t in tracker.pose_rois if t.score >= min_score]
        run_detectors = tracker.start_frame(bool(tracked or tracker.objects))
    cands: list[Candidate] = []
    objects: list[tuple[int, float, np.ndarray, np.ndarray | None, str]] = []  # (coco80 id, score, box, mask, how)
    crops: list[tuple[np.ndarray, str]] = []
    if run_detectors:
        with timings.stage("detect"):
            dets = net.detector.detect(rgb, score_threshold=min_score, iou_threshold=iou_threshold,
                                       input_size=LIVE_DETECTOR_SIZE if tracker is not None else None)
            if tracker is not None and any(k and n == "person" for k, n in zip(dets.kept, dets.names)):
                # live video: NanoDet's people are enough on this frame (the BlazePose detector,
                # 19 ms, is there for the people NanoDet misses); the tracked crops follow them
                bp_dets = bp.PersonDetections.empty()
            else:
                bp_dets = bp.detect_people_tiled(rgb, net.person_detector, min_score)
        if tracker is not None:
            tracker.detected()
    else:
        dets, bp_dets = None, None
    with timings.stage("people"):
        found = bp.people(rgb, min_score, detections=bp_dets, tracked=tracked, detector=net.person_detector,
                          landmarker=landmarker, keep_crops=inside, with_masks=with_masks)
    people_boxes = [p.box for p in found]
    if bp_dets is not None:
        for k in range(len(bp_dets)):
            match = [i for i, p in enumerate(found) if np.allclose(p.detector_box, bp_dets.boxes[k])]
            status = "kept" if match else ("stage 2: no new person in its crop (pose flag < 0.5, or the same body "
                                           "as a kept person)")
            cands.append(Candidate(f"B{k}", "BlazePose", "person", float(bp_dets.scores[k]), bp_dets.boxes[k],
                                   status, match[0] if match else -1))
    if dets is not None:
        names = dets.names
        order = np.argsort(-dets.scores, kind="stable")
        kept_animals = [(i, names[i]) for i in order if dets.kept[i] and names[i] in ANIMALS]
        kept_objects: list[int] = []  # NanoDet indices kept as non-person objects
        nd_cands: dict[int, Candidate] = {}
        for i in range(len(dets)):
            reason = re.sub(r"#(\d+)", r"#N\1", dets.reasons[i])  # NanoDet's indices are our N keys
            nd_cands[i] = Candidate(f"N{i}", "NanoDet", names[i], float(dets.scores[i]), dets.boxes[i],
                                    reason if not dets.kept[i] else "kept")
        with timings.stage("people"):
            for i in order:
                if not dets.kept[i] or names[i] != "person":
                    continue
                c = nd_cands[i]
                ious = iou_one_to_many(dets.boxes[i], people_boxes)
                if len(ious) and ious.max() >= SAME_PERSON_IOU:
                    j = int(ious.argmax())
                    c.status = f"duplicate: a person the BlazePose detector found (IoU {ious[j]:.2f})"
                    c.instance = j
                    continue
                clash = [(a, n) for a, n in kept_animals if iou_one_to_many(dets.boxes[i], dets.boxes[a])[0] >= ANIMAL_CONFLICT_IOU]
                if clash:
                    a, n = clash[0]
                    c.status = (f"pose check: the same box is also {n} {dets.scores[a]:.2f} (#N{a}, IoU "
                                f"{iou_one_to_many(dets.boxes[i], dets.boxes[a])[0]:.2f}), and the pose model fires on animals")
                    continue
                person = person_from_box(rgb, dets.boxes[i], landmarker, with_mask=with_masks)
                if inside:
                    crops.append((person, f"#N{i} person {dets.scores[i]:.2f}"))
                small = dets.boxes[i][3] - dets.boxes[i][1] < SMALL_PERSON_PX
                if person.presence < bp.POSE_FLAG_MIN and small and dets.scores[i] >= SMALL_PERSON_MIN_SCORE:
                    bm = box_mask(rgb, dets.boxes[i]) if object_masks else None
                    objects.append((int(dets.class_ids[i]), float(dets.scores[i]), dets.boxes[i].astype(np.float32),
                                    None if bm is None else bm.mask, "" if bm is None else bm.method))
                    c.status = (f"kept without a skeleton: {dets.boxes[i][3] - dets.boxes[i][1]:.0f} px is too small "
                                f"for the pose check (flag {person.presence:.2f})")
                    c.instance = -2 - (len(objects) - 1)
                    continue
                if person.presence < bp.POSE_FLAG_MIN:
                    c.status = f"pose check: flag {person.presence:.2f} < {bp.POSE_FLAG_MIN:.2f}"
                    continue
                dup = [k for k, p in enumerate(found)
                       if bp._keypoint_overlap(person.keypoints, p.keypoints, p.roi.size / (2 * bp.ROI_SCALE)) > 0.5]
                if dup:
                    c.status = "duplicate: the same body as another person (keypoints coincide)"
                    c.instance = dup[0]
                    continue
                found.append(bp.Person(box=person.box, score=float(dets.scores[i]), keypoints=person.keypoints,
                                       mask=person.mask, roi=person.roi, presence=person.presence,
                                       detector_box=np.asarray(dets.boxes[i], np.float32),
                                       crop=person.crop if inside else None, next_roi=person.next_roi))
                people_boxes.append(person.box)
                c.instance = len(found) - 1
                c.status = "kept"
        with timings.stage("objects"):
            for i in order:
                if not dets.kept[i] or names[i] == "person":
                    continue
                c = nd_cands[i]
                ious = iou_one_to_many(dets.boxes[i], [dets.boxes[k] for k in kept_objects])
                if len(ious) and ious.max() >= SAME_OBJECT_IOU:
                    k = kept_objects[int(ious.argmax())]
                    c.status = f"overlap: same box as #N{k} {names[k]} {dets.scores[k]:.2f} (IoU {ious.max():.2f})"
                    continue
                bm = box_mask(rgb, dets.boxes[i]) if object_masks else None
                objects.append((int(dets.class_ids[i]), float(dets.scores[i]), dets.boxes[i].astype(np.float32),
                                None if bm is None else bm.mask, "" if bm is None else bm.method))
                kept_objects.append(int(i))
                c.status = "kept"
                c.instance = -2 - (len(objects) - 1)  # fixed below, once people are numbered
        cands.extend(nd_cands[i] for i in range(len(dets)))
        if tracker is not None:
            tracker.objects = [(cid, s, b) for cid, s, b, _, _ in objects]
    elif tracker is not None:
        objects = [(cid, s, np.asarray(b, np.float32), None, "") for cid, s, b in tracker.objects]
    if tracker is not None:
        tracker.pose_rois = [bp.TrackedRoi(p.next_roi, p.score, p.detector_box, p.alignment) for p in found]

    with timings.stage("postprocess"):
        return _assemble(rgb, found, objects, cands, crops, keypoint_format=keypoint_format, inside=inside,
                         with_masks=with_masks)


def _assemble(rgb, found, objects, cands, crops, *, keypoint_format, inside, with_masks) -> Segmentation:
    h, w = rgb.shape[:2]
    n_p, n_o = len(found), len(objects)
    n = n_p + n_o
    masks = np.zeros((n, h, w), bool)
    if n_p and with_masks:  # pixels two people claim go to the more confident one
        masks[:n_p] = resolve_overlaps(np.stack([p.mask for p in found]), MASK_THRESHOLD)
    people_union = masks[:n_p].any(axis=0) if n_p else np.zeros((h, w), bool)
    for k, (_, _, _, m, _) in enumerate(objects):
        if m is not None:
            masks[n_p + k] = m & ~people_union
    boxes = np.zeros((n, 4), np.float32)
    boxes[:n_p] = masks_to_boxes(masks[:n_p], np.array([p.box for p in found], np.float32).reshape(n_p, 4))
    for k, (_, _, b, _, _) in enumerate(objects):
        boxes[n_p + k] = b
    class_ids = np.array([COCO91_ID["person"]] * n_p + [COCO91_ID[COCO80_LABELS[c]] for c, _, _, _, _ in objects],
                         np.int64)
    scores = np.array([p.score for p in found] + [s for _, s, _, _, _ in objects], np.float32)
    kps = np.zeros((n, bp.NUM_LANDMARKS, 3), np.float32)
    for i, p in enumerate(found):
        kps[i] = p.keypoints
    names, skeleton = bp.BLAZEPOSE_KEYPOINT_NAMES, bp.BLAZEPOSE_SKELETON
    if keypoint_format == "coco17":
        kps = kps[:, list(bp.BLAZEPOSE_TO_COCO17)]
        names, skeleton = bp.COCO17_KEYPOINT_NAMES, bp.COCO17_SKELETON
    for c in cands:
        if c.instance <= -2:
            c.instance = n_p + (-2 - c.instance)
    extras: dict = {
        "has_masks": bool(with_masks),
        "keypoint_format": "blazepose33" if keypoint_format == "native" else "coco17",
        "presence": [round(p.presence, 4) for p in found] + [None] * n_o,
        "mask_method": ["blazepose"] * n_p + [how for _, _, _, _, how in objects],
        "candidates": [c.as_row() | {"instance": c.instance} for c in cands],
        "pipeline": "two-stage",
    }
    if inside:
        extras["candidate_boxes"] = [(c.key, c.label, c.score, np.asarray(c.box, np.float32), c.status) for c in cands]
        tiles = []
        for i, p in enumerate(found):
            if p.crop is not None:
                tiles.append(("person", i, p.crop, p.keypoints, p.roi, p.presence, "kept"))
        for person, caption in crops:
            if not any(person.roi is p.roi for p in found):
                tiles.append(("rejected", -1, person.crop, person.keypoints, person.roi, person.presence, caption))
        extras["stage2_people"] = tiles
    return Segmentation(masks=masks, class_ids=class_ids, labels=COCO91_LABELS, task="instance", model=NAME,
                        scores=scores, boxes=boxes, keypoints=kps, keypoint_names=names, skeleton=skeleton,
                        extras=extras)
