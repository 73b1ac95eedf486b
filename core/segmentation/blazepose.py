"""Multi-person BlazePose on LiteRT: detect every person, crop each one, landmark + mask each.

The bundled person engine of CV Lab, over three MediaPipe files (Apache-2.0, shipped in the
``mediapipe==0.10.21`` wheel; mediapipe itself is never imported):

* ``pose_detection.tflite``: an SSD-style detector on the letterboxed 224x224 image. Each
  detection is a (head) box, a score and 4 alignment points: 0 = hip centre, 1 = a point above
  the head whose distance from the hips gives the body's scale and whose direction its rotation,
  2 = shoulder centre, 3 = upper-body point.
* ``pose_landmark_full.tflite``: run once per detected person on a rotated square crop (256x256)
  centred on the hips; gives 33 body landmarks (+6 auxiliary), a pose flag and a 256x256 person mask.
* ``selfie_segmentation.tflite``: a whole-image person probability (portrait model).

The constants (anchors, letterbox, decoding, ROI rule) follow MediaPipe's graph files
(``pose_detection_cpu.pbtxt``, ``pose_landmark_*.pbtxt``) as recorded in docs/models.md.

Public API (all coordinates are pixels of the input image, x right, y down):

* :func:`detect_people` -> :class:`PersonDetections` (boxes, scores, 4 alignment points)
* :func:`selfie_mask` -> (H, W) float32 person probability
* :func:`people` -> list of :class:`Person` (box, score, 33 keypoints, mask probability, ROI)

LiteRT interpreters are not thread-safe: every model object holds a lock around ``invoke``, so
concurrent requests (Gradio runs callbacks on worker threads) are safe; they are serialised per model.
"""
from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from core.boxes import iou_one_to_many, mask_box
from core.numeric import sigmoid
from core.segmentation.coco import COCO17_KEYPOINT_NAMES, COCO17_SKELETON  # noqa: F401  (re-exported)

# --------------------------------------------------------------------------- constants
DETECTOR_SIZE = 224
DETECTOR_STRIDES = (8, 16, 32, 32, 32)
DETECTOR_ANCHORS_PER_CELL = 2
DETECTOR_NMS_IOU = 0.3
DETECTOR_SCORE_CLIP = 100.0
LANDMARK_SIZE = 256
ROI_SCALE = 1.25            # square side = 2 * |kp1 - kp0| * ROI_SCALE
POSE_FLAG_MIN = 0.5         # landmark model's "a person is in this crop" threshold
TILE_ASPECT = 1.5           # images at least this elongated are also searched in square tiles
TILE_MAX = 8                # at most this many tiles (a stranger's 16000x16 photo must not cost 400 runs)
TILE_MIN_SIDE = 64          # no tiles thinner than this: nobody fits in them, the detector sees 224 px
TILE_MIN_SCORE = 0.7        # a person found only in a tile needs this detector score ...
TILE_POSE_FLAG_MIN = 0.9    # ... and this pose flag (zoomed-in tiles make the detector trigger-happy)
SELFIE_SIZE = 256
NUM_LANDMARKS = 33

ALIGNMENT_POINT_NAMES = ("hip_center", "body_scale_point", "shoulder_center", "upper_body_point")

BLAZEPOSE_KEYPOINT_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)
"""BlazePose's 33 landmarks, in the model's order ("left" = the person's left)."""

BLAZEPOSE_SKELETON: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)
"""MediaPipe's POSE_CONNECTIONS."""

BLAZEPOSE_TO_COCO17 = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
"""Index into the 33 BlazePose landmarks for each of COCO's 17 keypoints."""


