"""Our downloadable-model wrappers against each library's own documented inference.

Hosted users get these models; their weights cannot be downloaded here, so both sides run on the
same seeded random weights and the same real photo, and must agree exactly:

* torchvision semantic models: ``weights.transforms()`` + ``model(x)["out"]``, upsampled to the
  photo (bilinear) and ``argmax(1)`` (the torchvision docs' recipe) == our ``semantic`` label map;
* SegFormer (smp-hub): the model card's recipe, albumentations ``Resize(512, 512)`` +
  ``Normalize`` (the values of the hub's ``albumentations_config_eval.json``, written by smp's
  conversion script), ``model(x)``, bilinear to the photo size, ``argmax(1)``;
* Mask / Keypoint R-CNN: the torchvision network called directly on the same float tensor ==
  our wrapper's boxes, scores, labels, masks and keypoints.

Random weights give near-constant maps, which would agree trivially, so the BatchNorm statistics
are first estimated on the photo itself (a few train-mode passes): the maps then hold several
classes in irregular regions, and the test checks that they do.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.image import load_image
from core.types import Timings

pytestmark = pytest.mark.slow

PHOTO = "astronaut.png"


@pytest.fixture(scope="module")
def rgb(photos):
    return load_image(photos / PHOTO)


def _calibrate_batchnorm(net: torch.nn.Module, x: torch.Tensor) -> None:
    """Give a random network realistic BatchNorm statistics (those of ``x``), then eval mode."""
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative average
    net.train()
    with torch.no_grad():
        net(torch.cat([x, x.flip(-1)]))  # two images: ASPP's image-pooling BatchNorm needs a batch
    net.eval()


def _assert_not_trivial(label_map: np.ndarray) -> None:
    values, counts = np.unique(label_map, return_counts=True)
    assert len(values) >= 3, f"the random network predicts only {values}: the comparison would prove nothing"
    assert np.sort(counts)[-2] > 0.005 * label_map.size


TORCHVISION = [
    ("lraspp_mobilenet_v3_large", "LRASPP_MobileNet_V3_Large_Weights"),
    ("deeplabv3_mobilenet_v3_large", "DeepLabV3_MobileNet_V3_Large_Weights"),
]
"""Run here (a ResNet-50 pair took 2.5 minutes on the shared 2-core machine); the ResNet-50
models go through the same wrapper code with the same preset, which the next test checks."""


def test_every_torchvision_semantic_model_has_the_preset_tested_here():
    import torchvision.models.segmentation as tvs

    from core.segmentation.catalog.semantic import TORCHVISION_MODELS

    tested = repr(tvs.LRASPP_MobileNet_V3_Large_Weights.DEFAULT.transforms())
    enums = {"deeplabv3_resnet50": tvs.DeepLabV3_ResNet50_Weights, "fcn_resnet50": tvs.FCN_ResNet50_Weights,
             "deeplabv3_mobilenet_v3_large": tvs.DeepLabV3_MobileNet_V3_Large_Weights,
             "lraspp_mobilenet_v3_large": tvs.LRASPP_MobileNet_V3_Large_Weights}
    for m in TORCHVISION_MODELS:
        assert repr(enums[m.arch].DEFAULT.transforms()) == tested, m.name


@pytest.mark.parametrize("arch, weights_name", TORCHVISION)
def test_torchvision_semantic_wrapper_equals_the_documented_inference(rgb, arch, weights_name):
    import torchvision.models.segmentation as tvs

    from core.segmentation.semantic import make_torchvision_segmenter

    torch.manual_seed(0)
    kwargs = {"weights": None, "weights_backbone": None, "num_classes": 21}
    if not arch.startswith("lraspp"):
        kwargs["aux_loss"] = True
    net = getattr(tvs, arch)(**kwargs)
    preprocess = getattr(tvs, weights_name).DEFAULT.transforms()  # the published preset, no download
    img = torch.from_numpy(rgb.copy()).permute(2, 0, 1)  # what torchvision.io.decode_image gives
    batch = preprocess(img).unsqueeze(0)
    _calibrate_batchnorm(net, batch)
    with torch.inference_mode():
        out = net(batch)["out"]
        h, w = rgb.shape[:2]
        reference = F.interpolate(out, size=(h, w), mode="bilinear", align_corners=False).argmax(1)[0].numpy()
    _assert_not_trivial(reference)

    ours = make_torchvision_segmenter(arch, net.state_dict())
    assert torch.equal(ours.preprocess(rgb), batch)
    label_map, _ = ours.predict(rgb, Timings())
    assert label_map.shape == (h, w)
    np.testing.assert_array_equal(label_map, reference)


def test_segformer_wrapper_equals_the_model_card_inference(rgb):
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    A = pytest.importorskip("albumentations")

    from core.segmentation.labels import ADE20K_LABELS
    from core.segmentation.semantic import make_segformer, smp_segmenter

    torch.manual_seed(0)
    net = make_segformer()
    preprocessing = A.Compose([  # = A.Compose.from_pretrained("smp-hub/segformer-b0-512x512-ade-160k")
        A.Resize(512, 512, p=1),
        A.Normalize(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], max_pixel_value=1.0, p=1),
    ])
    x = torch.as_tensor(preprocessing(image=rgb)["image"]).permute(2, 0, 1).unsqueeze(0)
    _calibrate_batchnorm(net, x)
    with torch.no_grad():
        out = net(x)
    h, w = rgb.shape[:2]
    reference = F.interpolate(out, size=(h, w), mode="bilinear", align_corners=False).argmax(1)[0].numpy()
    _assert_not_trivial(reference)

    ours = smp_segmenter(net, name="segformer-b0-ade", labels=ADE20K_LABELS)
    assert torch.equal(ours.preprocess(rgb), x)
    label_map, _ = ours.predict(rgb, Timings())
    np.testing.assert_array_equal(label_map, reference)


def test_chunked_upsampled_argmax_equals_the_full_one(monkeypatch):
    """The memory cap (classes upsampled in chunks) changes no label."""
    from core.segmentation import semantic
    from core.segmentation.labels import ADE20K_LABELS

    torch.manual_seed(1)
    logits = torch.randn(1, 150, 40, 56)
    net = semantic.smp_segmenter(semantic.make_segformer(), name="segformer-b0-ade", labels=ADE20K_LABELS)
    full = F.interpolate(logits, size=(300, 420), mode="bilinear", align_corners=False).argmax(1)[0]
    monkeypatch.setattr(semantic, "MAX_UPSAMPLED_LOGITS", 300 * 420 * 7)  # 22 chunks of 7 classes
    assert torch.equal(net.upsampled_argmax(logits, 300, 420), full)


@pytest.mark.parametrize("name", ["maskrcnn-resnet50-fpn-v2", "keypointrcnn-resnet50-fpn"])
def test_rcnn_wrapper_equals_calling_torchvision_directly(rgb, name):
    from core.segmentation.catalog.instance import build_torchvision

    torch.manual_seed(0)
    model = build_torchvision(name, None)
    net = model.net
    net.roi_heads.score_thresh = 0.0  # random weights score every class near 1/91
    net.transform.min_size = (480,)  # both sides use it (the default 800 took minutes on 2 busy cores)
    x = torch.from_numpy(rgb.copy()).permute(2, 0, 1).float() / 255.0  # ObjectDetection preset: uint8 -> [0, 1]
    with torch.inference_mode():
        ref = net([x])[0]
    assert len(ref["boxes"]) >= 5
    ours = model(rgb, 0.0)
    np.testing.assert_array_equal(ours.boxes, ref["boxes"].numpy())
    np.testing.assert_array_equal(ours.scores, ref["scores"].numpy())
    np.testing.assert_array_equal(ours.class_ids, ref["labels"].numpy())
    if "masks" in ref:
        np.testing.assert_array_equal(ours.mask_probs, ref["masks"][:, 0].numpy())
    if "keypoints" in ref:
        np.testing.assert_array_equal(ours.keypoints[:, :, :2], ref["keypoints"][:, :, :2].numpy())
        vis = torch.sigmoid(ref["keypoints_scores"]).numpy()
        np.testing.assert_allclose(ours.keypoints[:, :, 2], vis, rtol=1e-6, atol=1e-7)
    # and with the Inside view's hooks on, the answer does not change
    again = model(rgb, 0.0, inside=True)
    np.testing.assert_array_equal(again.boxes, ours.boxes)
