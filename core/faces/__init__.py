"""Faces: detect, align, embed, verify and recognise (``pipeline``), the gallery and identification
(``gallery``), the enrolment rule (``enrolment``), galleries from folders (``folders``), calibration of a
threshold (``calibration``), the teaching models (``teaching``: triplet loss, pair classifier, PCA), the
model wrappers (``engines``)."""
from core.faces.calibration import Calibration, calibrate, roc
from core.faces.enrolment import EnrolCheck, Lookalike, check_enrol, is_enrolled, nearest_other_person
from core.faces.folders import FolderGallery, enrol_folder, gallery_from_folder, person_name_from_folder
from core.faces.gallery import (
    Gallery,
    GalleryError,
    GalleryMatch,
    accepts,
    cosine_to_distance,
    distance_to_cosine,
    identify,
    normalize,
    person_scores,
    threshold_as_similarity,
    to_measure,
)
from core.faces.pipeline import (
    DEFAULT_DETECTOR,
    DEFAULT_EMBEDDER,
    DETECTORS,
    EMBEDDERS,
    LIVE_DETECT_SIDE,
    MAX_FACES,
    MIN_FACE_SIDE,
    FaceError,
    analyze,
    compare,
    detect,
    draw_faces,
    draw_recognition,
    embed_faces,
    embedder_meta,
    enrol_photo,
    match_label,
    person_color,
    pick_face,
    recognize,
    recognize_tracked,
    verify,
)
from core.faces.teaching import PairClassifier, Triplet, fit_gallery_classifier, pca_2d, triplet

__all__ = [
    "DEFAULT_DETECTOR", "DEFAULT_EMBEDDER", "DETECTORS", "EMBEDDERS", "LIVE_DETECT_SIDE", "MAX_FACES",
    "MIN_FACE_SIDE", "Calibration", "EnrolCheck", "FaceError", "FolderGallery", "Gallery", "GalleryError",
    "GalleryMatch", "Lookalike", "check_enrol", "enrol_folder", "is_enrolled", "nearest_other_person",
    "PairClassifier", "Triplet", "accepts", "analyze", "calibrate", "compare", "cosine_to_distance",
    "detect", "distance_to_cosine", "draw_faces", "draw_recognition", "embed_faces", "embedder_meta",
    "enrol_photo", "fit_gallery_classifier", "gallery_from_folder", "identify", "match_label",
    "normalize", "pca_2d", "person_color", "person_name_from_folder", "person_scores", "pick_face",
    "recognize", "recognize_tracked", "roc", "threshold_as_similarity", "to_measure", "triplet", "verify",
]
