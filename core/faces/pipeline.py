"""Faces: detect, align, embed, verify, identify; the gallery maths lives in ``core.faces.gallery``.

Pipeline for an RGB uint8 (H, W, 3) image:

1. **detect** (``yunet`` by default, or ``mtcnn``): boxes, scores and 5 landmarks per face;
2. **align**: a similarity transform puts the eyes, nose and mouth corners where the
   embedding model expects them (SFace: OpenCV's ``alignCrop`` to 112 x 112);
3. **embed** (``sface`` by default, 128-d; ``facenet-*`` 512-d when downloaded): one
   L2-normalised vector per face;
4. **compare**: cosine similarity (= dot product of unit vectors) or the Euclidean
   distance sqrt(2 - 2 cos); each model's registry entry says which one its decision
   threshold is stated in (``meta["metric"]``, ``meta["threshold"]``, with its source).

"No face" is an empty :class:`~core.types.Faces`; functions that need a face raise
:class:`FaceError` (a ``ValueError``) with one plain sentence. Several faces: the
caller picks one (default: the largest). Tiny, cut-off or turned faces get a note.
"""
from __future__ import annotations

import time

import numpy as np

from core import models
from core.boxes import box_iou
from core.faces.gallery import (
    Gallery,
    GalleryError,
    GalleryMatch,
    accepts,
    cosine_to_distance,
    identify,
)
from core.tracking import greedy_match
from core.types import Faces, Match, Recognition, Timings, Verification

DEFAULT_DETECTOR = "yunet"
DEFAULT_EMBEDDER = "sface"
DETECTORS = ("yunet", "mtcnn")
EMBEDDERS = ("sface", "facenet-vggface2", "facenet-casia")

MIN_FACE_SIDE = 40
"""Faces whose box is smaller than this (pixels, shorter side) are flagged as too small to
recognise reliably; enrolment refuses them."""

LIVE_DETECT_SIDE = 320
"""Detector resolution for live webcam frames: faces in front of a webcam are large, and YuNet at
320x240 is about 4x faster than at 640x480 (it still finds faces of about 20 px in the frame)."""

MAX_FACES = 20
"""At most this many faces (the largest) are embedded per image."""


class FaceError(ValueError):
    """A face operation that cannot be done on this input; ``str(err)`` is for the user."""


# --------------------------------------------------------------------------- model metadata
def embedder_meta(embedder: str = DEFAULT_EMBEDDER) -> dict:
    """The embedding model's comparison rule: metric, threshold, threshold_source, dim, input_size."""
    spec = models.get(embedder)
    if spec.task != "face-embed":
        raise FaceError(f"'{embedder}' is not a face-embedding model (choose one of: {', '.join(EMBEDDERS)}).")
    return dict(spec.meta)


def _detector(name: str):
    spec = models.get(name)
    if spec.task != "face-detect":
        raise FaceError(f"'{name}' is not a face detector (choose one of: {', '.join(DETECTORS)}).")
    return models.load(name)


def _embedder(name: str):
    embedder_meta(name)
    return models.load(name)


# --------------------------------------------------------------------------- detection
def face_notes(boxes: np.ndarray, landmarks: np.ndarray, size: tuple[int, int]) -> list[str]:
    h, w = size
    notes = []
    for i, (box, lm) in enumerate(zip(boxes, landmarks), 1):
        side = float(min(box[2] - box[0], box[3] - box[1]))
        tag = f"Face {i}" if len(boxes) > 1 else "The face"
        if side < MIN_FACE_SIDE:
            notes.append(f"{tag} is only {side:.0f} px across: too small to recognise reliably "
                         f"(at least {MIN_FACE_SIDE} px works best).")
        if box[0] < -0.02 * w or box[1] < -0.02 * h or box[2] > 1.02 * w or box[3] > 1.02 * h:
            notes.append(f"{tag} is cut off by the image border; part of it is missing.")
        eye_dist = float(np.linalg.norm(lm[1] - lm[0]))
        eye_mid = (lm[0] + lm[1]) / 2
        turn = abs(float(lm[2, 0] - eye_mid[0])) / max(eye_dist, 1e-6)
        if eye_dist < 0.22 * max(box[2] - box[0], 1) or turn > 0.55:
            notes.append(f"{tag} seems turned to the side (profile); recognition works best on faces "
                         "looking at the camera.")
    return notes