def default_num_threads() -> int:
    """Threads per interpreter: half the cores, 1 to 4 (``CVLAB_TFLITE_THREADS`` overrides).

    The app serves two requests at once and each person needs two models in a row; on a 2-core
    machine one thread per interpreter is as fast as two when the machine is busy and leaves a core
    to the other request (docs/decisions.md).
    """
    env = os.environ.get("CVLAB_TFLITE_THREADS")
    if env:
        return max(1, int(env))
    from core.config import usable_cpus

    return max(1, min(4, usable_cpus() // 2))


# --------------------------------------------------------------------------- model wrapper
class TFLiteModel:
    """One LiteRT interpreter plus a lock; ``run(x)`` returns every output by tensor name.

    Outputs are copied out of the interpreter before the lock is released, so callers may keep
    them while another thread runs the model.
    """

    def __init__(self, path: str | Path, num_threads: int | None = None) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        self._interpreter = Interpreter(model_path=str(path), num_threads=num_threads or default_num_threads())
        self._interpreter.allocate_tensors()
        inp = self._interpreter.get_input_details()[0]
        self.input_index = inp["index"]
        self.input_shape = tuple(int(s) for s in inp["shape"])
        self.outputs = {d["name"]: d["index"] for d in self._interpreter.get_output_details()}
        self._lock = threading.Lock()

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        x = np.ascontiguousarray(x, dtype=np.float32).reshape(self.input_shape)
        with self._lock:
            self._interpreter.set_tensor(self.input_index, x)
            self._interpreter.invoke()
            return {name: self._interpreter.get_tensor(i).copy() for name, i in self.outputs.items()}

    def __repr__(self) -> str:
        return f"TFLiteModel({self.path.name}, input={self.input_shape})"


def build_tflite(paths: list[Path], device: str = "cpu") -> TFLiteModel:
    """Registry ``build`` for the three bundled files (LiteRT runs on the CPU whatever ``device``)."""
    return TFLiteModel(paths[0])


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class PersonDetections:
    """Output of the BlazePose detector after NMS, in image pixels.

    Attributes:
        boxes: (N, 4) float32 [x0, y0, x1, y1]; the detector's box is around the head/face.
        scores: (N,) float32 in [0, 1].
        keypoints: (N, 4, 2) float32 alignment points (see ``ALIGNMENT_POINT_NAMES``).
    """

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray
    from_tile: np.ndarray | None = None
    """(N,) bool: True where the detection came from a square tile rather than the whole image."""

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    @property
    def tile_flags(self) -> np.ndarray:
        return np.zeros(len(self), bool) if self.from_tile is None else self.from_tile

    @classmethod
    def empty(cls) -> "PersonDetections":
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 4, 2), np.float32),
                   np.zeros(0, bool))


@dataclass(frozen=True)
class Roi:
    """A rotated square region of the image: centre (pixels), side (pixels), rotation (radians).

    ``rotation`` turns the crop so the body points up: a crop offset (dx, dy) maps to the image
    offset ``R(rotation) @ (dx, dy)`` with ``R = [[cos, -sin], [sin, cos]]`` (y down).
    """

    cx: float
    cy: float
    size: float
    rotation: float

    def crop_to_image(self, crop_size: int = LANDMARK_SIZE) -> np.ndarray:
        """(2, 3) float64 affine mapping crop pixel coordinates to image pixel coordinates."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        k = self.size / crop_size
        a = np.array([[c * k, -s * k], [s * k, c * k]])
        t = np.array([self.cx, self.cy]) - a @ np.array([crop_size / 2.0, crop_size / 2.0])
        return np.hstack([a, t[:, None]])

    def image_to_crop(self, crop_size: int = LANDMARK_SIZE) -> np.ndarray:
        """(2, 3) inverse of :meth:`crop_to_image`."""
        return cv2.invertAffineTransform(self.crop_to_image(crop_size))

    def corners(self) -> np.ndarray:
        """(4, 2) image coordinates of the square's corners (top-left, top-right, ...)."""
        m = self.crop_to_image(1)
        pts = np.array([[0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], float)
        return (pts @ m.T).astype(np.float32)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (float(self.cx), float(self.cy), float(self.size), float(self.rotation))


@dataclass(frozen=True, eq=False)
class Person:
    """One person found by :func:`people`.

    Attributes:
        box: (4,) float32 [x0, y0, x1, y1] around the person's mask (or keypoints if the mask
            is empty), clipped to the image.
        score: detector score in [0, 1].
        keypoints: (33, 3) float32 (x, y, visibility in [0, 1]) in BlazePose order.
        mask: (H, W) float32 person probability in [0, 1] (0 outside this person's crop).
        roi: the rotated crop the landmark model saw.
        presence: the landmark model's pose flag in [0, 1].
        detector_box: (4,) the detector's (head) box; alignment: (4, 2) the detector's points.
        crop: (256, 256, 3) uint8 the crop given to the landmark model (for teaching views).
        next_roi: where to look for this person in the next video frame.
        tracked: True when the crop came from the previous frame rather than the detector.
    """

    box: np.ndarray
    score: float
    keypoints: np.ndarray
    mask: np.ndarray
    roi: Roi
    presence: float = 1.0
    detector_box: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))
    alignment: np.ndarray = field(default_factory=lambda: np.zeros((4, 2), np.float32))
    crop: np.ndarray | None = None
    next_roi: Roi | None = None
    tracked: bool = False

    @property
    def coco_keypoints(self) -> np.ndarray:
        """(17, 3) the keypoints in COCO order."""
        return self.keypoints[list(BLAZEPOSE_TO_COCO17)]


