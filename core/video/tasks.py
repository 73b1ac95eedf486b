"""Frame processors for :class:`core.video.run.ClipRun`: each keeps its own tracker (one per
clip), runs a task on an RGB uint8 (H, W, 3) frame and returns the overlay with track ids drawn
plus the image command's JSON items, each with ``track_id``.

* :class:`SegmentProcessor` ("semantic" | "instance" | "panoptic"): ids from a
  :class:`core.tracking.Tracker` on each segment's box (same class, IoU) and, for a track lost for a
  few frames, its colours (:func:`core.tracking.colour_signature`, inside its mask). For instance
  the model runs in video mode (:class:`core.segmentation.instance.IouTracker`: the detector every
  ``detect_every`` frames, people followed by their crops in between). A semantic class region keeps
  its id while it overlaps itself frame to frame.
* :class:`FaceProcessor`: recognition against a gallery each frame; ids from a Tracker that uses
  box overlap and, across gaps, the face embedding.
* :class:`StyleProcessor`: fast style transfer; no items.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from core.tracking import Tracker, colour_signature
from core.video.run import FrameResult

ID_TEXT = "#{id} {label}"
SAME_COLOURS = 0.8
"""Colour-signature similarity that re-finds a lost track (the same person in two frames: 0.9-0.97 on
the bundled clips; two different people: 0.6-0.7)."""


def _draw_ids(image: np.ndarray, boxes: np.ndarray, ids: np.ndarray, labels: list[str], colors) -> np.ndarray:
    from core.render import draw_boxes

    if not len(boxes):
        return image
    texts = [ID_TEXT.format(id=int(t), label=lab) for t, lab in zip(ids, labels)]
    return draw_boxes(image, np.asarray(boxes, np.float32), list(colors), texts)


class SegmentProcessor:
    """Segmentation of every frame with stable ids (see the module docstring)."""

    items_key = "segments"

    def __init__(self, task: str, model: str = "auto", *, detect_every: int = 4, opacity: float = 0.5) -> None:
        from core.segmentation import TASKS

        if task not in TASKS:
            raise ValueError(f"Unknown task '{task}'; choose one of {', '.join(TASKS)}.")
        if detect_every < 1:
            raise ValueError("detect_every must be at least 1.")
        self.task, self.model, self.opacity = task, model, opacity
        self.detect_every = detect_every
        self.tracker = Tracker(min_iou=0.3, max_missed=15, min_similarity=SAME_COLOURS, reuse_ids=False)
        self.instance_tracker = None
        self.person_track = None

    def segment(self, rgb: np.ndarray):
        """The frame's Segmentation with ``segment_ids`` = track ids."""
        from core.segmentation import segment
        from core.segmentation.instance import IouTracker
        from core.segmentation.semantic import PersonTrack

        options: dict[str, Any] = {}
        if self.task == "instance":
            self.instance_tracker = self.instance_tracker or IouTracker(redetect_every=self.detect_every)
            options["tracker"] = self.instance_tracker
        if self.task == "semantic" and self.model == "mediapipe-person":
            self.person_track = self.person_track or PersonTrack(redetect_every=self.detect_every - 1)
            options["track"] = self.person_track
        seg = segment(self.task, rgb, self.model, **options)
        boxes = seg.boxes if seg.boxes is not None else seg.mask_boxes()
        looks = colour_signature(rgb, boxes, seg.masks)
        return dataclasses.replace(seg, segment_ids=self.tracker.update(boxes, seg.class_ids, looks))

    def __call__(self, rgb: np.ndarray) -> FrameResult:
        from core import render

        seg = self.segment(rgb)
        items = seg.summary()
        for row, tid in zip(items, seg.segment_ids):
            row["track_id"] = int(tid)
            row.pop("id", None)
        image = render.overlay(rgb, seg, opacity=self.opacity, show_labels=False, show_boxes=False)
        things = [i for i in range(len(seg)) if seg.is_thing is None or bool(seg.is_thing[i])]
        if self.task != "semantic" and things:
            boxes = (seg.boxes if seg.boxes is not None else seg.mask_boxes())[things]
            colors = render.segment_colors(seg)
            image = _draw_ids(image, boxes, seg.segment_ids[things], [seg.labels[seg.class_ids[i]] for i in things],
                              [colors[i] for i in things])
        return FrameResult(image=image, items=items)


class FaceProcessor:
    """Every face named from ``gallery`` (a :class:`core.faces.Gallery`) with a stable track id."""

    items_key = "faces"

    def __init__(self, gallery, *, embedder: str = "sface", detector: str = "yunet",
                 threshold: float | None = None, mode: str = "nearest", min_similarity: float = 0.5) -> None:
        self.gallery, self.embedder, self.detector = gallery, embedder, detector
        self.threshold, self.mode = threshold, mode
        self.tracker = Tracker(min_iou=0.3, max_missed=15, min_similarity=min_similarity, reuse_ids=False)

    def __call__(self, rgb: np.ndarray) -> FrameResult:
        from core.faces import person_color, recognize

        rec = recognize(rgb, self.gallery, embedder=self.embedder, detector=self.detector,
                        threshold=self.threshold, mode=self.mode)
        boxes = rec.faces.boxes.reshape(-1, 4)
        ids = self.tracker.update(boxes, np.zeros(len(boxes), np.int64), rec.faces.embeddings)
        items = []
        for m, tid in zip(rec.matches, ids):
            row = m.to_dict()
            row.update(track_id=int(tid), label=m.name or "unknown")
            items.append(row)
        names = list(self.gallery.names)
        colors = [person_color(names, m.name) for m in rec.matches]
        image = _draw_ids(rgb, boxes, ids, [r["label"] for r in items], colors)
        return FrameResult(image=image, items=items)


class StyleProcessor:
    """Fast style transfer of every frame (``style``: a built-in name/index, a preset or an image
    file; ``strength`` 0..1); the output keeps the frame's size."""

    items_key = ""

    def __init__(self, style: str | np.ndarray, *, strength: float = 1.0, size: int = 512) -> None:
        from core.style import FastParams, resolve_style

        kind, value = ("image", style) if isinstance(style, np.ndarray) else resolve_style(style)
        self.style_image = value if kind == "image" else None
        self.params = FastParams(size=size, strength=strength, style_source="uploaded image" if isinstance(style, np.ndarray) else str(style))
        if kind == "builtin":
            self.params.style = f"style {value}"

    def __call__(self, rgb: np.ndarray) -> FrameResult:
        import cv2

        from core.style import fast_stylize

        h, w = rgb.shape[:2]
        params = dataclasses.replace(self.params, size=int(min(self.params.size, max(h, w))) // 4 * 4)
        out = fast_stylize(rgb, params, style_image=self.style_image).image
        if out.shape[:2] != (h, w):
            out = cv2.resize(out, (w, h), interpolation=cv2.INTER_AREA)
        return FrameResult(image=np.ascontiguousarray(out))