def detect(rgb: np.ndarray, detector: str = DEFAULT_DETECTOR, *, min_score: float | None = None,
           max_side: int | None = None) -> Faces:
    """Find faces: boxes, scores and 5 landmarks (no crops, no embeddings yet).

    Args:
        rgb: (H, W, 3) uint8 RGB.
        detector: "yunet" or "mtcnn".
        min_score: drop detections scoring below this (default: the detector's own cut).
        max_side: the detector's working resolution (longest side, pixels; default its own, 640).
            Boxes are always in ``rgb``'s pixels. Smaller is faster but misses small faces.
    Returns:
        :class:`Faces`, largest first; empty when there is no face.
    """
    rgb = np.ascontiguousarray(rgb)
    timings = Timings()
    with timings.stage("load"):
        det = _detector(detector)
    with timings.stage("detect"):
        boxes, scores, landmarks = det.detect(rgb, max_side)
    if min_score is not None and len(scores):
        keep = scores >= min_score
        boxes, scores, landmarks = boxes[keep], scores[keep], landmarks[keep]
    if len(boxes):
        order = np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), kind="stable")
        boxes, scores, landmarks = boxes[order], scores[order], landmarks[order]
    notes = face_notes(boxes, landmarks, rgb.shape[:2])
    return Faces(boxes=boxes, scores=scores, landmarks=landmarks, image_size=rgb.shape[:2],
                 detector=detector, notes=tuple(notes), timings_ms=timings)


def embed_faces(rgb: np.ndarray, faces: Faces, embedder: str = DEFAULT_EMBEDDER,
                max_faces: int = MAX_FACES) -> Faces:
    """Align and embed the (up to ``max_faces`` largest) detected faces; returns a new :class:`Faces`
    with ``crops`` (N, S, S, 3) RGB and ``embeddings`` (N, D) unit rows."""
    timings = Timings(faces.timings_ms)
    notes = list(faces.notes)
    if len(faces) > max_faces:
        notes.append(f"{len(faces)} faces found; only the {max_faces} largest are compared.")
        faces = faces.subset(np.arange(max_faces))
    model = _embedder(embedder)
    with timings.stage("align"):
        crops = [model.align(rgb, b, lm) for b, lm in zip(faces.boxes, faces.landmarks)]
        crops = np.stack(crops) if crops else np.zeros((0, model.size, model.size, 3), np.uint8)
    with timings.stage("embed"):
        emb = model.embed(crops) if len(crops) else np.zeros((0, model.dim), np.float32)
    return Faces(boxes=faces.boxes, scores=faces.scores, landmarks=faces.landmarks,
                 image_size=faces.image_size, detector=faces.detector, crops=crops, embeddings=emb,
                 embedder=embedder, notes=tuple(notes), timings_ms=timings)


def analyze(rgb: np.ndarray, detector: str = DEFAULT_DETECTOR, embedder: str = DEFAULT_EMBEDDER,
            max_faces: int = MAX_FACES, detect_side: int | None = None) -> Faces:
    """detect + align + embed every face of an image (``detect_side``: see :func:`detect`)."""
    return embed_faces(rgb, detect(rgb, detector, max_side=detect_side), embedder, max_faces)


def pick_face(faces: Faces, index: int | None = None, what: str = "the photo") -> int:
    """Index of the face to use: ``index`` if given, else the largest. FaceError if none."""
    if not len(faces):
        raise FaceError(f"No face found in {what}. Try a photo where the face is larger, well lit and "
                        "looking at the camera.")
    if index is None:
        return faces.largest()
    if not 0 <= index < len(faces):
        raise FaceError(f"{what[0].upper() + what[1:]} has {len(faces)} face(s); there is no face {index + 1}.")
    return int(index)


