"""NanoDet (COCO-80, 416 px; registry key ``nanodet-m``, the weights are NanoDet-g: see
:mod:`core.segmentation.catalog.objects`) on onnxruntime: boxes, classes and scores for any RGB photo.

``models.load("nanodet-m")`` returns a :class:`NanoDet`; ``detect(rgb)`` returns
:class:`Detections`: every candidate the decoder produced above ``floor`` (at most
``max_candidates``, best first), each marked kept or dropped with the reason, so a teaching view
can show what the score threshold and the class-aware NMS did. ``Detections.final()`` is the
usual detector output.

Pipeline (the registry entry is :mod:`core.segmentation.catalog.objects`):

1. **preprocess**: stretch the image to 416x416 (PIL bilinear, no letterbox), RGB -> BGR,
   ``(x - mean) / std`` per channel, NCHW float32.
2. **model**: three score maps (already sigmoid) ``(1, N, 80)`` and three box maps ``(1, N, 44)``
   for strides 8 / 16 / 32 (N = 52^2, 26^2, 13^2 cells), matched by shape.
3. **decode** (GFL): each box row is 4 sides (left, top, right, bottom) x 11 bins; softmax over the
   bins, distance = expectation * stride, measured from the cell centre
   ``((k % g + 0.5) * stride, (k // g + 0.5) * stride)``; boxes scaled back to the input size and
   clipped to it. Every (cell, class) pair with score >= ``floor`` is a candidate (one cell may
   propose several classes, as NanoDet's own multi-class NMS does); the best ``NMS_PRE`` go on.
4. **select**: candidates below ``score_threshold`` are dropped ("score 0.21 < 0.35"); the rest go
   through greedy NMS per class, a candidate overlapping a kept one of its class by IoU >
   ``iou_threshold`` is dropped ("overlaps #3 person 0.81 (IoU 0.64)", #3 = its index here).
   The result holds at most ``max_candidates``: all kept ones, then the best dropped ones, so
   ``final()`` does not depend on ``max_candidates`` unless more than that many are kept.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.boxes import iou_one_to_many
from core.image import array_to_rgb
from core.onnx_session import onnx_session
from core.segmentation.labels import COCO80_LABELS
from core.types import Timings

INPUT_SIZE = 416
MEAN_BGR = (103.53, 116.28, 123.675)
STD_BGR = (57.375, 57.12, 58.395)
STRIDES = (8, 16, 32)
REG_MAX = 10
"""GFL box bins per side are 0..REG_MAX (11 bins)."""
NMS_PRE = 1000
"""At most this many candidates (best first) enter the NMS, as in NanoDet's own post-processing."""

_MEAN = np.array(MEAN_BGR, np.float32)
_INV_STD = (1.0 / np.array(STD_BGR, np.float64)).astype(np.float32)


