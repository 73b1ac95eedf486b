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
   * A person box whose pose check fails is still kept, without a skeleton and with a GrabCut mask,
     when it is too small for the landmark model (shorter than :data:`SMALL_PERSON_PX`) or cut by
     the image edge (:func:`touches_edge`), and NanoDet is sure enough of it.
   * **Every other class** gets a GrabCut mask inside its box (:mod:`core.segmentation.box_masks`)
     with its verdict, "fine" or "rough" (``Segmentation.mask_quality``). Two boxes of different
     classes on the same object (IoU >= :data:`SAME_OBJECT_IOU`) keep the better-scoring one.

Each object also carries NanoDet's runner-up class (:func:`runner_up`: the best other class at the
same grid cell, or another class's candidate on nearly the same box), so a label can say "cat? 0.40 /
person 0.59" instead of stating a guess as a fact.

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
"""Person boxes shorter than this are too small for the landmark model to judge: with a NanoDet score of at least
SMALL_PERSON_MIN_SCORE they are kept without the pose check, with a GrabCut mask and no skeleton."""
SMALL_PERSON_MIN_SCORE = 0.5
SAME_OBJECT_IOU = 0.9
EDGE_PX = 2.0
EDGE_PERSON_MIN_SCORE = 0.5
"""A person box within EDGE_PX of the image border whose pose flag is too low is cut by the edge:
the landmark model needs a whole body. With a NanoDet score of at least this it is kept without a
skeleton (GrabCut mask) and the candidate table says why."""
SECOND_CLASS_IOU = 0.7
"""Another class's candidate on a box overlapping this much is a second opinion on the same object."""
SECOND_CLASS_MIN = 0.1
ANIMALS = frozenset({"bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe",
                     "teddy bear"})
MASK_THRESHOLD = 0.5
SCORE_FLOOR = 0.3
LIVE_DETECTOR_SIZE = 320
"""NanoDet's input side on live video (trained at 416): about half the time a frame, and a webcam's
objects are near and large, where the smaller input loses nothing (bench/bench_nanodet.py)."""
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
    return bp.Person(box=bp.box_from(mask, kps, w, h), score=0.0, keypoints=kps,
                     mask=mask if mask is not None else np.zeros((h, w), np.float32), roi=roi,
                     presence=flag, detector_box=np.asarray(box, np.float32), crop=crop, next_roi=next_roi)


@dataclass
class BoxObject:
    """A kept box with no mask model (an object, or a person kept without a skeleton).

    coco80: class index into ``COCO80_LABELS``; score: NanoDet's; box: (4,) float32 pixels;
    mask: (H, W) bool or None (live video: boxes only); method: "grabcut" / "ellipse" / "";
    quality: "fine" / "rough" (see :mod:`core.segmentation.box_masks`); second: the runner-up
    (coco80 class, score) or None."""

    coco80: int
    score: float
    box: np.ndarray
    mask: np.ndarray | None = None
    method: str = ""
    quality: str = "rough"
    second: tuple[int, float] | None = None


def touches_edge(box, h: int, w: int, px: float = EDGE_PX) -> bool:
    """Does ``box`` (x0, y0, x1, y1 pixels) reach within ``px`` of the border of an H x W image?"""
    x0, y0, x1, y1 = (float(v) for v in box)
    return x0 <= px or y0 <= px or x1 >= w - px or y1 >= h - px


def runner_up(dets, i: int) -> tuple[int, float] | None:
    """The detector's second opinion on candidate ``i``: the best other class at its grid cell, or
    another class's candidate on nearly the same box (IoU >= :data:`SECOND_CLASS_IOU`), whichever
    scores higher; None below :data:`SECOND_CLASS_MIN`."""
    best = (int(dets.second_ids[i]), float(dets.second_scores[i]))
    other = [k for k in range(len(dets)) if dets.class_ids[k] != dets.class_ids[i]]
    if other:
        ious = iou_one_to_many(dets.boxes[i], dets.boxes[other])
        for k, iou in zip(other, ious):
            if iou >= SECOND_CLASS_IOU and dets.scores[k] > best[1]:
                best = (int(dets.class_ids[k]), float(dets.scores[k]))
    return best if best[0] >= 0 and best[1] >= SECOND_CLASS_MIN else None


