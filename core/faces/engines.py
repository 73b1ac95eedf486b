"""The face models behind ``core.faces.pipeline``: detectors and embedders, built by the registry.

Detectors return, for an RGB uint8 (H, W, 3) image, ``boxes`` (N, 4) float32
[x0, y0, x1, y1] pixels, ``scores`` (N,) float32 and ``landmarks`` (N, 5, 2)
float32 (x, y) pixels in this order: the eye on the image's left, the eye on the
image's right, nose tip, mouth corner on the left, mouth corner on the right
(YuNet's and MTCNN's common order).

Embedders turn those 5 points into an aligned crop (``align``: RGB uint8 S x S)
and crops into L2-normalised float32 rows (``embed``).

OpenCV's ``FaceDetectorYN`` keeps the input size as state and neither it nor
``FaceRecognizerSF`` is documented thread-safe, so a call borrows an instance from a
small pool (:class:`InstancePool`, at most ``POOL_SIZE`` instances, created on demand):
no instance is ever used by two threads at once, and a web server's many worker
threads do not each load their own copy. MTCNN runs with one torch thread (it is several
times faster so on 2 cores) and restores the previous setting afterwards; a lock
keeps two requests from interleaving those settings.

Nothing here loads anything at import time; the registry calls the constructors.
"""
from __future__ import annotations

import contextlib
import queue
import threading
from pathlib import Path

import numpy as np

from core.config import usable_cpus

ARCFACE_TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    np.float32,
)
"""Where the 5 landmarks land in a 112 x 112 aligned crop (ArcFace / InsightFace; SFace's alignCrop
uses the same points)."""


def similarity_align(rgb: np.ndarray, landmarks: np.ndarray, size: int) -> np.ndarray:
    """Warp ``rgb`` with the similarity transform (rotation, uniform scale, shift) that best maps the
    5 ``landmarks`` (5, 2) onto the ArcFace template scaled to ``size``; returns (size, size, 3) uint8."""
    import cv2

    dst = ARCFACE_TEMPLATE_112 * (size / 112.0)
    matrix, _ = cv2.estimateAffinePartial2D(np.asarray(landmarks, np.float32).reshape(5, 2), dst,
                                            method=cv2.LMEDS)
    if matrix is None:  # degenerate points (all equal): centre crop instead of failing
        matrix = np.array([[1, 0, 0], [0, 1, 0]], np.float32)
    return cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


POOL_SIZE = max(2, min(4, usable_cpus()))
"""Most OpenCV face-model instances kept per model (each call borrows one exclusively)."""
MIN_DETECT_SIDE = 16
"""YuNet is not run on images narrower than this (pixels, after resizing): no face fits there."""


class InstancePool:
    """Hands out objects made by ``factory`` one caller at a time; makes at most ``size`` of them."""

    def __init__(self, factory, size: int = POOL_SIZE) -> None:
        self._factory = factory
        self._size = size
        self._free: queue.LifoQueue = queue.LifoQueue()
        self._made = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def borrow(self):
        try:
            item = self._free.get_nowait()
        except queue.Empty:
            with self._lock:
                make = self._made < self._size
                if make:
                    self._made += 1
            if make:
                try:
                    item = self._factory()
                except BaseException:
                    with self._lock:
                        self._made -= 1
                    raise
            else:
                item = self._free.get()
        try:
            yield item
        finally:
            self._free.put(item)

    @property
    def made(self) -> int:
        return self._made


def _empty() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32)


