"""Bundled MediaPipe person models (Apache-2.0, inside the ``mediapipe==0.10.21`` wheel).

Three files run on LiteRT (``ai-edge-litert``); ``blazepose-multi`` is the user-facing instance
model that chains the detector and the landmark model for every person (see ``core/blazepose.py``).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from core.models import ModelSpec, NpmPackageFile, PackageFile

_PIP = "pip install --no-deps mediapipe==0.10.21"
_LICENCE = "Apache-2.0"
_REF_POSE = "https://developers.google.com/mediapipe/solutions/vision/pose_landmarker (model card: BlazePose GHUM 3D)"
_REF_SELFIE = "https://developers.google.com/mediapipe/solutions/vision/image_segmenter (model card: MediaPipe Selfie Segmentation)"

DETECTOR_FILE = PackageFile("mediapipe", "modules/pose_detection/pose_detection.tflite", _PIP)
LANDMARK_FILE = PackageFile("mediapipe", "modules/pose_landmark/pose_landmark_full.tflite", _PIP)
SELFIE_FILE = PackageFile("mediapipe", "modules/selfie_segmentation/selfie_segmentation.tflite", _PIP)

LITE_NAME = "blazepose-landmark-lite"
LITE_NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"
LITE_MEMBER = "package/pose_landmark_lite.tflite"
LITE_SHA256 = "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"


def _copy_member(paths: list[Path], out: Path) -> None:
    """``NpmPackageFile.make`` for a file used as it ships: copy the extracted member."""
    shutil.copyfile(paths[0], out)


LANDMARK_LITE_FILE = NpmPackageFile(
    filename="pose_landmark_lite.tflite",
    package=LITE_NPM_PACKAGE,
    members=((LITE_MEMBER, LITE_SHA256),),
    make=_copy_member,
    size_mb=2.8,
    tarball_mb=41.0,
    model=LITE_NAME,
)
"""MediaPipe's lite landmark model: the PyPI wheel ships only the full one; the npm package of
MediaPipe's web Pose solution ships lite, full and heavy. Same inputs and outputs as full, half its
time a person: the live instance path uses it when it is here."""


def _build_tflite(paths: list[Path], device: str):
    from core.segmentation.blazepose import build_tflite

    return build_tflite(paths, device)


class BlazePoseMulti:
    """The built ``blazepose-multi`` model: the detector and the landmark model side by side."""

    def __init__(self, detector, landmarker) -> None:
        self.detector = detector
        self.landmarker = landmarker

    def __call__(self, rgb, min_score: float = 0.5, **kwargs):
        from core.segmentation.blazepose import people

        return people(rgb, min_score, detector=self.detector, landmarker=self.landmarker, **kwargs)


def _build_multi(paths: list[Path], device: str) -> BlazePoseMulti:
    from core import models

    return BlazePoseMulti(models.load("blazepose-detector"), models.load("blazepose-landmark"))


def specs() -> list[ModelSpec]:
    from core.segmentation.blazepose import BLAZEPOSE_KEYPOINT_NAMES, BLAZEPOSE_SKELETON

    kp_meta = {"keypoint_names": BLAZEPOSE_KEYPOINT_NAMES, "skeleton": BLAZEPOSE_SKELETON}
    return [
        ModelSpec(
            name="blazepose-detector",
            task="person-detect",
            title="BlazePose person detector",
            source="bundled",
            files=(DETECTOR_FILE,),
            build=_build_tflite,
            licence=_LICENCE,
            labels=("person",),
            meta={"input_size": 224, "alignment_points": ("hip_center", "body_scale_point",
                                                          "shoulder_center", "upper_body_point")},
            reference=_REF_POSE,
            description="Finds people (a head box plus 4 alignment points giving each body's centre, "
                        "size and rotation) in a letterboxed 224x224 image.",
        ),
        ModelSpec(
            name="blazepose-landmark",
            task="keypoints",
            title="BlazePose GHUM landmarks (full)",
            source="bundled",
            files=(LANDMARK_FILE,),
            build=_build_tflite,
            licence=_LICENCE,
            labels=("person",),
            meta={"input_size": 256, **kp_meta},
            reference=_REF_POSE,
            description="Given one person's rotated 256x256 crop: 33 body landmarks with visibility, "
                        "a pose-present flag and a person mask.",
        ),
        ModelSpec(
            name=LITE_NAME,
            task="keypoints",
            title="BlazePose GHUM landmarks (lite, for live video)",
            source="setup",
            files=(LANDMARK_LITE_FILE,),
            build=_build_tflite,
            licence=_LICENCE + " (npm package @mediapipe/pose, Apache-2.0)",
            labels=("person",),
            meta={"input_size": 256, **kp_meta, "npm_package": LITE_NPM_PACKAGE, "npm_file": LITE_MEMBER,
                  "sha256": LITE_SHA256},
            reference=_REF_POSE,
            description="The lite variant of the landmark model (same crop, landmarks, flag and mask; "
                        "less accurate, about twice as fast); the live Instance view follows people "
                        "with it. Made by `make setup` from its npm package.",
        ),
        ModelSpec(
            name="mediapipe-selfie",
            task="semantic-part",
            title="MediaPipe selfie segmentation",
            source="bundled",
            files=(SELFIE_FILE,),
            build=_build_tflite,
            licence=_LICENCE,
            labels=("background", "person"),
            meta={"input_size": 256},
            reference=_REF_SELFIE,
            description="Person probability for every pixel of a 256x256 image; a portrait model that "
                        "also marks animals, so it is gated by the person detector.",
        ),
        ModelSpec(
            name="blazepose-multi",
            task="instance",
            title="BlazePose multi-person (bundled)",
            source="bundled",
            files=(DETECTOR_FILE, LANDMARK_FILE),
            build=_build_multi,
            licence=_LICENCE,
            labels=("background", "person"),
            meta={**kp_meta, "default_min_score": 0.5, "things": ("person",)},
            metrics={},
            reference=_REF_POSE,
            description="Every person in the photo as a separate instance: detect, crop each person, "
                        "then 33 keypoints and a mask per person. Misses people seen from behind and "
                        "people smaller than about 1/6 of the image side. MediaPipe publishes PCK@0.2 "
                        "on its own pose benchmarks, not COCO AP.",
        ),
    ]