def _box_object(rgb, dets, i: int, with_mask: bool) -> BoxObject:
    """A :class:`BoxObject` for NanoDet candidate ``i``, with its GrabCut mask when asked."""
    obj = BoxObject(int(dets.class_ids[i]), float(dets.scores[i]), dets.boxes[i].astype(np.float32),
                    second=runner_up(dets, i))
    if with_mask:
        bm = box_mask(rgb, dets.boxes[i])
        obj.mask, obj.method, obj.quality = bm.mask, bm.method, bm.quality
    return obj


def _live_step(net: ObjectsPipeline, tracker, min_score: float):
    """Live video bookkeeping: (run the detectors on this frame?, the tracked person crops, the
    landmark model to use)."""
    run_detectors = True
    tracked = None
    landmarker = net.live_landmarker if tracker is not None else net.landmarker
    if tracker is not None:
        tracked = [t for t in tracker.pose_rois if t.score >= min_score]
        run_detectors = tracker.start_frame(bool(tracked or tracker.objects))
    return run_detectors, tracked, landmarker


def _detect(rgb, net: ObjectsPipeline, tracker, min_score: float, iou_threshold: float, timings: Timings):
    """Stage 1: (NanoDet's :class:`Detections`, the BlazePose detector's people)."""
    with timings.stage("detect"):
        dets = net.detector.detect(rgb, score_threshold=min_score, iou_threshold=iou_threshold,
                                   input_size=LIVE_DETECTOR_SIZE if tracker is not None else None)
        if tracker is not None and any(k and n == "person" for k, n in zip(dets.kept, dets.names)):
            # live video: NanoDet's people are enough on this frame (the BlazePose detector is
            # there for the people NanoDet misses); the tracked crops follow them
            bp_dets = bp.PersonDetections.empty()
        else:
            bp_dets = bp.detect_people_tiled(rgb, net.person_detector, min_score)
    if tracker is not None:
        tracker.detected()
    return dets, bp_dets


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
    min_score = max(float(min_score), SCORE_FLOOR)
    object_masks = with_masks and tracker is None  # GrabCut is too slow for live video: boxes there
    run_detectors, tracked, landmarker = _live_step(net, tracker, min_score)
    dets, bp_dets = _detect(rgb, net, tracker, min_score, iou_threshold, timings) if run_detectors else (None, None)
    with timings.stage("people"):
        found = bp.people(rgb, min_score, detections=bp_dets, tracked=tracked, detector=net.person_detector,
                          landmarker=landmarker, keep_crops=inside, with_masks=with_masks)
    cands = blazepose_candidates(bp_dets, found) if bp_dets is not None else []
    objects: list[BoxObject] = []
    crops: list[tuple[bp.Person, str]] = []
    if dets is not None:
        nd_cands = nanodet_candidates(dets)
        stage2 = Stage2(rgb, dets, nd_cands, found, objects, crops, landmarker, inside, with_masks, object_masks)
        with timings.stage("people"):
            stage2.run_people()
        with timings.stage("objects"):
            stage2.run_objects()
        cands.extend(nd_cands[i] for i in range(len(dets)))
        if tracker is not None:
            tracker.objects = [(o.coco80, o.score, o.box) for o in objects]
    elif tracker is not None:
        objects = [BoxObject(cid, s, np.asarray(b, np.float32)) for cid, s, b in tracker.objects]
    if tracker is not None:
        tracker.pose_rois = [bp.TrackedRoi(p.next_roi, p.score, p.detector_box, p.alignment) for p in found]

    with timings.stage("postprocess"):
        return _assemble(rgb, found, objects, cands, crops, keypoint_format=keypoint_format, inside=inside,
                         with_masks=with_masks)


def blazepose_candidates(bp_dets, found) -> list[Candidate]:
    """One :class:`Candidate` per BlazePose detection, kept when a found person came from it."""
    cands = []
    for k in range(len(bp_dets)):
        match = [i for i, p in enumerate(found) if np.allclose(p.detector_box, bp_dets.boxes[k])]
        status = "kept" if match else ("stage 2: no new person in its crop (pose flag < 0.5, or the same body "
                                       "as a kept person)")
        cands.append(Candidate(f"B{k}", "BlazePose", "person", float(bp_dets.scores[k]), bp_dets.boxes[k],
                               status, match[0] if match else -1))
    return cands


def nanodet_candidates(dets) -> dict[int, Candidate]:
    """NanoDet index -> :class:`Candidate`, with stage 1's verdict (kept, or its reason)."""
    out = {}
    for i in range(len(dets)):
        reason = re.sub(r"#(\d+)", r"#N\1", dets.reasons[i])  # NanoDet's indices are our N keys
        out[i] = Candidate(f"N{i}", "NanoDet", dets.names[i], float(dets.scores[i]), dets.boxes[i],
                           reason if not dets.kept[i] else "kept")
    return out


