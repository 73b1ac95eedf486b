"""One tracking component for every video path: people, objects and faces keep a ``track_id``
from frame to frame.

* :func:`greedy_match`: pairs rows and columns of a score matrix, best score first, each at most
  once (the matching step every tracker here shares).
* :class:`Tracker`: ids by box overlap (IoU, same class) and, for tracks unseen for a few frames,
  by appearance (cosine similarity of L2-normalised embeddings, e.g. face embeddings); a track
  unseen for more than ``max_missed`` frames is forgotten, so short gaps (a missed detection, a
  person behind a pole) keep their id. New tracks take the lowest free id, left to right.
* :class:`DetectSchedule`: "run the detector every k-th frame, follow in between" (MediaPipe's
  tracking mode): how many frames since the last detection, when the next one is due.
* :func:`colour_signature`: a cheap appearance embedding (hue-saturation histogram) for objects
  that have no learned embedding, so a person lost for a moment is re-found by the colours they wear.
* :class:`TrackLog`: per-track summary of a clip (first / last frame, frames seen, label), and
  :func:`id_switches`, the evaluation count against known identities.

Boxes are float x0, y0, x1, y1 in pixels (see :mod:`core.boxes`). State is plain lists, cheap to
keep per viewer (``gr.State``) and never shared between viewers.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.boxes import box_iou


def greedy_match(score: np.ndarray, min_score: float) -> list[tuple[int, int]]:
    """(row, col) pairs of a (R, C) float score matrix, highest score first, each row and column
    used once, only pairs scoring at least ``min_score``. Ties go to the lower index."""
    score = np.array(score, np.float64, copy=True)
    pairs: list[tuple[int, int]] = []
    if score.ndim != 2 or not score.size:
        return pairs
    while True:
        i, j = np.unravel_index(np.argmax(score), score.shape)
        if score[i, j] < min_score:
            return pairs
        pairs.append((int(i), int(j)))
        score[i, :] = -np.inf
        score[:, j] = -np.inf


@dataclass
class Tracker:
    """Stable ids across frames (see the module docstring).

    ``update(boxes, class_ids, embeddings=None) -> (N,) int64 ids``. ``min_iou``: the overlap that
    continues a track; ``max_missed``: frames a track survives unseen; ``min_similarity``: the cosine
    similarity at which an embedding re-finds a track that overlap could not (0..1; only used when
    embeddings are given)."""

    min_iou: float = 0.3
    max_missed: int = 15
    min_similarity: float = 0.6
    reuse_ids: bool = True
    """True: a new track takes the lowest free id (few colours on a live view); False: ids are
    never reused (a clip's JSON, where one id must mean one object)."""
    next_id: int = 0
    ids: list[int] = field(default_factory=list)
    boxes: list[list[float]] = field(default_factory=list)
    class_ids: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)
    embeddings: list = field(default_factory=list)
    """Per track: its last (D,) float32 embedding, or None."""

    def update(self, boxes: np.ndarray, class_ids: np.ndarray, embeddings: np.ndarray | None = None) -> np.ndarray:
        """Ids for this frame's (N, 4) boxes of (N,) classes; optional (N, D) L2-normalised embeddings."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        class_ids = np.asarray(class_ids, np.int64).reshape(-1)
        n = len(boxes)
        out = np.full(n, -1, np.int64)
        same = class_ids[:, None] == np.array(self.class_ids, np.int64)[None, :]
        if self.ids and n:
            iou = np.where(same, box_iou(boxes, np.array(self.boxes, np.float32)), 0.0)
            for i, j in greedy_match(iou, self.min_iou):
                out[i] = self.ids[j]
        if embeddings is not None and self.ids and (out < 0).any():
            self._match_appearance(out, np.asarray(embeddings, np.float32).reshape(n, -1), same)
        self._store(out, boxes, class_ids, embeddings)
        return out

    def _match_appearance(self, out: np.ndarray, emb: np.ndarray, same: np.ndarray) -> None:
        """Unmatched detections take unmatched tracks whose embedding is similar enough (in place)."""
        free_t = [j for j, tid in enumerate(self.ids) if tid not in set(out.tolist()) and self.embeddings[j] is not None]
        free_d = np.flatnonzero(out < 0)
        if not free_t or not len(free_d):
            return
        sim = emb[free_d] @ np.stack([self.embeddings[j] for j in free_t]).T
        sim = np.where(same[np.ix_(free_d, free_t)], sim, -1.0)
        for a, b in greedy_match(sim, self.min_similarity):
            out[free_d[a]] = self.ids[free_t[b]]

    def _store(self, out: np.ndarray, boxes: np.ndarray, class_ids: np.ndarray, embeddings) -> None:
        """Age unmatched tracks, forget stale ones, give new detections the lowest free ids."""
        matched = set(int(v) for v in out if v >= 0)
        keep = [(tid, self.boxes[k], self.class_ids[k], self.missed[k] + 1, self.embeddings[k])
                for k, tid in enumerate(self.ids) if tid not in matched and self.missed[k] + 1 <= self.max_missed]
        taken = matched | {t[0] for t in keep}
        for i in np.argsort((boxes[:, 0] + boxes[:, 2]) / 2, kind="stable"):
            if out[i] < 0:
                new = 0 if self.reuse_ids else self.next_id
                while new in taken:
                    new += 1
                out[i] = new
                taken.add(new)
                self.next_id = max(self.next_id, new + 1)
        emb = [None] * len(out) if embeddings is None else [np.asarray(e, np.float32) for e in embeddings]
        tracks = [(int(out[i]), boxes[i].tolist(), int(class_ids[i]), 0, emb[i]) for i in range(len(out))] + keep
        self.ids = [t[0] for t in tracks]
        self.boxes = [t[1] for t in tracks]
        self.class_ids = [t[2] for t in tracks]
        self.missed = [t[3] for t in tracks]
        self.embeddings = [t[4] for t in tracks]

    def reset(self) -> None:
        """Forget every track (a new clip, a scene change the caller knows of)."""
        self.ids, self.boxes, self.class_ids, self.missed, self.embeddings = [], [], [], [], []
        self.next_id = 0


HUE_BINS, SAT_BINS = 12, 4
SIGNATURE_SIDE = 64


def colour_signature(rgb: np.ndarray, boxes: np.ndarray, masks: np.ndarray | None = None) -> np.ndarray:
    """(N, 48) float32 appearance embeddings of the (N, 4) ``boxes`` of an RGB uint8 (H, W, 3) image:
    the square root of each box's hue x saturation histogram (12 x 4 bins; inside the (N, H, W) bool
    ``masks`` when given and not empty), L2-normalised, so the dot product of two is their
    Bhattacharyya coefficient (1 = the same colours). The crop is shrunk to 64 px first (speed)."""
    import cv2

    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    h, w = rgb.shape[:2]
    out = np.zeros((len(boxes), HUE_BINS * SAT_BINS), np.float32)
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        xa, ya = int(np.clip(x0, 0, w - 1)), int(np.clip(y0, 0, h - 1))
        xb, yb = int(np.clip(np.ceil(x1), xa + 1, w)), int(np.clip(np.ceil(y1), ya + 1, h))
        scale = min(1.0, SIGNATURE_SIDE / max(xb - xa, yb - ya))
        size = (max(1, round((xb - xa) * scale)), max(1, round((yb - ya) * scale)))
        crop = cv2.resize(np.ascontiguousarray(rgb[ya:yb, xa:xb]), size, interpolation=cv2.INTER_AREA)
        mask = None
        if masks is not None and masks[i, ya:yb, xa:xb].any():
            mask = cv2.resize(masks[i, ya:yb, xa:xb].astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
        hist = cv2.calcHist([cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)], [0, 1], mask, [HUE_BINS, SAT_BINS],
                            [0, 180, 0, 256]).ravel()
        hist = np.sqrt(hist / max(float(hist.sum()), 1e-9))
        out[i] = hist / max(float(np.linalg.norm(hist)), 1e-9)
    return out


@dataclass
class DetectSchedule:
    """When to run the (slow) detector on a video: every ``redetect_every`` frames, or whenever
    nothing is being followed. Between detections the caller follows what it found (crops, boxes).

    Per frame: ``due = schedule.start_frame(following)``; when it runs the detector it calls
    :meth:`detected`. ``frames`` and ``detector_runs`` count for the performance panel."""

    redetect_every: int = 4
    since_detect: int = 0
    detector_runs: int = 0
    frames: int = 0

    def period(self) -> int:
        """Frames from one detection to the next."""
        return self.redetect_every

    def start_frame(self, following: bool) -> bool:
        """Count a frame; True when the detector should run on it."""
        self.frames += 1
        due = not following or self.since_detect + 1 >= self.period()
        if not due:
            self.since_detect += 1
        return due

    def detected(self) -> None:
        """The detector ran on this frame."""
        self.since_detect = 0
        self.detector_runs += 1


@dataclass
class TrackLog:
    """Summary of the tracks in a clip: ``add(frame_index, ids, labels)`` per processed frame,
    ``tracks()`` -> ``[{"track_id", "label", "first_frame", "last_frame", "frames"}]`` by id."""

    rows: dict[int, dict] = field(default_factory=dict)

    def add(self, frame_index: int, ids: Sequence[int], labels: Sequence[str]) -> None:
        for tid, label in zip(ids, labels):
            row = self.rows.setdefault(int(tid), {"track_id": int(tid), "label": str(label),
                                                  "first_frame": int(frame_index), "last_frame": int(frame_index),
                                                  "frames": 0})
            row["last_frame"] = int(frame_index)
            row["frames"] += 1

    def tracks(self) -> list[dict]:
        return [dict(self.rows[k]) for k in sorted(self.rows)]


def id_switches(truth: Sequence[Sequence[int]], predicted: Sequence[Sequence[int]]) -> int:
    """ID switches of a tracker on a clip with known identities (CLEAR-MOT's IDSW, for matched
    detections): frame by frame, each true identity's predicted id is compared with the one it had
    when last seen; every change counts one. ``truth[f]`` and ``predicted[f]`` are aligned lists of
    true and predicted ids of the detections in frame f (a detection with no true identity: -1)."""
    last: dict[int, int] = {}
    switches = 0
    for t_ids, p_ids in zip(truth, predicted):
        for t, p in zip(t_ids, p_ids):
            if t < 0:
                continue
            if t in last and last[t] != p:
                switches += 1
            last[t] = int(p)
    return switches