# --------------------------------------------------------------------------- verification
def compare(emb_a: np.ndarray, emb_b: np.ndarray, *, embedder: str = DEFAULT_EMBEDDER,
            threshold: float | None = None) -> Verification:
    """Decide same/different for two unit embeddings with the model's metric (and threshold
    unless one is given)."""
    meta = embedder_meta(embedder)
    metric = meta["metric"]
    thr = float(meta["threshold"] if threshold is None else threshold)
    a = np.asarray(emb_a, np.float32).ravel()
    b = np.asarray(emb_b, np.float32).ravel()
    if a.shape != b.shape:
        raise FaceError("These two embeddings come from different models and cannot be compared.")
    sim = float(np.clip(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12), -1.0, 1.0))
    dist = float(cosine_to_distance(sim))
    return Verification(same_person=bool(accepts(sim, thr, metric)), similarity=sim, distance=dist,
                        threshold=thr, metric=metric, model=embedder)


def verify(rgb_a: np.ndarray, rgb_b: np.ndarray, *, embedder: str = DEFAULT_EMBEDDER,
           detector: str = DEFAULT_DETECTOR, threshold: float | None = None,
           face_a: int | None = None, face_b: int | None = None) -> tuple[Verification, Faces, Faces]:
    """Are the faces in two photos the same person?

    Uses the largest face of each photo unless ``face_a`` / ``face_b`` pick another.
    Returns the :class:`Verification` and both :class:`Faces` (with crops) for display.
    Raises FaceError when a photo has no face.
    """
    start = time.perf_counter()
    fa = analyze(rgb_a, detector, embedder)
    ia = pick_face(fa, face_a, "the first photo")
    fb = analyze(rgb_b, detector, embedder)
    ib = pick_face(fb, face_b, "the second photo")
    result = compare(fa.embeddings[ia], fb.embeddings[ib], embedder=embedder, threshold=threshold)
    notes = []
    for label, faces, idx in (("first", fa, ia), ("second", fb, ib)):
        if len(faces) > 1:
            notes.append(f"The {label} photo has {len(faces)} faces; face {idx + 1}"
                         f"{' (the largest)' if idx == faces.largest() else ''} is used.")
        notes += [f"{label.capitalize()} photo: {n[0].lower() + n[1:]}" for n in faces.notes]
    timings = Timings()
    for part in (fa.timings_ms, fb.timings_ms):
        for k, v in part.items():
            timings[k] = timings.get(k, 0.0) + v
    timings["total"] = (time.perf_counter() - start) * 1000.0
    verification = Verification(**{**result.__dict__, "detector": detector,
                                   "faces_found": (len(fa), len(fb)), "notes": tuple(notes),
                                   "timings_ms": timings})
    return verification, fa, fb


# --------------------------------------------------------------------------- recognition
def recognize(rgb: np.ndarray, gallery: Gallery, *, embedder: str = DEFAULT_EMBEDDER,
              detector: str = DEFAULT_DETECTOR, threshold: float | None = None,
              mode: str = "nearest", max_faces: int = MAX_FACES, detect_side: int | None = None) -> Recognition:
    """Every face of ``rgb`` matched against ``gallery`` (nearest photo or per-person mean);
    faces on the wrong side of the threshold are "unknown" (``Match.name is None``).
    ``detect_side``: the detector's working resolution (see :func:`detect`; LIVE_DETECT_SIDE for webcams)."""
    if len(gallery) and gallery.model != embedder:
        raise GalleryError(f"The gallery holds '{gallery.model}' embeddings but '{embedder}' is selected; "
                           f"switch the model to '{gallery.model}' (or start a new gallery).")
    meta = embedder_meta(embedder)
    metric = meta["metric"]
    thr = float(meta["threshold"] if threshold is None else threshold)
    faces = analyze(rgb, detector, embedder, max_faces, detect_side)
    timings = Timings(faces.timings_ms)
    with timings.stage("match"):
        found = identify(gallery, faces.embeddings, threshold=thr, metric=metric, mode=mode)  # type: ignore[arg-type]
    sides = faces.sides
    matches = tuple(
        Match(box=tuple(float(v) for v in faces.boxes[i]), name=m.name, best_name=m.best_name,
              similarity=m.similarity, distance=float(cosine_to_distance(m.similarity)) if m.best_name else float("nan"),
              scores=m.scores, small=bool(sides[i] < MIN_FACE_SIDE))
        for i, m in enumerate(found))
    return Recognition(faces=faces, matches=matches, threshold=thr, metric=metric, mode=mode,
                       model=embedder, timings_ms=timings)