@dataclass
class Stage2:
    """Stage 2 over NanoDet's kept boxes: the person checks, then a GrabCut mask per object box.
    It appends to ``found`` (people), ``objects`` and ``crops`` and sets each candidate's status."""

    rgb: np.ndarray
    dets: object
    cands: dict
    found: list
    objects: list
    crops: list
    landmarker: object
    inside: bool
    with_masks: bool
    object_masks: bool

    def order(self, person: bool) -> list[int]:
        """Kept NanoDet candidates, best first: the person boxes or the others."""
        d = self.dets
        return [int(i) for i in np.argsort(-d.scores, kind="stable")
                if d.kept[i] and (d.names[i] == "person") == person]

    def run_people(self) -> None:
        """Each NanoDet person box: a duplicate of a found person, an animal, or a new person (pose
        check; small or edge-cut boxes may be kept without a skeleton)."""
        d = self.dets
        kept_animals = [i for i in np.argsort(-d.scores, kind="stable") if d.kept[i] and d.names[i] in ANIMALS]
        for i in self.order(person=True):
            c = self.cands[i]
            ious = iou_one_to_many(d.boxes[i], [p.box for p in self.found])
            if len(ious) and ious.max() >= SAME_PERSON_IOU:
                c.status = f"duplicate: a person the BlazePose detector found (IoU {ious.max():.2f})"
                c.instance = int(ious.argmax())
                continue
            clash = [a for a in kept_animals if iou_one_to_many(d.boxes[i], d.boxes[a])[0] >= ANIMAL_CONFLICT_IOU]
            if clash:
                a = clash[0]
                c.status = (f"pose check: the same box is also {d.names[a]} {d.scores[a]:.2f} (#N{a}, IoU "
                            f"{iou_one_to_many(d.boxes[i], d.boxes[a])[0]:.2f}), and the pose model fires on animals")
                continue
            self.judge_person(i, c)

    def judge_person(self, i: int, c: Candidate) -> None:
        """The pose check on NanoDet person box ``i``; keeps it as a person, as a box object, or not."""
        d, (h, w) = self.dets, self.rgb.shape[:2]
        person = person_from_box(self.rgb, d.boxes[i], self.landmarker, with_mask=self.with_masks)
        if self.inside:
            self.crops.append((person, f"#N{i} person {d.scores[i]:.2f}"))
        flag, tall = person.presence, float(d.boxes[i][3] - d.boxes[i][1])
        if flag < bp.POSE_FLAG_MIN:
            if tall < SMALL_PERSON_PX and d.scores[i] >= SMALL_PERSON_MIN_SCORE:
                why = f"{tall:.0f} px is too small for the pose check"
            elif touches_edge(d.boxes[i], h, w) and d.scores[i] >= EDGE_PERSON_MIN_SCORE:
                why = "cut by the image edge, where the pose check cannot see a whole body"
            else:
                c.status = f"pose check: flag {flag:.2f} < {bp.POSE_FLAG_MIN:.2f}"
                return
            self.objects.append(_box_object(self.rgb, d, i, self.object_masks))
            c.status = f"kept without a skeleton: {why} (flag {flag:.2f} < {bp.POSE_FLAG_MIN:.2f})"
            c.instance = -2 - (len(self.objects) - 1)
            return
        dup = [k for k, p in enumerate(self.found)
               if bp.keypoint_overlap(person.keypoints, p.keypoints, p.roi.size / (2 * bp.ROI_SCALE)) > 0.5]
        if dup:
            c.status = "duplicate: the same body as another person (keypoints coincide)"
            c.instance = dup[0]
            return
        self.found.append(bp.Person(box=person.box, score=float(d.scores[i]), keypoints=person.keypoints,
                                    mask=person.mask, roi=person.roi, presence=flag,
                                    detector_box=np.asarray(d.boxes[i], np.float32),
                                    crop=person.crop if self.inside else None, next_roi=person.next_roi))
        c.instance = len(self.found) - 1
        c.status = "kept"

    def run_objects(self) -> None:
        """Every other kept box: a GrabCut mask, unless a better box of another class is the same."""
        d = self.dets
        kept: list[int] = []
        for i in self.order(person=False):
            c = self.cands[i]
            ious = iou_one_to_many(d.boxes[i], [d.boxes[k] for k in kept])
            if len(ious) and ious.max() >= SAME_OBJECT_IOU:
                k = kept[int(ious.argmax())]
                c.status = f"overlap: same box as #N{k} {d.names[k]} {d.scores[k]:.2f} (IoU {ious.max():.2f})"
                continue
            self.objects.append(_box_object(self.rgb, d, i, self.object_masks))
            kept.append(i)
            c.status = "kept"
            c.instance = -2 - (len(self.objects) - 1)  # fixed in _assemble, once people are numbered