# --------------------------------------------------------------------------- detectors
class YuNetDetector:
    """OpenCV Zoo's YuNet through ``cv2.FaceDetectorYN`` (instances borrowed from a pool).

    The image is downscaled so its longest side is at most ``max_side`` before detection
    (YuNet is fully convolutional; a 640-pixel side keeps faces of about 10 px and up),
    and the results are scaled back to the input's pixels.
    """

    name = "yunet"

    def __init__(self, path: Path, *, score_threshold: float = 0.6, nms_threshold: float = 0.3,
                 max_side: int = 640) -> None:
        self.path = str(path)
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.max_side = max_side
        self._pool = InstancePool(self._make)
        with self._pool.borrow():  # fail now (inside the registry's build) if the file is unusable
            pass

    def _make(self):
        import cv2

        det = cv2.FaceDetectorYN.create(self.path, "", (320, 320), self.score_threshold, self.nms_threshold, 5000)
        return [det, (320, 320)]

    def detect(self, rgb: np.ndarray, max_side: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``max_side`` overrides the working resolution (e.g. 320 for webcam frames with big faces)."""
        import cv2

        h, w = rgb.shape[:2]
        scale = min(1.0, (max_side or self.max_side) / max(h, w))
        img = rgb if scale >= 1.0 else cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                                                  interpolation=cv2.INTER_AREA)
        bgr = np.ascontiguousarray(img[:, :, ::-1])
        size = (bgr.shape[1], bgr.shape[0])
        if min(size) < MIN_DETECT_SIDE:  # e.g. a 3000x12 strip: YuNet returns NaN/inf rows there
            return _empty()
        with self._pool.borrow() as slot:
            det, current = slot
            if current != size:
                det.setInputSize(size)
                slot[1] = size
            _, rows = det.detect(bgr)
        if rows is None or not len(rows):
            return _empty()
        rows = rows.astype(np.float32)
        rows = rows[np.isfinite(rows).all(axis=1) & (rows[:, 2] >= 1) & (rows[:, 3] >= 1)]
        if not len(rows):
            return _empty()
        sx, sy = w / size[0], h / size[1]
        boxes = np.stack([rows[:, 0] * sx, rows[:, 1] * sy, (rows[:, 0] + rows[:, 2]) * sx,
                          (rows[:, 1] + rows[:, 3]) * sy], axis=1)
        landmarks = rows[:, 4:14].reshape(-1, 5, 2) * np.array([sx, sy], np.float32)
        return boxes.astype(np.float32), rows[:, 14].astype(np.float32), landmarks.astype(np.float32)


class MTCNNDetector:
    """facenet-pytorch's MTCNN (P-, R-, O-Net) with its bundled weights, run with 1 torch thread."""

    name = "mtcnn"
    _lock = threading.Lock()

    def __init__(self, paths: list[Path], device: str = "cpu", *, min_face_size: int = 20,
                 thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7), factor: float = 0.709,
                 max_side: int = 640) -> None:
        import torch
        from facenet_pytorch.models.mtcnn import ONet, PNet, RNet

        nets = []
        for cls, path in zip((PNet, RNet, ONet), paths):
            net = cls(pretrained=False)
            net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            nets.append(net.to(device).eval())
        self.pnet, self.rnet, self.onet = nets
        self.device = torch.device(device)
        self.min_face_size = min_face_size
        self.thresholds = list(thresholds)
        self.factor = factor
        self.max_side = max_side

    def detect(self, rgb: np.ndarray, max_side: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import cv2
        import torch
        from facenet_pytorch.models.utils.detect_face import detect_face

        h, w = rgb.shape[:2]
        scale = min(1.0, (max_side or self.max_side) / max(h, w))
        img = rgb if scale >= 1.0 else cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                                                  interpolation=cv2.INTER_AREA)
        with self._lock:
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                with torch.inference_mode():
                    boxes, points = detect_face(np.ascontiguousarray(img), self.min_face_size, self.pnet,
                                                self.rnet, self.onet, self.thresholds, self.factor, self.device)
            finally:
                torch.set_num_threads(before)
        boxes, points = np.asarray(boxes[0], np.float32), np.asarray(points[0], np.float32)
        if boxes.size == 0:
            return _empty()
        boxes = boxes.reshape(-1, 5)
        inv = 1.0 / scale
        return ((boxes[:, :4] * inv).astype(np.float32), boxes[:, 4].astype(np.float32),
                (points.reshape(-1, 5, 2) * inv).astype(np.float32))


# --------------------------------------------------------------------------- embedders
class SFaceEmbedder:
    """OpenCV Zoo's SFace through ``cv2.FaceRecognizerSF`` (instances borrowed from a pool).

    ``align`` is OpenCV's ``alignCrop`` (similarity transform of the 5 landmarks onto the
    ArcFace template, 112 x 112). ``feature`` expects OpenCV's usual BGR order (it swaps
    to RGB inside its blobFromImage), so crops are handed over as BGR.
    """

    name = "sface"
    size = 112
    dim = 128

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self._pool = InstancePool(self._make)
        with self._pool.borrow():
            pass

    def _make(self):
        import cv2

        return cv2.FaceRecognizerSF.create(self.path, "")

    def align(self, rgb: np.ndarray, box: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = (float(v) for v in box)
        row = np.concatenate([[x0, y0, x1 - x0, y1 - y0], np.asarray(landmarks, np.float32).reshape(10), [1.0]])
        with self._pool.borrow() as rec:
            crop = rec.alignCrop(rgb, row.astype(np.float32).reshape(1, 15))
        return np.ascontiguousarray(crop)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        out = np.zeros((len(crops), self.dim), np.float32)
        with self._pool.borrow() as rec:
            for i, crop in enumerate(crops):
                out[i] = rec.feature(np.ascontiguousarray(crop[:, :, ::-1])).reshape(-1)
        return l2_normalize(out)


class FaceNetEmbedder:
    """facenet-pytorch's InceptionResnetV1 (512-d) with weights loaded from a state-dict file.

    The architecture is built with ``pretrained=None`` (no download) and the file is read with
    ``weights_only=True``; the checkpoint's classifier (``logits.*``) is not needed for
    embeddings and is dropped. Crops are 160 x 160, aligned on the 5 landmarks, pixels
    standardised as ``(x - 127.5) / 128`` (facenet-pytorch's ``fixed_image_standardization``).
    """

    size = 160
    dim = 512

    def __init__(self, path: Path, device: str = "cpu", *, name: str = "facenet") -> None:
        import torch
        from facenet_pytorch import InceptionResnetV1

        self.name = name
        net = InceptionResnetV1(pretrained=None, classify=False)
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = {k: v for k, v in state.items() if not k.startswith("logits.")}
        net.load_state_dict(state)
        self.net = net.to(device).eval()
        self.device = torch.device(device)

    def align(self, rgb: np.ndarray, box: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        return similarity_align(rgb, landmarks, self.size)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        import torch

        if not len(crops):
            return np.zeros((0, self.dim), np.float32)
        x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float()
        x = ((x - 127.5) / 128.0).to(self.device)
        with torch.inference_mode():
            emb = self.net(x).cpu().numpy().astype(np.float32)
        return l2_normalize(emb)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)