def recognize_tracked(rgb: np.ndarray, gallery: Gallery, memory: dict | None = None, *,
                      embedder: str = DEFAULT_EMBEDDER, detector: str = DEFAULT_DETECTOR,
                      threshold: float | None = None, mode: str = "nearest", max_faces: int = 8,
                      detect_side: int | None = LIVE_DETECT_SIDE, reembed_every: int = 3,
                      min_iou: float = 0.5) -> tuple[Recognition, dict]:
    """:func:`recognize` for consecutive video frames: every frame is detected, but a face whose box
    overlaps the same face in the previous frame (IoU >= ``min_iou``) keeps its identity and is only
    re-embedded every ``reembed_every`` frames. ``memory`` is the previous call's second return value
    (plain data; keep one per viewer); any change of gallery, model, threshold or mode starts afresh.
    ``reembed_every=1`` is exactly :func:`recognize`."""
    meta = embedder_meta(embedder)
    metric = meta["metric"]
    thr = float(meta["threshold"] if threshold is None else threshold)
    if len(gallery) and gallery.model != embedder:
        raise GalleryError(f"The gallery holds '{gallery.model}' embeddings but '{embedder}' is selected.")
    key = "|".join([embedder, detector, f"{thr:.6f}", mode, *gallery.matrix()[2]])
    tracks = list((memory or {}).get("tracks", [])) if (memory or {}).get("key") == key else []
    faces = detect(rgb, detector, max_side=detect_side)
    timings = Timings(faces.timings_ms)
    if len(faces) > max_faces:
        faces = faces.subset(np.arange(max_faces))
    reuse: list[dict | None] = [None] * len(faces)
    iou = box_iou(faces.boxes, np.array([t["box"] for t in tracks], np.float32).reshape(-1, 4))
    for i, j in greedy_match(iou, min_iou):  # the same face in the previous frame
        if tracks[j]["age"] + 1 < reembed_every:
            reuse[i] = tracks[j]
    todo = [i for i, r in enumerate(reuse) if r is None]
    found: dict[int, GalleryMatch] = {}
    if todo:
        model = _embedder(embedder)
        with timings.stage("align"):
            crops = np.stack([model.align(rgb, faces.boxes[i], faces.landmarks[i]) for i in todo])
        with timings.stage("embed"):
            emb = model.embed(crops)
        with timings.stage("match"):
            for i, m in zip(todo, identify(gallery, emb, threshold=thr, metric=metric, mode=mode)):  # type: ignore[arg-type]
                found[i] = m
    sides = faces.sides
    matches, new_tracks = [], []
    for i, box in enumerate(faces.boxes):
        if reuse[i] is not None:
            m = reuse[i]["match"]
            gm = GalleryMatch(m["name"], m["best_name"], m["similarity"], m["scores"])
            age = reuse[i]["age"] + 1
        else:
            gm, age = found[i], 0
        matches.append(Match(box=tuple(float(v) for v in box), name=gm.name, best_name=gm.best_name,
                             similarity=gm.similarity,
                             distance=float(cosine_to_distance(gm.similarity)) if gm.best_name else float("nan"),
                             scores=gm.scores, small=bool(sides[i] < MIN_FACE_SIDE)))
        new_tracks.append({"box": [float(v) for v in box], "age": age,
                           "match": {"name": gm.name, "best_name": gm.best_name, "similarity": gm.similarity,
                                     "scores": gm.scores}})
    rec = Recognition(faces=faces, matches=tuple(matches), threshold=thr, metric=metric, mode=mode,
                      model=embedder, timings_ms=timings)
    return rec, {"key": key, "tracks": new_tracks, "embedded": len(todo)}