@dataclass(frozen=True)
class Detections:
    """All candidates the decoder produced above ``floor``, each marked kept or not, best first.

    Attributes:
        boxes: (N, 4) float32 ``x0, y0, x1, y1`` in input-image pixels (clipped to the image).
        scores: (N,) float32 in [0, 1], descending.
        class_ids: (N,) int64, index into ``labels`` (COCO-80 order).
        kept: (N,) bool, survived the score threshold and the class-aware NMS.
        reasons: per candidate: ``"kept"``, ``"score 0.21 < 0.35"`` or
            ``"overlaps #3 person 0.81 (IoU 0.64)"`` (#3 indexes this result).
        labels: the 80 class names.
        timings_ms: ``preprocess`` / ``model`` / ``decode`` wall times.
        second_ids: (N,) int64, the runner-up class at the candidate's grid cell (the class with
            the best score there after the candidate's own), or None.
        second_scores: (N,) float32, that class's score at the cell, or None.
    """

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    kept: np.ndarray
    reasons: tuple[str, ...]
    labels: tuple[str, ...] = COCO80_LABELS
    timings_ms: Timings = field(default_factory=Timings)
    second_ids: np.ndarray | None = None
    second_scores: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.scores)
        if self.second_ids is None or self.second_scores is None:
            object.__setattr__(self, "second_ids", np.full(n, -1, np.int64))
            object.__setattr__(self, "second_scores", np.zeros(n, np.float32))
        if self.boxes.shape != (n, 4) or self.class_ids.shape != (n,) or self.kept.shape != (n,) \
                or len(self.reasons) != n:
            raise ValueError(f"Detections: inconsistent lengths ({self.boxes.shape}, {n}, "
                             f"{self.class_ids.shape}, {self.kept.shape}, {len(self.reasons)})")

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def names(self) -> tuple[str, ...]:
        """Class name of each candidate."""
        return tuple(self.labels[int(c)] for c in self.class_ids)

    def final(self) -> "Detections":
        """Only the kept candidates, sorted by score (best first)."""
        idx = np.flatnonzero(self.kept)
        idx = idx[np.argsort(-self.scores[idx], kind="stable")]
        return Detections(self.boxes[idx], self.scores[idx], self.class_ids[idx], self.kept[idx],
                          tuple(self.reasons[i] for i in idx), self.labels, self.timings_ms,
                          self.second_ids[idx], self.second_scores[idx])

    @classmethod
    def empty(cls, timings: Timings | None = None) -> "Detections":
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64),
                   np.zeros(0, bool), (), COCO80_LABELS, timings if timings is not None else Timings())


def default_num_threads() -> int:
    """onnxruntime intra-op threads: ``CVLAB_NANODET_THREADS``, else one per usable core (at most 4).

    Two threads beat one on a quiet machine and lose a little on a loaded one; a lone visitor is the
    common case (the numbers: docs/decisions.md)."""
    env = os.environ.get("CVLAB_NANODET_THREADS")
    if env:
        return max(0, int(env))
    from core.config import usable_cpus

    return max(1, min(4, usable_cpus()))