# --------------------------------------------------------------------------- detector
@lru_cache(maxsize=1)
def detector_anchors() -> np.ndarray:
    """(2254, 2) anchor centres in [0, 1] (SSD anchors, fixed size 1, equal strides share a grid)."""
    centres = []
    i = 0
    strides = DETECTOR_STRIDES
    while i < len(strides):
        j = i
        n = 0
        while j < len(strides) and strides[j] == strides[i]:
            n += DETECTOR_ANCHORS_PER_CELL
            j += 1
        fm = math.ceil(DETECTOR_SIZE / strides[i])
        ys, xs = np.meshgrid((np.arange(fm) + 0.5) / fm, (np.arange(fm) + 0.5) / fm, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, n, axis=0))
        i = j
    return np.concatenate(centres).astype(np.float32)


def letterbox(rgb: np.ndarray, size: int = DETECTOR_SIZE) -> tuple[np.ndarray, float, float, float]:
    """Resize keeping aspect, centre on a black square. Returns (square uint8, scale, pad_x, pad_y)."""
    h, w = rgb.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_LINEAR)  # bilinear, as MediaPipe
    out = np.zeros((size, size, 3), np.uint8)
    px, py = (size - nw) // 2, (size - nh) // 2
    out[py:py + nh, px:px + nw] = resized
    return out, scale, float(px), float(py)