def people_masks(found, hw: tuple[int, int], with_masks: bool = True) -> np.ndarray:
    """(P, H, W) bool masks of the people ``found`` (:class:`blazepose.Person`, probability masks cut
    at :data:`MASK_THRESHOLD`); a pixel two people claim goes to the more confident one, so people
    never overlap. All empty when ``with_masks`` is False."""
    if found and with_masks:
        return resolve_overlaps(np.stack([p.mask for p in found]), MASK_THRESHOLD)
    return np.zeros((len(found), *hw), bool)


def _instance_masks(found, objects: list[BoxObject], hw: tuple[int, int], with_masks: bool) -> np.ndarray:
    """(N, H, W) bool: people first (:func:`people_masks`), then the objects, which lose the pixels a
    person's mask holds (a rider is not part of the horse)."""
    n_p = len(found)
    masks = np.zeros((n_p + len(objects), *hw), bool)
    masks[:n_p] = people_masks(found, hw, with_masks)
    people_union = masks[:n_p].any(axis=0) if n_p else np.zeros(hw, bool)
    for k, o in enumerate(objects):
        if o.mask is not None:
            masks[n_p + k] = o.mask & ~people_union
    return masks


def _extras(found, objects: list[BoxObject], cands, crops, keypoint_format: str, inside: bool) -> dict:
    """The teaching data of the Inside view (see the module docstring)."""
    extras: dict = {
        "keypoint_format": "blazepose33" if keypoint_format == "native" else "coco17",
        "presence": [round(p.presence, 4) for p in found] + [None] * len(objects),
        "mask_method": ["blazepose"] * len(found) + [o.method for o in objects],
        "candidates": [c.as_row() | {"instance": c.instance} for c in cands],
        "pipeline": "two-stage",
    }
    if inside:
        extras["candidate_boxes"] = [(c.key, c.label, c.score, np.asarray(c.box, np.float32), c.status) for c in cands]
        tiles = [("person", i, p.crop, p.keypoints, p.roi, p.presence, "kept")
                 for i, p in enumerate(found) if p.crop is not None]
        for person, caption in crops:
            if not any(person.roi is p.roi for p in found):
                tiles.append(("rejected", -1, person.crop, person.keypoints, person.roi, person.presence, caption))
        extras["stage2_people"] = tiles
    return extras


def _assemble(rgb, found, objects: list[BoxObject], cands, crops, *, keypoint_format, inside,
              with_masks) -> Segmentation:
    h, w = rgb.shape[:2]
    n_p, n = len(found), len(found) + len(objects)
    masks = _instance_masks(found, objects, (h, w), with_masks)
    boxes = np.zeros((n, 4), np.float32)
    boxes[:n_p] = masks_to_boxes(masks[:n_p], np.array([p.box for p in found], np.float32).reshape(n_p, 4))
    for k, o in enumerate(objects):
        boxes[n_p + k] = o.box
    class_ids = np.array([COCO91_ID["person"]] * n_p + [COCO91_ID[COCO80_LABELS[o.coco80]] for o in objects], np.int64)
    scores = np.array([p.score for p in found] + [o.score for o in objects], np.float32)
    second_ids = np.array([-1] * n_p + [COCO91_ID[COCO80_LABELS[o.second[0]]] if o.second else -1 for o in objects],
                          np.int64)
    second_scores = np.array([0.0] * n_p + [o.second[1] if o.second else 0.0 for o in objects], np.float32)
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
    quality = ("model",) * n_p + tuple(o.quality if o.mask is not None else "rough" for o in objects)
    return Segmentation(masks=masks, class_ids=class_ids, labels=COCO91_LABELS, task="instance", model=NAME,
                        scores=scores, boxes=boxes, keypoints=kps, keypoint_names=names, skeleton=skeleton,
                        second_class_ids=second_ids, second_scores=second_scores,
                        mask_quality=quality if with_masks else (), has_masks=bool(with_masks),
                        extras=_extras(found, objects, cands, crops, keypoint_format, inside))
