"""The cost of never downsampling: VGG19 as it is against the same convolutions at stride 1.

Removing VGG19's pooling layers keeps every feature map at full resolution. The convolutions and
their weights stay the same, so each layer's cost grows with the pixels it now runs on: a block-5
convolution runs on 256x more positions. Its receptive field grows only 2 px a layer (:mod:`core.
segmentation.receptive_field`), so it also sees far less of the photo.

FLOPs count a multiply-add as 2 (``2 * 3 * 3 * C_in * C_out`` per output position); pooling and
ReLU are left out (under 1% of the total). Memory is float32 activations: the sum over conv outputs
(what training must keep for the backward pass) and the largest single one (what inference needs).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from core.backbones.vgg19_layers import LAYER_CHANNELS, LAYER_INDEX, LAYER_NAMES
from core.segmentation.receptive_field import vgg19_geometry

DEPTHS = ("conv3_4", "conv4_4", "conv5_4")
"""Layers the comparison may stop at (the end of blocks 3, 4 and 5)."""


@dataclass(frozen=True)
class NetCost:
    """Cost of one network up to a layer on an ``h`` x ``w`` input.

    Attributes:
        gflops: 10^9 floating-point operations (multiply-add = 2).
        act_mb: MB of float32 conv outputs, summed over layers.
        peak_mb: MB of the largest single conv output.
        rf_px: receptive field (px) of the last layer.
        out_hw: (rows, cols) of the last layer's map.
    """

    gflops: float
    act_mb: float
    peak_mb: float
    rf_px: int
    out_hw: tuple[int, int]


def conv_layers(upto: str) -> list[str]:
    """VGG19 conv names from conv1_1 to ``upto`` (a conv or relu name)."""
    if upto not in LAYER_INDEX:
        raise ValueError(f"Unknown VGG19 layer '{upto}'.")
    last = LAYER_INDEX[upto]
    return [n for n in LAYER_NAMES[: last + 1] if n.startswith("conv")]


def net_cost(h: int, w: int, upto: str = "conv5_4", stride_one: bool = False) -> NetCost:
    """Analytic FLOPs, activation memory and receptive field of VGG19 up to ``upto`` on (h, w)."""
    flops, act, peak, cin = 0.0, 0.0, 0.0, 3
    rows, cols = h, w
    for name in conv_layers(upto):
        block = int(name[4])
        if not stride_one and name.endswith("_1") and block > 1:
            rows, cols = rows // 2, cols // 2  # the pooling before this block (floor, like MaxPool2d)
        cout = LAYER_CHANNELS[name]
        flops += 2.0 * 9 * cin * cout * rows * cols
        size = 4.0 * cout * rows * cols / 2**20
        act, peak, cin = act + size, max(peak, size), cout
    geo = vgg19_geometry(stride_one)[conv_layers(upto)[-1]]
    return NetCost(flops / 1e9, act, peak, geo.rf_px, (rows, cols))


def run_upto(net, x, upto: str, stride_one: bool = False):
    """Run VGG19's trunk (``net.features``) on a normalised (1, 3, H, W) tensor up to ``upto``;
    ``stride_one`` skips every pooling layer. Returns the last activation."""
    for i, name in enumerate(LAYER_NAMES[: LAYER_INDEX[upto] + 1]):
        if stride_one and name.startswith("pool"):
            continue
        x = net.features[i](x)
    return x


def time_ms(net, rgb: np.ndarray, upto: str, stride_one: bool, repeats: int = 1) -> float:
    """Best wall time (ms) of ``repeats`` runs of :func:`run_upto` on RGB uint8 (H, W, 3), after one
    untimed warm-up run for the (cheap) downsampling network."""
    import torch

    from core.backbones.vgg19 import rgb_to_tensor

    with torch.inference_mode():
        x = net.normalize(rgb_to_tensor(rgb, net.mean.device))
        if not stride_one:
            run_upto(net, x, upto, stride_one)
        best = float("inf")
        for _ in range(max(1, repeats)):
            t0 = time.perf_counter()
            run_upto(net, x, upto, stride_one)
            best = min(best, (time.perf_counter() - t0) * 1000.0)
    return best


@dataclass(frozen=True)
class CostComparison:
    """Result of :func:`compare`; ``*_cost`` at the photo's size, ``*_ms`` at ``timed_hw``."""

    upto: str
    photo_hw: tuple[int, int]
    real: NetCost
    flat: NetCost
    timed_hw: tuple[int, int]
    real_ms: float
    flat_ms: float
    layers_to_see_photo: int

    def rows(self) -> list[dict]:
        """Table rows: one per network."""
        def row(name: str, c: NetCost, ms: float) -> dict:
            return {"network": name, "GFLOPs": round(c.gflops, 2), "activations MB": round(c.act_mb, 1),
                    "largest map MB": round(c.peak_mb, 1), "receptive field px": c.rf_px,
                    "output map": f"{c.out_hw[1]}x{c.out_hw[0]}", "measured ms": round(ms, 1)}
        return [row(f"VGG19 to {self.upto} (pools)", self.real, self.real_ms),
                row("same convs, stride 1 (no pools)", self.flat, self.flat_ms)]


def compare(net, rgb: np.ndarray, upto: str = "conv4_4", time_side: int = 64) -> CostComparison:
    """Costs of VGG19 with and without pooling on RGB uint8 (H, W, 3) ``rgb`` (analytic, at its size)
    and both networks timed on the photo downscaled to ``time_side`` px (the stride-1 network at the
    full size would take minutes on a CPU)."""
    from core.image import limit_side
    from core.segmentation.receptive_field import layers_to_cover

    if upto not in DEPTHS:
        raise ValueError(f"Compare up to one of {', '.join(DEPTHS)}.")
    if not 16 <= int(time_side) <= 256:
        raise ValueError("The timing size must be between 16 and 256 px.")
    h, w = rgb.shape[:2]
    small = limit_side(np.ascontiguousarray(rgb), int(time_side))
    need = 2 ** (int(upto[4]) - 1)
    if min(small.shape[:2]) < need:
        raise ValueError(f"This photo is too thin to time: shrunk to {small.shape[1]}x{small.shape[0]} px, its "
                         f"{int(upto[4]) - 1} poolings need at least {need} px on each side.")
    real_ms = time_ms(net, small, upto, False, repeats=2)
    flat_ms = time_ms(net, small, upto, True)
    return CostComparison(upto=upto, photo_hw=(h, w), real=net_cost(h, w, upto), flat=net_cost(h, w, upto, True),
                          timed_hw=small.shape[:2], real_ms=real_ms, flat_ms=flat_ms,
                          layers_to_see_photo=layers_to_cover(max(h, w)))