def weighted_nms(boxes: np.ndarray, points: np.ndarray, scores: np.ndarray,
                 iou: float = DETECTOR_NMS_IOU) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's WEIGHTED non-max suppression: each group overlapping the best remaining box
    (IoU > ``iou``) becomes one detection whose box and points are the score-weighted average
    of the group and whose score is the best one."""
    order = np.argsort(-scores)
    boxes, points, scores = boxes[order], points[order], scores[order]
    remaining = np.arange(len(scores))
    out_b, out_p, out_s = [], [], []
    while remaining.size:
        first = remaining[0]
        overlaps = iou_one_to_many(boxes[first], boxes[remaining])
        group = remaining[overlaps > iou]
        if group.size == 0:
            group = remaining[:1]
        w = scores[group][:, None]
        out_b.append((boxes[group] * w).sum(0) / w.sum())
        out_p.append((points[group].reshape(len(group), -1) * w).sum(0).reshape(-1, 2) / w.sum())
        out_s.append(scores[first])
        remaining = remaining[overlaps <= iou]
    if not out_s:
        return np.zeros((0, 4), np.float32), np.zeros((0, 4, 2), np.float32), np.zeros(0, np.float32)
    return (np.array(out_b, np.float32), np.array(out_p, np.float32), np.array(out_s, np.float32))


def detect_people(rgb: np.ndarray, detector: TFLiteModel | None = None,
                  min_score: float = 0.5) -> PersonDetections:
    """Run the BlazePose person detector on an RGB uint8 (H, W, 3) image.

    Returns every detection with score >= ``min_score`` after weighted NMS (IoU 0.3), sorted by
    score, in image pixels.
    """
    if detector is None:
        from core import models

        detector = models.load("blazepose-detector")
    h, w = rgb.shape[:2]
    square, scale, px, py = letterbox(rgb)
    x = square.astype(np.float32) * (1 / 127.5) - 1.0
    out = detector.run(x[None])
    raw = out["Identity"].reshape(-1, 12)
    logits = out["Identity_1"].reshape(-1)
    scores = sigmoid(np.clip(logits, -DETECTOR_SCORE_CLIP, DETECTOR_SCORE_CLIP))
    keep = np.flatnonzero(scores >= min_score)
    if keep.size == 0:
        return PersonDetections.empty()
    anchors = detector_anchors()[keep]
    vals = raw[keep] / DETECTOR_SIZE
    cx = vals[:, 0] + anchors[:, 0]
    cy = vals[:, 1] + anchors[:, 1]
    bw, bh = vals[:, 2], vals[:, 3]
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
    pts = vals[:, 4:12].reshape(-1, 4, 2) + anchors[:, None, :]
    boxes, pts, sc = weighted_nms(boxes, pts, scores[keep].astype(np.float32))
    # undo the letterbox: [0, 1] square coordinates -> image pixels
    boxes = (boxes * DETECTOR_SIZE - np.array([px, py, px, py], np.float32)) / scale
    pts = (pts * DETECTOR_SIZE - np.array([px, py], np.float32)) / scale
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
    return PersonDetections(boxes.astype(np.float32), sc.astype(np.float32), pts.astype(np.float32))


def tile_origins(height: int, width: int, aspect: float = TILE_ASPECT) -> list[tuple[int, int, int]]:
    """Square tiles (x0, y0, side) along the long side of an elongated image, overlapping by at
    least a quarter; none when the image is less elongated than ``aspect`` or its short side is under
    ``TILE_MIN_SIDE`` px. At most ``TILE_MAX`` tiles, spread over the whole length (beyond about
    6:1 they no longer overlap)."""
    side, long = min(height, width), max(height, width)
    if long < aspect * side or side < TILE_MIN_SIDE:
        return []
    n = min(TILE_MAX, math.ceil((long - side) / (0.75 * side)) + 1)
    starts = np.linspace(0, long - side, n).round().astype(int)
    return [(int(s), 0, side) if width >= height else (0, int(s), side) for s in starts]


def _greedy_nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    order = list(np.argsort(-scores))
    keep: list[int] = []
    while order:
        i = order.pop(0)
        keep.append(int(i))
        if order:
            ov = iou_one_to_many(boxes[i], boxes[order])
            order = [j for j, o in zip(order, ov) if o <= iou]
    return keep


def detect_people_tiled(rgb: np.ndarray, detector: TFLiteModel | None = None, min_score: float = 0.5,
                        *, tiles: bool | None = None,
                        tile_min_score: float = TILE_MIN_SCORE) -> PersonDetections:
    """:func:`detect_people` on the whole image, plus on square tiles of an elongated image.

    The detector sees a letterboxed 224x224 image, so in a wide group photo each person is small
    and easily missed. Tiles zoom in; a detection found only in a tile must score at least
    ``tile_min_score`` and is marked in ``from_tile`` (the landmark stage checks it again). Head
    boxes overlapping by IoU > 0.3 are one person (the higher score wins).
    ``tiles``: None = automatic (images at least 1.5 times longer than wide), True/False = force.
    """
    if detector is None:
        from core import models

        detector = models.load("blazepose-detector")
    full = detect_people(rgb, detector, min_score)
    h, w = rgb.shape[:2]
    origins = tile_origins(h, w) if tiles is None else (tile_origins(h, w, 1.0) if tiles else [])
    if not origins:
        return PersonDetections(full.boxes, full.scores, full.keypoints, np.zeros(len(full), bool))
    boxes, scores, pts, flags = [full.boxes], [full.scores], [full.keypoints], [np.zeros(len(full), bool)]
    for x0, y0, side in origins:
        part = detect_people(rgb[y0:y0 + side, x0:x0 + side], detector, max(min_score, tile_min_score))
        boxes.append(part.boxes + np.array([x0, y0, x0, y0], np.float32))
        pts.append(part.keypoints + np.array([x0, y0], np.float32))
        scores.append(part.scores)
        flags.append(np.ones(len(part), bool))
    boxes_a, scores_a, pts_a, flags_a = (np.concatenate(boxes), np.concatenate(scores),
                                         np.concatenate(pts), np.concatenate(flags))
    # the whole-image detection of a person wins over a tile's (tiles may cut the body)
    rank = scores_a + np.where(flags_a, 0.0, 1.0)
    keep = _greedy_nms(boxes_a, rank, DETECTOR_NMS_IOU)
    keep.sort(key=lambda i: -scores_a[i])
    return PersonDetections(boxes_a[keep], scores_a[keep], pts_a[keep], flags_a[keep])


def roi_from_alignment(points: np.ndarray) -> Roi:
    """MediaPipe's AlignmentPointsRects + RectTransformation rule for the landmark crop.

    Centre = hip centre (point 0); side = 2 * |p1 - p0| * 1.25; rotation so that p0 -> p1 points up.
    """
    (x0, y0), (x1, y1) = points[0], points[1]
    size = 2.0 * math.hypot(x1 - x0, y1 - y0) * ROI_SCALE
    rotation = math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)
    rotation = (rotation + math.pi) % (2 * math.pi) - math.pi
    return Roi(float(x0), float(y0), float(max(size, 1.0)), float(rotation))


def roi_from_box(box) -> Roi:
    """An upright square crop around a whole-body box (x0, y0, x1, y1 pixels, e.g. from another
    detector): centred on the box, side = its longer side * 1.25 (the margin MediaPipe's ROI rule
    leaves), no rotation. The landmark model then gives keypoints, mask and pose flag for it."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0, y1 - y0, 1.0) * ROI_SCALE
    return Roi((x0 + x1) / 2.0, (y0 + y1) / 2.0, side, 0.0)


