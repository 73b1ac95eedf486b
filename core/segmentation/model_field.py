"""The effective receptive field of the Semantic tab's own model, where it is a torch network.

For a :class:`core.segmentation.semantic.TorchSegmenter` (the downloadable torchvision and smp-hub
networks) the decision at one pixel is the logit of its winning class there; its gradient with respect
to the (normalised) input shows which pixels the decision depends on. Unlike VGG19's layers, these
networks (dilated ResNets, MobileNets, transformers) have no simple square field, so only the measured
one is shown: its centre, the disc holding 90% of |gradient| and the box where the gradient is non-zero.
The bundled models are not torch networks (TFLite, ONNX, detector pipelines) and are refused.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.segmentation.receptive_field import gradient_stats

SUPPORT_FLOOR = 1e-4
"""Pixels whose |gradient| is at least this share of the largest count as "reached"."""


@dataclass(frozen=True, eq=False)
class ModelField:
    """The effective field of the tab's model at one pixel.

    Attributes:
        model: registry name; label: the winning class at the pixel.
        grad: (H, W) float32 >= 0, |d logit / d input| summed over the 3 input channels.
        centre: (x, y) px, |gradient|-weighted centroid; radius_px: disc holding 90% of it.
        support: (x0, y0, x1, y1) px, the box of pixels reached (see :data:`SUPPORT_FLOOR`).
    """

    model: str
    label: str
    grad: np.ndarray
    centre: tuple[float, float]
    radius_px: float
    support: tuple[int, int, int, int]


def model_effective_field(segmenter, rgb: np.ndarray, x: int, y: int) -> ModelField:
    """Effective field of ``segmenter``'s decision at pixel (x, y) of RGB uint8 (H, W, 3) ``rgb``,
    the network run at the image's own size."""
    import torch
    import torch.nn.functional as F

    from core.segmentation.semantic import TorchSegmenter

    if not isinstance(segmenter, TorchSegmenter):
        raise ValueError(f"The tab's model ({getattr(segmenter, 'name', type(segmenter).__name__)}) is not a torch "
                         "network; choose a downloadable one (e.g. deeplabv3-resnet50) to see its field.")
    h, w = rgb.shape[:2]
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError(f"The point ({x}, {y}) is outside the {w}x{h} photo.")
    inp = segmenter.preprocess(rgb, native=True).detach().clone().requires_grad_(True)
    with torch.enable_grad():
        out = segmenter.net(inp)
        out = out["out"] if isinstance(out, dict) else out
        logits = F.interpolate(out, size=(h, w), mode="bilinear", align_corners=False)[0, :, y, x]
        best = int(logits.argmax())
        logits[best].backward()
    grad = inp.grad[0].abs().sum(0).cpu().numpy().astype(np.float32)
    centre, radius = gradient_stats(grad)
    ys, xs = np.nonzero(grad >= SUPPORT_FLOOR * float(grad.max()))
    support = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return ModelField(segmenter.name, segmenter.labels[best], grad, centre, radius, support)