UNKNOWN_COLOR = (128, 128, 128)


def person_color(gallery_names: list[str], name: str | None) -> tuple[int, int, int]:
    """Stable colour of a person: keyed by their position in the gallery (grey for unknown)."""
    from core.render import instance_color

    if name is None or name not in gallery_names:
        return UNKNOWN_COLOR
    return instance_color(gallery_names.index(name))


def match_label(match: Match, metric: str, show_best: bool = False) -> str:
    if match.best_name is None:
        return "unknown (empty gallery)"
    value = f"{match.similarity:.2f}" if metric == "cosine" else f"d={match.distance:.2f}"
    if match.name is None:
        text = f"unknown {value}"
        if show_best:
            text += f" (closest: {match.best_name})"
    else:
        text = f"{match.name} {value}"
    return text + (" (small)" if match.small else "")


def draw_recognition(rgb: np.ndarray, rec: Recognition, gallery_names: list[str], *,
                     show_best: bool = False) -> np.ndarray:
    """A new image with every face boxed in its person's colour and labelled name + score."""
    from core.render import draw_boxes

    if not rec.matches:
        return np.asarray(rgb, np.uint8).copy()
    boxes = np.array([m.box for m in rec.matches], np.float32)
    colors = [person_color(gallery_names, m.name) for m in rec.matches]
    texts = [match_label(m, rec.metric, show_best) for m in rec.matches]
    return draw_boxes(rgb, boxes, colors, texts)


def draw_faces(rgb: np.ndarray, faces: Faces, *, highlight: int | None = None,
               landmarks: bool = True) -> np.ndarray:
    """Boxes (numbered) and landmarks of detected faces; ``highlight`` gets a bright colour."""
    from core.render import draw_boxes

    out = np.asarray(rgb, np.uint8)
    if not len(faces):
        return out.copy()
    colors = [(255, 200, 0) if i == highlight else (0, 170, 255) for i in range(len(faces))]
    texts = [f"{i + 1}" for i in range(len(faces))] if len(faces) > 1 else None
    out = draw_boxes(out, faces.boxes, colors, texts)
    if landmarks:
        import cv2

        out = out.copy()
        r = max(2, round(max(out.shape[:2]) / 300))
        for lm in faces.landmarks:
            for x, y in lm:
                cv2.circle(out, (int(round(x)), int(round(y))), r, (255, 60, 60), -1, lineType=cv2.LINE_AA)
    return out


# --------------------------------------------------------------------------- enrolment helpers
def enrol_photo(gallery: Gallery, name: str, rgb: np.ndarray, *, source: str = "",
                embedder: str = DEFAULT_EMBEDDER, detector: str = DEFAULT_DETECTOR,
                face: int | None = None) -> tuple[Gallery, Faces, int]:
    """Embed the chosen (default: largest) face of ``rgb`` and add it to ``name``.

    Returns the new gallery, the faces found and the index used. FaceError when there is no
    face or the face is too small; the gallery itself is never modified.
    """
    if len(gallery) and gallery.model != embedder:
        raise GalleryError(f"The gallery holds '{gallery.model}' embeddings; switch the model to "
                           f"'{gallery.model}' to add photos (or start a new gallery).")
    faces = analyze(rgb, detector, embedder)
    idx = pick_face(faces, face, "this photo")
    side = float(faces.sides[idx])
    if side < MIN_FACE_SIDE:
        raise FaceError(f"The face is only {side:.0f} px across; enrol a photo where it is at least "
                        f"{MIN_FACE_SIDE} px (closer, or a larger image).")
    if not len(gallery):
        gallery = Gallery.empty(embedder, faces.embeddings.shape[1])
    return gallery.enrol(name, faces.embeddings[idx:idx + 1], [source], model=embedder), faces, idx