# --------------------------------------------------------------------------- landmarks
def crop_roi(rgb: np.ndarray, roi: Roi, size: int = LANDMARK_SIZE) -> np.ndarray:
    """(size, size, 3) uint8 rotated crop (borders replicate the edge, as MediaPipe's CPU path)."""
    return cv2.warpAffine(rgb, roi.image_to_crop(size), (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def landmark_person(rgb: np.ndarray, roi: Roi, model: TFLiteModel, *,
                    with_mask: bool = True) -> tuple[np.ndarray, float, np.ndarray | None, np.ndarray, Roi]:
    """Run the landmark model on one ROI.

    Returns ``(keypoints (33, 3) image pixels + visibility, pose flag, mask (H, W) float32 or None,
    crop (256, 256, 3) uint8, next ROI)``. The next ROI comes from the two auxiliary landmarks
    (33 = hip centre, 34 = body scale point) by the detector's rule: MediaPipe's way to follow a
    person in video without running the detector again.
    """
    crop = crop_roi(rgb, roi)
    out = model.run((crop.astype(np.float32) * (1 / 255.0))[None])
    all_lm = out["Identity"].reshape(-1, 5)
    lm = all_lm[:NUM_LANDMARKS]
    flag = float(out["Identity_1"].reshape(-1)[0])
    m = roi.crop_to_image(LANDMARK_SIZE)
    aux = all_lm[NUM_LANDMARKS:NUM_LANDMARKS + 2, :2] @ m[:, :2].T + m[:, 2]
    next_roi = roi_from_alignment(aux.astype(np.float32))
    xy = lm[:, :2] @ m[:, :2].T + m[:, 2]
    vis = sigmoid(lm[:, 3])  # MediaPipe's visibility (presence, lm[:, 4], is "inside the crop")
    kps = np.concatenate([xy, vis[:, None]], axis=1).astype(np.float32)
    mask = None
    if with_mask:
        logits = out["Identity_2"].reshape(LANDMARK_SIZE, LANDMARK_SIZE)
        prob = sigmoid(logits).astype(np.float32)
        h, w = rgb.shape[:2]
        mask = cv2.warpAffine(prob, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=0.0)
    return kps, flag, mask, crop, next_roi


def box_from(mask: np.ndarray | None, kps: np.ndarray, w: int, h: int) -> np.ndarray:
    """(4,) float32 x0, y0, x1, y1 pixels of a person: around ``mask`` > 0.5 ((H, W) float
    probability), or, with no mask or an empty one, around the (33, 3) keypoints that are visible
    (all of them when none is), clipped to the ``w`` x ``h`` image."""
    box = None if mask is None else mask_box(mask > 0.5)
    if box is not None:
        return box
    good = kps[kps[:, 2] > 0.5][:, :2]
    if not len(good):
        good = kps[:, :2]
    x0, y0 = good.min(0)
    x1, y1 = good.max(0)
    return np.array([max(0, x0), max(0, y0), min(w, x1), min(h, y1)], np.float32)


def keypoint_overlap(a: np.ndarray, b: np.ndarray, scale: float) -> float:
    """Share of jointly visible keypoints lying within 10% of the body scale of each other."""
    both = (a[:, 2] > 0.5) & (b[:, 2] > 0.5)
    if both.sum() < 4:
        return 0.0
    d = np.hypot(*(a[both, :2] - b[both, :2]).T)
    return float((d < 0.1 * scale).mean())


@dataclass(frozen=True)
class TrackedRoi:
    """A person followed from the previous video frame: where to look, and their detector score."""

    roi: Roi
    score: float
    detector_box: np.ndarray
    alignment: np.ndarray


def _roi_overlap(a: Roi, b: Roi) -> float:
    """IoU of the axis-aligned squares around two ROIs' centres (rotation ignored)."""
    ha, hb = a.size / 2, b.size / 2
    box_a = np.array([a.cx - ha, a.cy - ha, a.cx + ha, a.cy + ha], np.float32)
    box_b = np.array([[b.cx - hb, b.cy - hb, b.cx + hb, b.cy + hb]], np.float32)
    return float(iou_one_to_many(box_a, box_b)[0])


def people(rgb: np.ndarray, min_score: float = 0.5, *, with_masks: bool = True,
           keep_crops: bool = False, tiles: bool | None = None,
           detector: TFLiteModel | None = None, landmarker: TFLiteModel | None = None,
           max_people: int = 10, detections: PersonDetections | None = None,
           tracked: list[TrackedRoi] | None = None) -> list[Person]:
    """Every person in an RGB uint8 (H, W, 3) image: box, score, 33 keypoints, mask, ROI.

    Detect (:func:`detect_people_tiled`; ``tiles`` as there), then run the landmark model on
    each person's rotated crop. Crops whose pose flag is below 0.5 (0.9 for tile-only
    detections) are dropped, and a second detection of the same body (most jointly visible
    keypoints within 10% of the body scale) is dropped in favour of the better one. The order is
    by detector score. Pass ``detections`` to reuse a detector result.

    Video: ``tracked`` ROIs (from the previous frame's :attr:`Person.next_roi`) are used for the
    people that no detection in ``detections`` covers (a fresh detection resets a followed crop's
    drift). With ``tracked`` given and ``detections`` None, the detector does not run at all.
    """
    from core import models

    detector = detector or models.load("blazepose-detector")
    landmarker = landmarker or models.load("blazepose-landmark")
    h, w = rgb.shape[:2]
    if detections is None and tracked is None:
        detections = detect_people_tiled(rgb, detector, min_score, tiles=tiles)
    dets = detections if detections is not None else PersonDetections.empty()
    # candidates: (roi, score, detector box, alignment, minimum pose flag, tracked?)
    cands = []
    tile_flags = dets.tile_flags
    for i in range(len(dets)):
        cands.append((roi_from_alignment(dets.keypoints[i]), float(dets.scores[i]), dets.boxes[i],
                      dets.keypoints[i], TILE_POSE_FLAG_MIN if tile_flags[i] else POSE_FLAG_MIN, False))
    for t in tracked or []:
        # a fresh detection of the same person wins (it resets any drift of the followed crop);
        # a followed person the detector missed this frame is kept
        if not any(_roi_overlap(t.roi, c[0]) > 0.3 for c in cands if not c[5]):
            cands.append((t.roi, t.score, t.detector_box, t.alignment, POSE_FLAG_MIN, True))
    found: list[Person] = []
    for roi, score, det_box, alignment, flag_min, was_tracked in cands:
        if len(found) >= max_people:
            break
        kps, flag, mask, crop, next_roi = landmark_person(rgb, roi, landmarker, with_mask=with_masks)
        if flag < flag_min:
            continue
        if any(keypoint_overlap(kps, p.keypoints, p.roi.size / (2 * ROI_SCALE)) > 0.5 for p in found):
            continue
        found.append(Person(
            box=box_from(mask, kps, w, h), score=float(score), keypoints=kps,
            mask=mask if mask is not None else np.zeros((h, w), np.float32), roi=roi, presence=flag,
            detector_box=np.asarray(det_box, np.float32), alignment=np.asarray(alignment, np.float32),
            crop=crop if keep_crops else None, next_roi=next_roi, tracked=was_tracked,
        ))
    found.sort(key=lambda p: -p.score)
    return found


# --------------------------------------------------------------------------- selfie
def selfie_mask(rgb: np.ndarray, model: TFLiteModel | None = None) -> np.ndarray:
    """(H, W) float32 person probability over the whole image from the selfie model.

    A portrait model: it marks animals and furniture as "person" too, so gate it with
    :func:`detect_people` before trusting it.
    """
    if model is None:
        from core import models

        model = models.load("mediapipe-selfie")
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (SELFIE_SIZE, SELFIE_SIZE), interpolation=cv2.INTER_AREA)
    out = model.run((small.astype(np.float32) / 255.0)[None])
    prob = next(iter(out.values())).reshape(SELFIE_SIZE, SELFIE_SIZE)
    if prob.min() < 0 or prob.max() > 1:  # logits in some versions of the file
        prob = sigmoid(prob)
    return cv2.resize(prob.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR).clip(0, 1)