def preprocess(rgb: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """RGB uint8 (H, W, 3) -> (1, 3, size, size) float32 BGR, normalised as NanoDet was trained."""
    from PIL import Image

    small = np.asarray(Image.fromarray(rgb).resize((size, size), Image.BILINEAR))
    x = (small[:, :, ::-1].astype(np.float32) - _MEAN) * _INV_STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def cell_centres(stride: int, size: int = INPUT_SIZE) -> np.ndarray:
    """(g*g, 2) float32 centres ``((k % g + 0.5) * stride, (k // g + 0.5) * stride)``, g = size // stride."""
    g = size // stride
    k = np.arange(g * g)
    return np.stack([(k % g + 0.5) * stride, (k // g + 0.5) * stride], axis=1).astype(np.float32)


def gfl_distances(box_logits: np.ndarray, stride: int) -> np.ndarray:
    """(N, 4 * (REG_MAX + 1)) logits -> (N, 4) distances left, top, right, bottom in pixels."""
    z = box_logits.reshape(-1, 4, REG_MAX + 1).astype(np.float32)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    z /= z.sum(axis=-1, keepdims=True)
    return (z @ np.arange(REG_MAX + 1, dtype=np.float32)) * stride


class NanoDet:
    """The built ``nanodet-m`` model (one onnxruntime session; ``detect`` is thread-safe).

    ``input_size``: the square network input, a multiple of 32 (trained at 416; the ONNX file our
    setup makes accepts any size, smaller is faster and finds fewer small objects)."""

    def __init__(self, path: Path | str, num_threads: int | None = None, input_size: int = INPUT_SIZE) -> None:
        self.path = Path(path)
        self.session = onnx_session(path, default_num_threads() if num_threads is None else num_threads)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.fixed_size = inp.shape[2] if isinstance(inp.shape[2], int) else None
        """The only input size a static ONNX file takes (None: any size)."""
        self.input_size = self._check_size(input_size)
        channels = {int(o.shape[2]) for o in self.session.get_outputs()}
        if len(self.session.get_outputs()) != 2 * len(STRIDES) or channels != {len(COCO80_LABELS), 4 * (REG_MAX + 1)}:
            raise ValueError(f"{self.path.name}: expected {len(STRIDES)} score (80) and box (44) outputs")
        self._centres: dict[tuple[int, int], np.ndarray] = {}

    def _check_size(self, size: int) -> int:
        size = int(size)
        if size < 32 or size % 32:
            raise ValueError(f"NanoDet's input size must be a multiple of 32, not {size}.")
        if self.fixed_size is not None and size != self.fixed_size:
            raise ValueError(f"{self.path.name} only takes {self.fixed_size}x{self.fixed_size} inputs; "
                             f"delete it and run `cvlab prefetch nanodet-m` to make the any-size file.")
        return size

    def centres(self, stride: int, size: int) -> np.ndarray:
        """Cached :func:`cell_centres` for one stride and input size."""
        key = (stride, size)
        if key not in self._centres:
            self._centres[key] = cell_centres(stride, size)
        return self._centres[key]

    def __repr__(self) -> str:
        return f"NanoDet({self.path.name})"

    def raw(self, x: np.ndarray) -> list[np.ndarray]:
        """Run the network on a preprocessed (1, 3, S, S) batch; the six outputs in file order."""
        return self.session.run(None, {self.input_name: x})

    @staticmethod
    def by_stride(outs: list[np.ndarray], size: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """stride -> (scores (N, 80), box logits (N, 44)), matched by shape (N = (size / stride)^2)."""
        cells = {(size // s) ** 2: s for s in STRIDES}
        found: dict[int, dict[int, np.ndarray]] = {s: {} for s in STRIDES}
        for o in outs:
            found[cells[o.shape[1]]][o.shape[2]] = o[0]
        return {s: (f[len(COCO80_LABELS)], f[4 * (REG_MAX + 1)]) for s, f in found.items()}

    def detect(self, rgb: np.ndarray, score_threshold: float = 0.35, iou_threshold: float = 0.5,
               floor: float = 0.1, max_candidates: int = 100, input_size: int | None = None) -> Detections:
        """Detect COCO-80 objects in an RGB uint8 (H, W, 3) image of any size (see the module
        docstring). Other image arrays (grey, RGBA, float) are converted; a wrong shape raises
        :class:`core.image.ImageError` with one sentence. ``input_size`` overrides the network
        input size of this call (see :class:`NanoDet`)."""
        size = self.input_size if input_size is None else self._check_size(input_size)
        timings = Timings()
        with timings.stage("preprocess"):
            if not (isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8 and rgb.ndim == 3
                    and rgb.shape[2] == 3):
                rgb = array_to_rgb(rgb)
            h, w = rgb.shape[:2]
            if h < 1 or w < 1:
                raise ValueError("The image is empty (0 pixels).")
            x = preprocess(rgb, size)
        with timings.stage("model"):
            outs = self.by_stride(self.raw(x), size)
        with timings.stage("decode"):
            floor = min(float(floor), float(score_threshold))
            boxes, scores, classes, seconds = [], [], [], []
            for stride in STRIDES:
                sc, box_logits = outs[stride]
                cells, cls = np.nonzero(sc >= floor)
                if cells.size == 0:
                    continue
                uniq, row = np.unique(cells, return_inverse=True)  # decode each cell's box once
                d = gfl_distances(box_logits[uniq], stride)[row]
                ctr = self.centres(stride, size)[cells]
                boxes.append(np.concatenate([ctr - d[:, :2], ctr + d[:, 2:]], axis=1))
                scores.append(sc[cells, cls])
                classes.append(cls)
                seconds.append(runner_up(sc[cells], cls))
            if not scores:
                return Detections.empty(timings)
            boxes_a = np.concatenate(boxes).astype(np.float32)
            scores_a = np.concatenate(scores).astype(np.float32)
            classes_a = np.concatenate(classes).astype(np.int64)
            second_a = np.concatenate(seconds)
            order = np.argsort(-scores_a, kind="stable")[:NMS_PRE]
            boxes_a, scores_a, classes_a, second_a = boxes_a[order], scores_a[order], classes_a[order], second_a[order]
            boxes_a *= np.array([w, h, w, h], np.float32) / size
            boxes_a[:, [0, 2]] = boxes_a[:, [0, 2]].clip(0, w)
            boxes_a[:, [1, 3]] = boxes_a[:, [1, 3]].clip(0, h)
            kept, by, ious = select(boxes_a, scores_a, classes_a, score_threshold, iou_threshold)
            idx, reasons = reported(kept, by, ious, scores_a, classes_a, score_threshold, max_candidates)
        return Detections(boxes_a[idx], scores_a[idx], classes_a[idx], kept[idx], tuple(reasons),
                          COCO80_LABELS, timings, second_a[idx, 0].astype(np.int64),
                          second_a[idx, 1].astype(np.float32))


def reported(kept: np.ndarray, by: np.ndarray, ious: np.ndarray, scores: np.ndarray, class_ids: np.ndarray,
             score_threshold: float, max_candidates: int) -> tuple[np.ndarray, list[str]]:
    """Which candidates to report (at most ``max_candidates``: every kept one first, then the best
    dropped ones; indices in ascending order) and each one's reason (see :class:`Detections`), from
    :func:`select`'s outputs over all N candidates."""
    limit = max(0, int(max_candidates))
    keep_idx = np.flatnonzero(kept)[:limit]
    drop_idx = np.flatnonzero(~kept)[: limit - len(keep_idx)]
    idx = np.sort(np.concatenate([keep_idx, drop_idx]))
    new_index = {int(old): i for i, old in enumerate(idx)}
    reasons = []
    for i in idx:
        if kept[i]:
            reasons.append("kept")
        elif by[i] < 0:
            reasons.append(f"score {scores[i]:.2f} < {score_threshold:.2f}")
        else:
            k = int(by[i])
            reasons.append(f"overlaps #{new_index[k]} {COCO80_LABELS[class_ids[k]]} "
                           f"{scores[k]:.2f} (IoU {ious[i]:.2f})")
    return idx, reasons


def runner_up(cell_scores: np.ndarray, class_ids: np.ndarray) -> np.ndarray:
    """(M, 2) float64: for candidate m (a grid cell's ``cell_scores[m]``, (80,) in [0, 1], proposing
    class ``class_ids[m]``), the best other class at that cell and its score."""
    other = cell_scores.astype(np.float64, copy=True)
    rows = np.arange(len(class_ids))
    other[rows, class_ids] = -1.0
    best = other.argmax(axis=1)
    return np.stack([best.astype(np.float64), other[rows, best]], axis=1)


def select(boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, score_threshold: float,
           iou_threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score threshold, then greedy NMS per class, on candidates sorted by descending score.

    Returns ``kept`` (N,) bool; ``by`` (N,) int64: for a candidate dropped by NMS the index of the
    kept candidate of its class that it overlaps most, else -1; ``iou`` (N,) float32: that IoU."""
    n = len(scores)
    kept = np.zeros(n, bool)
    by = np.full(n, -1, np.int64)
    iou = np.zeros(n, np.float32)
    kept_by_class: dict[int, list[int]] = {}
    for i in np.flatnonzero(scores >= score_threshold):
        same = kept_by_class.setdefault(int(class_ids[i]), [])
        if same:
            ious = iou_one_to_many(boxes[i], boxes[same])
            j = int(np.argmax(ious))
            if ious[j] > iou_threshold:
                by[i], iou[i] = same[j], ious[j]
                continue
        same.append(int(i))
        kept[i] = True
    return kept, by, iou
