"""Downloadable instance models: torchvision's Mask R-CNN (two recipes) and Keypoint R-CNN.

Weights come from download.pytorch.org into the torch hub cache (``$TORCH_HOME/hub/checkpoints``)
on first use, or are dropped there (or into ``CVLAB_WEIGHTS_DIR``) by hand. The architecture is
built with ``weights=None, weights_backbone=None`` and the state dict is loaded from the resolved
file (``torch.load(..., weights_only=True)``), so nothing is fetched behind the registry's back.

The label lists are copied here so that declaring the models does not import torchvision; a test
checks them against ``Weights.DEFAULT.meta``.
"""
from __future__ import annotations

from pathlib import Path

from core.models import DownloadFile, ModelSpec
from core.segmentation.coco import COCO17_KEYPOINT_NAMES, COCO17_SKELETON
from core.segmentation.labels import COCO91_LABELS

KEYPOINT_LABELS = ("no person", "person")

_LICENCE = ("BSD-3-Clause (torchvision code and weights); trained on COCO train2017 "
            "(annotations CC BY 4.0, images under their Flickr licences)")
_REF = "https://pytorch.org/vision/stable/models.html#object-detection-instance-segmentation-and-person-keypoint-detection"

_ARCHS = {
    # name: (torchvision builder, kind, url, size MB, metrics, title, description)
    "maskrcnn-resnet50-fpn-v2": (
        "maskrcnn_resnet50_fpn_v2", "mask",
        "https://download.pytorch.org/models/maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth", 177.2,
        {"COCO val2017 box AP": 47.4, "COCO val2017 mask AP": 41.8},
        "Mask R-CNN ResNet-50 FPN v2 (COCO)",
        "Mask R-CNN with the improved training recipe (Li et al. 2021): 80 COCO object classes, a box, "
        "score and 28x28 mask per object. Several seconds per photo on a CPU.",
    ),
    "maskrcnn-resnet50-fpn": (
        "maskrcnn_resnet50_fpn", "mask",
        "https://download.pytorch.org/models/maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth", 169.8,
        {"COCO val2017 box AP": 37.9, "COCO val2017 mask AP": 34.6},
        "Mask R-CNN ResNet-50 FPN (COCO)",
        "The original Mask R-CNN recipe (He et al. 2017): 80 COCO object classes with boxes and masks.",
    ),
    "keypointrcnn-resnet50-fpn": (
        "keypointrcnn_resnet50_fpn", "keypoint",
        "https://download.pytorch.org/models/keypointrcnn_resnet50_fpn_coco-fc266e95.pth", 226.1,
        {"COCO val2017 box AP": 54.6, "COCO val2017 keypoint AP": 65.0},
        "Keypoint R-CNN ResNet-50 FPN (COCO)",
        "Mask R-CNN's sibling with a keypoint head: people with boxes and the 17 COCO keypoints "
        "(no masks: the overlay shows boxes and skeletons).",
    ),
}


def build_torchvision(name: str, state_dict_path: Path | None, device: str = "cpu"):
    """The torchvision architecture for ``name`` wrapped for CV Lab (random weights when
    ``state_dict_path`` is None: for tests only)."""
    import torch
    from torchvision.models import detection

    from core.segmentation.rcnn import RCNNModel

    builder, kind = _ARCHS[name][0], _ARCHS[name][1]
    num_classes = len(KEYPOINT_LABELS) if kind == "keypoint" else len(COCO91_LABELS)
    net = getattr(detection, builder)(weights=None, weights_backbone=None, num_classes=num_classes)
    if state_dict_path is not None:
        state = torch.load(state_dict_path, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
    net.eval().to(device)
    labels = KEYPOINT_LABELS if kind == "keypoint" else COCO91_LABELS
    return RCNNModel(net, kind=kind, labels=labels, name=name, device=device,
                     keypoint_names=COCO17_KEYPOINT_NAMES if kind == "keypoint" else (),
                     skeleton=COCO17_SKELETON if kind == "keypoint" else ())


def _builder(name: str):
    def build(paths: list[Path], device: str):
        return build_torchvision(name, paths[0], device)

    return build


def specs() -> list[ModelSpec]:
    out = []
    for name, (_builder_name, kind, url, size, metrics, title, description) in _ARCHS.items():
        meta = {"kind": kind, "default_min_score": 0.5, "input": "shorter side resized to 800 (max 1333)"}
        if kind == "keypoint":
            meta.update(keypoint_names=COCO17_KEYPOINT_NAMES, skeleton=COCO17_SKELETON)
        out.append(ModelSpec(
            name=name,
            task="instance",
            title=title,
            source="downloadable",
            files=(DownloadFile(url, size_mb=size),),
            build=_builder(name),
            licence=_LICENCE,
            labels=KEYPOINT_LABELS if kind == "keypoint" else COCO91_LABELS,
            metrics=metrics,
            meta=meta,
            reference=_REF,
            description=description,
        ))
    return out
