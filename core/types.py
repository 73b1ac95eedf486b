"""Result types every task returns.

Arrays are numpy at this boundary: no torch tensors leave ``core``.
Coordinates are pixels of the *input image* (x to the right, y down), boxes are
``[x0, y0, x1, y1]`` with x1/y1 exclusive.

A result is validated when it is built (shapes agree), and "nothing found" is an
empty result, never ``None``.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field, replace
from typing import Iterator, Literal

import numpy as np

from core.boxes import masks_to_boxes

Task = Literal["semantic", "instance", "panoptic"]

MASK_QUALITIES = ("model", "fine", "rough")
"""Where a segment's mask comes from: "model" (a segmentation network's own mask), "fine" (a
box-prompted method that found an outline), "rough" (a box-prompted method that did not: the
mask is a guess at the object's extent, drawn hatched and exported as ``"mask_quality": "rough"``)."""

BACKGROUND_NAMES = frozenset({"background", "__background__", "void", "unlabeled"})
"""Label names that mean "no object" (not a thing; drawn grey or not at all)."""


class Timings(dict):
    """Per-stage wall times in milliseconds, in the order the stages ran.

    >>> t = Timings()
    >>> with t.stage("model"):
    ...     pass
    """

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + (time.perf_counter() - start) * 1000.0

    @property
    def total_ms(self) -> float:
        return float(sum(self.values()))

    def rounded(self, digits: int = 1) -> dict[str, float]:
        return {k: round(float(v), digits) for k, v in self.items()}


@dataclass(frozen=True, eq=False)
class Segmentation:
    """N segments of one H x W image; serves semantic, instance and panoptic results.

    Attributes:
        masks: (N, H, W) bool, one mask per segment.
        class_ids: (N,) int, index into ``labels``.
        labels: the model's whole label vocabulary (``labels[class_id]`` names a class).
        task: which kind of segmentation produced this result.
        model: registry name of the model that produced it.
        scores: (N,) float in [0, 1], or None (semantic segments have no score).
        is_thing: (N,) bool, True for countable objects (panoptic "things"), or None.
        boxes: (N, 4) float [x0, y0, x1, y1] in pixels, or None.
        keypoints: (N, K, 3) float (x, y, visibility in [0, 1]), or None.
        keypoint_names: K names, in the model's own order.
        skeleton: pairs of keypoint indices to join with a line.
        segment_ids: (N,) int, stable ids (panoptic ids, or track ids), or None.
        second_class_ids: (N,) int, the detector's runner-up class for each segment (index into
            ``labels``, -1 = none), or None.
        second_scores: (N,) float in [0, 1], that runner-up's score (0 where none), or None.
        mask_quality: N of :data:`MASK_QUALITIES`, or () when every mask is a model's own.
        has_masks: False when the model gives no masks at all (boxes and keypoints only; the
            masks are then all empty).
        void_fraction: panoptic: share of the pixels no segment claims; None otherwise.
        fallback: one sentence when the requested model could not serve and another one did.
        timings_ms: per-stage wall times.
        extras: small task-specific data for the teaching views (never big arrays
            that the renderer needs).
    """

    masks: np.ndarray
    class_ids: np.ndarray
    labels: tuple[str, ...]
    task: Task
    model: str
    scores: np.ndarray | None = None
    is_thing: np.ndarray | None = None
    boxes: np.ndarray | None = None
    keypoints: np.ndarray | None = None
    keypoint_names: tuple[str, ...] = ()
    skeleton: tuple[tuple[int, int], ...] = ()
    segment_ids: np.ndarray | None = None
    second_class_ids: np.ndarray | None = None
    second_scores: np.ndarray | None = None
    mask_quality: tuple[str, ...] = ()
    has_masks: bool = True
    void_fraction: float | None = None
    fallback: str = ""
    timings_ms: Timings = field(default_factory=Timings)
    extras: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        masks = np.asarray(self.masks)
        if masks.ndim != 3:
            raise ValueError(f"masks must be (N, H, W), got shape {masks.shape}")
        object.__setattr__(self, "masks", masks.astype(bool, copy=False))
        n = masks.shape[0]
        class_ids = np.asarray(self.class_ids, dtype=np.int64).reshape(-1)
        object.__setattr__(self, "class_ids", class_ids)
        object.__setattr__(self, "labels", tuple(self.labels))
        if class_ids.shape != (n,):
            raise ValueError(f"class_ids must be ({n},), got {class_ids.shape}")
        if n and (class_ids.min() < 0 or class_ids.max() >= len(self.labels)):
            raise ValueError("class_ids must index into labels")
        for name, trailing, dtype in (
            ("scores", (), np.float32),
            ("is_thing", (), bool),
            ("boxes", (4,), np.float32),
            ("segment_ids", (), np.int64),
            ("second_class_ids", (), np.int64),
            ("second_scores", (), np.float32),
        ):
            value = getattr(self, name)
            if value is None:
                continue
            value = np.asarray(value, dtype=dtype).reshape((n, *trailing))
            object.__setattr__(self, name, value)
        if self.keypoints is not None:
            kp = np.asarray(self.keypoints, dtype=np.float32)
            if kp.ndim != 3 or kp.shape[0] != n or kp.shape[2] != 3:
                raise ValueError(f"keypoints must be ({n}, K, 3), got {kp.shape}")
            if self.keypoint_names and len(self.keypoint_names) != kp.shape[1]:
                raise ValueError("keypoint_names must name every keypoint")
            object.__setattr__(self, "keypoints", kp)
        self._check_typed_extras(n)
        if not isinstance(self.timings_ms, Timings):
            object.__setattr__(self, "timings_ms", Timings(self.timings_ms))

    def _check_typed_extras(self, n: int) -> None:
        """Validate the runner-up classes, mask qualities and the scalar fields."""
        if self.second_class_ids is not None and n and (
                self.second_class_ids.min() < -1 or self.second_class_ids.max() >= len(self.labels)):
            raise ValueError("second_class_ids must index into labels (or be -1)")
        quality = tuple(str(q) for q in self.mask_quality)
        if quality and (len(quality) != n or not set(quality) <= set(MASK_QUALITIES)):
            raise ValueError(f"mask_quality must give one of {MASK_QUALITIES} per segment")
        object.__setattr__(self, "mask_quality", quality)
        object.__setattr__(self, "has_masks", bool(self.has_masks))
        object.__setattr__(self, "fallback", str(self.fallback or ""))
        if self.void_fraction is not None:
            object.__setattr__(self, "void_fraction", float(self.void_fraction))

    # -- construction -------------------------------------------------------
    @classmethod
    def from_label_map(
        cls,
        label_map: np.ndarray,
        labels: tuple[str, ...] | list[str],
        model: str,
        *,
        ignore: tuple[int, ...] = (),
        **kwargs,
    ) -> "Segmentation":
        """One segment per class present in ``label_map`` ((H, W) int class ids)."""
        label_map = np.asarray(label_map)
        present = [int(c) for c in np.unique(label_map) if int(c) not in ignore]
        masks = np.stack([label_map == c for c in present]) if present else np.zeros(
            (0, *label_map.shape), bool
        )
        return cls(masks=masks, class_ids=np.array(present, np.int64), labels=tuple(labels),
                   task="semantic", model=model, **kwargs)

    @classmethod
    def empty(cls, height: int, width: int, labels, task: Task, model: str, **kwargs) -> "Segmentation":
        return cls(masks=np.zeros((0, height, width), bool), class_ids=np.zeros(0, np.int64),
                   labels=tuple(labels), task=task, model=model, **kwargs)

    # -- views --------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.masks.shape[0])

    @property
    def image_size(self) -> tuple[int, int]:
        """(H, W) in pixels."""
        return int(self.masks.shape[1]), int(self.masks.shape[2])

    @property
    def class_names(self) -> list[str]:
        return [self.labels[c] for c in self.class_ids]

    @property
    def areas(self) -> np.ndarray:
        """(N,) int pixel count of each mask."""
        return self.masks.sum(axis=(1, 2))

    @property
    def area_fractions(self) -> np.ndarray:
        """(N,) float share of the image each mask covers."""
        h, w = self.image_size
        return self.areas / float(max(h * w, 1))

    def quality(self, i: int) -> str:
        """Segment ``i``'s mask quality (one of :data:`MASK_QUALITIES`)."""
        return self.mask_quality[i] if self.mask_quality else "model"

    def runner_up(self, i: int) -> tuple[str, float] | None:
        """Segment ``i``'s runner-up (class name, score), or None when the model gave none."""
        if self.second_class_ids is None or self.second_scores is None or self.second_class_ids[i] < 0:
            return None
        return self.labels[int(self.second_class_ids[i])], float(self.second_scores[i])

    def subset(self, keep: np.ndarray | list[int] | list[bool]) -> "Segmentation":
        """A new result with only the segments selected by a bool mask or index list."""
        keep = np.asarray(keep)
        if keep.dtype != bool:
            keep = keep.astype(np.int64)
        pick = lambda a: None if a is None else a[keep]  # noqa: E731
        index = np.flatnonzero(keep) if keep.dtype == bool else keep
        return replace(
            self,
            masks=self.masks[keep],
            class_ids=self.class_ids[keep],
            scores=pick(self.scores),
            is_thing=pick(self.is_thing),
            boxes=pick(self.boxes),
            keypoints=pick(self.keypoints),
            segment_ids=pick(self.segment_ids),
            second_class_ids=pick(self.second_class_ids),
            second_scores=pick(self.second_scores),
            mask_quality=tuple(self.mask_quality[int(k)] for k in index) if self.mask_quality else (),
        )

    def filter(self, *, min_score: float | None = None, classes: set[int] | None = None) -> "Segmentation":
        """Keep segments with score >= min_score (when scored) and class in ``classes``."""
        keep = np.ones(len(self), bool)
        if min_score is not None and self.scores is not None:
            keep &= self.scores >= min_score
        if classes is not None:
            keep &= np.isin(self.class_ids, list(classes))
        return self.subset(keep)

    def label_map(self, fill: int = 0) -> np.ndarray:
        """(H, W) int32 class id per pixel; later segments win overlaps; ``fill`` elsewhere."""
        out = np.full(self.image_size, fill, np.int32)
        for mask, cid in zip(self.masks, self.class_ids):
            out[mask] = cid
        return out

    def mask_boxes(self) -> np.ndarray:
        """(N, 4) float32 boxes [x0, y0, x1, y1] around each mask (zeros for empty masks)."""
        return masks_to_boxes(self.masks)

    def summary(self) -> list[dict]:
        """JSON-ready list of segments (label, class_id, area_fraction, score, box, ...)."""
        fractions = self.area_fractions
        rows = []
        for i in range(len(self)):
            row = {
                "label": self.labels[self.class_ids[i]],
                "class_id": int(self.class_ids[i]),
                "area_fraction": round(float(fractions[i]), 6),
                "score": None if self.scores is None else round(float(self.scores[i]), 4),
            }
            if self.segment_ids is not None:
                row["id"] = int(self.segment_ids[i])
            if self.is_thing is not None:
                row["is_thing"] = bool(self.is_thing[i])
            if self.boxes is not None:
                row["box"] = [round(float(v), 1) for v in self.boxes[i]]
            second = self.runner_up(i)
            if second is not None:
                row["second"] = {"label": second[0], "score": round(second[1], 4)}
            if self.mask_quality:
                row["mask_quality"] = self.mask_quality[i]
            if self.keypoints is not None and self.keypoints[i].any():  # no keypoints where none
                row["keypoints"] = [[round(float(x), 1), round(float(y), 1), round(float(v), 3)]
                                    for x, y, v in self.keypoints[i]]
            rows.append(row)
        return rows


# =========================================================================== faces
# Result types of core/faces/pipeline.py. Embeddings are L2-normalised float32 rows, so the
# cosine similarity of two faces is their dot product and the Euclidean distance
# is sqrt(2 - 2 * cosine).


@dataclass(frozen=True, eq=False)
class Faces:
    """N faces found in one H x W image.

    Attributes:
        boxes: (N, 4) float32 [x0, y0, x1, y1] pixels of the input image.
        scores: (N,) float32 detector confidence in [0, 1].
        landmarks: (N, 5, 2) float32 (x, y) pixels: right eye, left eye, nose tip,
            right and left mouth corner (the person's right/left; YuNet's order).
        image_size: (H, W) of the input image.
        detector: registry name of the detector.
        crops: (N, S, S, 3) uint8 RGB aligned face crops, or None before alignment.
        embeddings: (N, D) float32 L2-normalised rows, or None before embedding.
        embedder: registry name of the embedding model ("" before embedding).
        notes: plain sentences about the faces (tiny faces, faces cut by the border...).
        timings_ms: per-stage wall times.
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray
    image_size: tuple[int, int]
    detector: str
    crops: np.ndarray | None = None
    embeddings: np.ndarray | None = None
    embedder: str = ""
    notes: tuple[str, ...] = ()
    timings_ms: Timings = field(default_factory=Timings)

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, np.float32).reshape(-1, 4)
        n = len(boxes)
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", np.asarray(self.scores, np.float32).reshape(n))
        object.__setattr__(self, "landmarks", np.asarray(self.landmarks, np.float32).reshape(n, 5, 2))
        object.__setattr__(self, "image_size", (int(self.image_size[0]), int(self.image_size[1])))
        object.__setattr__(self, "notes", tuple(self.notes))
        if self.crops is not None:
            crops = np.asarray(self.crops, np.uint8)
            if crops.ndim != 4 or crops.shape[0] != n or crops.shape[3] != 3:
                raise ValueError(f"crops must be ({n}, S, S, 3), got {crops.shape}")
            object.__setattr__(self, "crops", crops)
        if self.embeddings is not None:
            emb = np.asarray(self.embeddings, np.float32)
            if emb.ndim != 2 or emb.shape[0] != n:
                raise ValueError(f"embeddings must be ({n}, D), got {emb.shape}")
            object.__setattr__(self, "embeddings", emb)
        if not isinstance(self.timings_ms, Timings):
            object.__setattr__(self, "timings_ms", Timings(self.timings_ms))

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @property
    def sides(self) -> np.ndarray:
        """(N,) float: the shorter side of each box in pixels."""
        return np.minimum(self.boxes[:, 2] - self.boxes[:, 0], self.boxes[:, 3] - self.boxes[:, 1])

    def largest(self) -> int:
        """Index of the biggest face (by box area); -1 when there is none."""
        if not len(self):
            return -1
        areas = (self.boxes[:, 2] - self.boxes[:, 0]) * (self.boxes[:, 3] - self.boxes[:, 1])
        return int(np.argmax(areas))

    def subset(self, keep) -> "Faces":
        keep = np.asarray(keep)
        if keep.dtype != bool:
            keep = keep.astype(np.int64)
        pick = lambda a: None if a is None else a[keep]  # noqa: E731
        return replace(self, boxes=self.boxes[keep], scores=self.scores[keep],
                       landmarks=self.landmarks[keep], crops=pick(self.crops),
                       embeddings=pick(self.embeddings))

    def summary(self) -> list[dict]:
        return [{"box": [round(float(v), 1) for v in self.boxes[i]],
                 "score": round(float(self.scores[i]), 4),
                 "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in self.landmarks[i]]}
                for i in range(len(self))]


@dataclass(frozen=True)
class Verification:
    """Are two faces the same person?

    ``similarity`` is the cosine similarity of the two embeddings (higher = more alike);
    ``distance`` is the Euclidean distance of the unit vectors, sqrt(2 - 2 similarity).
    ``metric`` says which of the two the model's ``threshold`` applies to
    ("cosine": same when similarity >= threshold; "euclidean": same when distance <= threshold).
    """

    same_person: bool
    similarity: float
    distance: float
    threshold: float
    metric: str
    model: str
    detector: str = ""
    faces_found: tuple[int, int] = (1, 1)
    notes: tuple[str, ...] = ()
    timings_ms: Timings = field(default_factory=Timings)

    @property
    def score(self) -> float:
        """The value the threshold applies to (similarity or distance)."""
        return self.similarity if self.metric == "cosine" else self.distance

    def to_dict(self) -> dict:
        out = {"same_person": bool(self.same_person)}
        if self.metric == "cosine":
            out["similarity"] = round(float(self.similarity), 4)
        else:
            out["distance"] = round(float(self.distance), 4)
        out.update({"threshold": float(self.threshold), "metric": self.metric, "model": self.model,
                    "detector": self.detector, "faces_found": list(self.faces_found),
                    "notes": list(self.notes), "timings_ms": self.timings_ms.rounded()})
        return out


@dataclass(frozen=True)
class Match:
    """One face of an image matched against a gallery.

    ``name`` is None when the best score is on the wrong side of the threshold
    ("unknown"); ``best_name`` is the closest person anyway (for teaching views).
    ``similarity`` is the cosine similarity to that person (nearest photo or mean).
    """

    box: tuple[float, float, float, float]
    name: str | None
    best_name: str | None
    similarity: float
    distance: float
    scores: dict[str, float] = field(default_factory=dict)
    small: bool = False

    def to_dict(self) -> dict:
        return {"box": [round(float(v), 1) for v in self.box], "name": self.name,
                "similarity": round(float(self.similarity), 4),
                "distance": round(float(self.distance), 4), "best_name": self.best_name,
                "small": bool(self.small)}


@dataclass(frozen=True)
class Recognition:
    """Every face of one image, each with its :class:`Match` (same order as ``faces``)."""

    faces: Faces
    matches: tuple[Match, ...]
    threshold: float
    metric: str
    mode: str
    model: str
    timings_ms: Timings = field(default_factory=Timings)

    def to_dict(self) -> dict:
        return {"faces": [m.to_dict() for m in self.matches], "threshold": float(self.threshold),
                "metric": self.metric, "mode": self.mode, "model": self.model,
                "detector": self.faces.detector, "notes": list(self.faces.notes),
                "timings_ms": self.timings_ms.rounded()}
