"""Semantic segmentation models: the bundled person models and the downloadable multi-class ones.

Bundled (no download, built on the MediaPipe files declared in ``core.segmentation.catalog.people``):

* ``mediapipe-person``: every person found by the BlazePose detector, masked by the BlazePose
  landmark model on that person's own crop; the union of the masks is "person". The default.
* ``mediapipe-selfie-gated``: the portrait ("selfie") model on the whole (letterboxed) image, kept
  only inside the body regions the detector found. Faster with several people, rougher edges.

The landmark masks are the default because composing a photo with another one must not change a
person's mask, and the selfie model's does (the numbers: docs/decisions.md).

Downloadable (weights from download.pytorch.org / the Hugging Face hub into the usual caches):
torchvision's DeepLabV3 / FCN / LR-ASPP (COCO images, the 20 Pascal VOC classes + background) and
SegFormer-B0 trained on ADE20K (150 stuff and thing classes) through segmentation-models-pytorch.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.models import DownloadFile, ModelSpec, ModelUnavailable
from core.segmentation.labels import ADE20K_LABELS, VOC_LABELS

# --------------------------------------------------------------------------- label sets


ADE20K_STUFF_IDS = (
    0, 1, 2, 3, 4, 5, 6, 9, 11, 13, 16, 17, 21, 25, 26, 28, 29, 34, 40, 46, 48, 51, 52, 54, 59, 60,
    61, 63, 68, 77, 79, 84, 91, 94, 96, 99, 100, 101, 105, 106, 109, 113, 114, 117, 122, 128, 131,
    140, 141, 145,
)
"""The 50 ADE20K classes that are "stuff" in the ADE20K panoptic split (detectron2's
``ADE20K_150_CATEGORIES`` with ``isthing == 0``); the other 100 are "things"."""

_TV_LICENCE = ("BSD-3-Clause (torchvision code and weights); trained on COCO train2017 images "
               "(annotations CC BY 4.0) restricted to the Pascal VOC classes")
_TV_REF = "https://pytorch.org/vision/stable/models.html#semantic-segmentation"
_TV_METRIC = "COCO val2017 (VOC labels) mIoU"

_SMP_LICENCE = ("NVIDIA Source Code License for SegFormer: non-commercial, research and evaluation "
                "use only (smp-hub model card: 'license: other'); ADE20K images: MIT CSAIL terms")


@dataclass(frozen=True)
class _TorchvisionModel:
    name: str
    arch: str
    title: str
    url: str
    size_mb: float
    miou: float
    pixel_acc: float
    fast: bool
    description: str


TORCHVISION_MODELS = (
    _TorchvisionModel("deeplabv3-resnet50", "deeplabv3_resnet50", "DeepLabV3 ResNet-50 (VOC classes)",
                      "https://download.pytorch.org/models/deeplabv3_resnet50_coco-cd0a2569.pth",
                      160.5, 66.4, 92.4, False,
                      "Atrous (dilated) ResNet-50 keeps a 1/8 resolution feature map; ASPP looks at "
                      "several context sizes at once. The most accurate VOC model here; slow on a CPU."),
    _TorchvisionModel("fcn-resnet50", "fcn_resnet50", "FCN ResNet-50 (VOC classes)",
                      "https://download.pytorch.org/models/fcn_resnet50_coco-1167a1af.pth",
                      135.0, 60.5, 91.4, False,
                      "The classic fully convolutional network: a classifier whose dense layers became "
                      "1x1 convolutions, so it labels every pixel in one pass."),
    _TorchvisionModel("deeplabv3-mobilenet-v3", "deeplabv3_mobilenet_v3_large",
                      "DeepLabV3 MobileNetV3 (VOC classes)",
                      "https://download.pytorch.org/models/deeplabv3_mobilenet_v3_large-fc3c493d.pth",
                      42.3, 60.3, 91.2, True,
                      "DeepLabV3's ASPP head on a mobile backbone: 4x fewer parameters than ResNet-50."),
    _TorchvisionModel("lraspp-mobilenet-v3", "lraspp_mobilenet_v3_large", "LR-ASPP MobileNetV3 (VOC classes)",
                      "https://download.pytorch.org/models/lraspp_mobilenet_v3_large-d234d4ea.pth",
                      12.5, 57.9, 91.2, True,
                      "Lite R-ASPP: a tiny head made for phones; the fastest multi-class model here."),
)


@dataclass(frozen=True)
class HubFile:
    """One file of a Hugging Face hub repository, found in the local HF cache (never downloaded here)."""

    repo_id: str
    filename: str
    size_mb: float = 0.0

    def locate(self) -> Path | None:
        try:
            from huggingface_hub import try_to_load_from_cache
        except ImportError:  # pragma: no cover - huggingface_hub comes with smp
            return None
        found = try_to_load_from_cache(self.repo_id, self.filename)
        return Path(found) if isinstance(found, str) and Path(found).is_file() else None

    def describe(self) -> str:
        return f"{self.filename} of the Hugging Face repository {self.repo_id} (into the HF cache)"


SEGFORMER_REPO = "smp-hub/segformer-b0-512x512-ade-160k"
SEGFORMER_FILES = (HubFile(SEGFORMER_REPO, "config.json", 0.001), HubFile(SEGFORMER_REPO, "model.safetensors", 15.0))


def _hub_is_cached() -> bool:
    return all(f.locate() is not None for f in SEGFORMER_FILES)


def _hub_fetch(progress: bool = True) -> None:
    """Download the SegFormer files into the HF cache; any failure becomes a ModelUnavailable."""
    try:
        from huggingface_hub import hf_hub_download

        for f in SEGFORMER_FILES:
            hf_hub_download(f.repo_id, f.filename)
    except Exception as exc:  # network, auth, disk: all end the same way for the user
        raise ModelUnavailable(
            f"Could not download {SEGFORMER_REPO} from the Hugging Face hub ({type(exc).__name__}: "
            f"{str(exc)[:160]}). Fetch it where there is internet access with "
            f"`python -m core prefetch segformer-b0-ade`, then copy the Hugging Face cache folder."
        ) from exc


# --------------------------------------------------------------------------- builders
def _build_person(paths: list[Path], device: str):
    from core import models
    from core.segmentation.semantic import PersonSegmenter

    return PersonSegmenter(models.load("blazepose-detector"), models.load("blazepose-landmark"))


def _build_selfie_gated(paths: list[Path], device: str):
    from core import models
    from core.segmentation.semantic import SelfieGatedSegmenter

    return SelfieGatedSegmenter(models.load("blazepose-detector"), models.load("mediapipe-selfie"))


def _build_things(paths: list[Path], device: str):
    from core import models
    from core.segmentation.semantic import ThingsSegmenter

    return ThingsSegmenter(models.load("objects-offline"))


def _torchvision_builder(arch: str, name: str):
    def build(paths: list[Path], device: str):
        import torch

        from core.segmentation.semantic import make_torchvision_segmenter

        state = torch.load(str(paths[0]), map_location="cpu", weights_only=True)
        return make_torchvision_segmenter(arch, state, name=name, device=device)

    return build


def _build_segformer(paths: list[Path], device: str):
    from core.segmentation.semantic import load_smp_segmenter

    config = next(p for p in paths if p.name == "config.json")
    return load_smp_segmenter(config.parent, name="segformer-b0-ade", device=device)


# --------------------------------------------------------------------------- specs
def specs() -> list[ModelSpec]:
    from core.segmentation.catalog.people import (
        DETECTOR_FILE,
        LANDMARK_FILE,
        SELFIE_FILE,
    )

    out = [
        ModelSpec(
            name="mediapipe-person",
            task="semantic",
            title="MediaPipe person (bundled)",
            source="bundled",
            files=(DETECTOR_FILE, LANDMARK_FILE),
            build=_build_person,
            licence="Apache-2.0",
            labels=("background", "person"),
            meta={"fast": True, "method": "BlazePose detector + per-person landmark-model masks",
                  "min_score": 0.5, "threshold": 0.5},
            reference="https://developers.google.com/mediapipe/solutions/vision/pose_landmarker",
            description="Person vs background. The BlazePose detector finds each person; the landmark "
                        "model masks each one on its own upright crop; the masks are merged. A photo "
                        "with no person gives no person. Misses people seen from behind or smaller "
                        "than about 1/6 of the image. No published mIoU.",
        ),
        ModelSpec(
            name="mediapipe-selfie-gated",
            task="semantic",
            title="MediaPipe selfie model, detector-gated (bundled)",
            source="bundled",
            files=(DETECTOR_FILE, SELFIE_FILE),
            build=_build_selfie_gated,
            licence="Apache-2.0",
            labels=("background", "person"),
            meta={"fast": True, "method": "selfie model on the letterboxed image, kept inside detected bodies",
                  "min_score": 0.5, "threshold": 0.5},
            reference="https://developers.google.com/mediapipe/solutions/vision/image_segmenter",
            description="The portrait (selfie) segmentation model over the whole image, kept only inside "
                        "the body regions the BlazePose detector found (alone it calls a cat a person). "
                        "Two network passes whatever the number of people; rougher than mediapipe-person.",
        ),
    ]
    from core.segmentation.catalog.objects import ONNX_FILE
    from core.segmentation.labels import COCO80_LABELS

    out.append(ModelSpec(
        name="things-offline",
        task="semantic",
        title="Things offline: NanoDet + BlazePose + GrabCut, 80 COCO things (no stuff)",
        source="setup",
        files=(ONNX_FILE, DETECTOR_FILE, LANDMARK_FILE),
        build=_build_things,
        licence="NanoDet Apache-2.0 (npm package MIT); BlazePose Apache-2.0",
        labels=("background", *COCO80_LABELS),
        meta={"fast": False, "method": "objects-offline instances painted into one map", "min_score": 0.35},
        reference="core/segmentation/objects.py",
        description="Every pixel gets the class of the thing covering it (COCO's 80 countable classes) "
                    "from the objects-offline instance pipeline; everything else is background: offline "
                    "there are no stuff classes (sky, road, wall).",
    ))
    for m in TORCHVISION_MODELS:
        out.append(ModelSpec(
            name=m.name,
            task="semantic",
            title=m.title,
            source="downloadable",
            files=(DownloadFile(m.url, size_mb=m.size_mb),),
            build=_torchvision_builder(m.arch, m.name),
            licence=_TV_LICENCE,
            labels=VOC_LABELS,
            metrics={_TV_METRIC: m.miou, "pixel accuracy": m.pixel_acc},
            meta={"fast": m.fast, "arch": m.arch, "resize": 520, "normalize": "imagenet"},
            reference=_TV_REF,
            description=m.description,
        ))
    out.append(ModelSpec(
        name="segformer-b0-ade",
        task="semantic",
        title="SegFormer-B0 ADE20K (150 classes)",
        source="downloadable",
        files=SEGFORMER_FILES,
        build=_build_segformer,
        licence=_SMP_LICENCE,
        labels=ADE20K_LABELS,
        metrics={"ADE20K val mIoU (single scale)": 37.4},
        meta={"fast": False, "repo_id": SEGFORMER_REPO, "input_size": 512, "normalize": "imagenet",
              "stuff_ids": ADE20K_STUFF_IDS},
        reference="https://huggingface.co/" + SEGFORMER_REPO + " ; Xie et al. 2021, arXiv:2105.15203",
        description="A small transformer encoder with an all-MLP decoder; labels scenes with 150 "
                    "stuff and thing classes (wall, sky, road, person, car, ...).",
        fetch=_hub_fetch,
        is_cached=_hub_is_cached,
    ))
    return out
