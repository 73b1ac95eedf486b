"""Receptive fields of a real network: the theoretical window of each layer and the effective one.

**Theoretical receptive field.** Walking a chain of layers (kernel ``k``, stride ``s``, padding ``p``),
the receptive field ``r`` (px), the jump ``j`` (input px between neighbouring output units, the
layer's total stride) and the input position ``start`` of output unit 0's centre grow as

    r_out = r_in + (k - 1) * j_in,    j_out = j_in * s,    start_out = start_in + ((k - 1) / 2 - p) * j_in

(Dumoulin & Visin, "A guide to convolution arithmetic", 2016; Araujo et al., "Computing receptive
fields of convolutional neural networks", Distill 2019). Each 3x3 stride-1 convolution adds 2 * j px;
pooling doubles j, so every later 3x3 layer adds twice as much. VGG19: conv3_4 48 px, conv4_4 116 px,
conv5_4 252 px.

**Effective receptive field** (Luo et al., NeurIPS 2016): the gradient of one output unit (all its
channels summed) with respect to the input pixels. Only pixels inside the theoretical square can have
a gradient, and in practice most of it sits in a much smaller blob near the centre.

Coordinates are (x, y) pixels of the image the network sees, x to the right, y down; pixel centres
at integer coordinates.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.backbones.vgg19_layers import CONV_NAMES, LAYER_NAMES

ERF_MASS = 0.9
"""``erf_radius_px`` is the radius of the disc around the ERF centre holding this share of |gradient|."""


@dataclass(frozen=True)
class LayerGeometry:
    """One layer's place in the chain: kernel / stride / padding of the layer itself, and the
    receptive field ``rf_px``, total stride ``jump`` and first-unit centre ``start`` (px) of its output."""

    layer: str
    kernel: int
    stride: int
    padding: int
    rf_px: int
    jump: int
    start: float

    def unit_at(self, x: float, y: float, out_hw: tuple[int, int] | None = None) -> tuple[int, int]:
        """(col, row) of the output unit whose centre is nearest input pixel (x, y), clipped to
        ``out_hw`` (rows, cols) when given."""
        col, row = round((x - self.start) / self.jump), round((y - self.start) / self.jump)
        if out_hw is not None:
            row, col = min(max(row, 0), out_hw[0] - 1), min(max(col, 0), out_hw[1] - 1)
        return int(col), int(row)

    def centre_of(self, col: int, row: int) -> tuple[float, float]:
        """Input (x, y) of the centre of output unit (col, row)."""
        return self.start + col * self.jump, self.start + row * self.jump

    def square(self, x: float, y: float) -> tuple[float, float, float, float]:
        """The receptive field of the unit nearest (x, y): (x0, y0, x1, y1), unclipped, in px."""
        cx, cy = self.centre_of(*self.unit_at(x, y))
        half = (self.rf_px - 1) / 2.0
        return cx - half, cy - half, cx + half + 1, cy + half + 1


def chain_geometry(layers: list[tuple[str, int, int, int]]) -> list[LayerGeometry]:
    """Apply the recurrence above to ``[(name, kernel, stride, padding), ...]`` in order."""
    r, j, start = 1, 1, 0.0
    out = []
    for name, k, s, p in layers:
        r, start, j = r + (k - 1) * j, start + ((k - 1) / 2.0 - p) * j, j * s
        out.append(LayerGeometry(name, k, s, p, r, j, start))
    return out


def vgg19_chain(stride_one: bool = False) -> list[tuple[str, int, int, int]]:
    """VGG19's conv and pool layers as (name, kernel, stride, padding); ReLUs change nothing.
    ``stride_one``: the same layers with every pooling removed (the network that never downsamples)."""
    chain = []
    for name in LAYER_NAMES:
        if name.startswith("conv"):
            chain.append((name, 3, 1, 1))
        elif name.startswith("pool") and not stride_one:
            chain.append((name, 2, 2, 0))
    return chain


def vgg19_geometry(stride_one: bool = False) -> dict[str, LayerGeometry]:
    """Layer name -> geometry for VGG19 (conv and pool layers; a ``relu`` has its conv's geometry)."""
    return {g.layer: g for g in chain_geometry(vgg19_chain(stride_one))}


def geometry_of(layer: str, stride_one: bool = False) -> LayerGeometry:
    """Geometry of any VGG19 layer name (``relu3_1`` -> that of ``conv3_1``)."""
    geo = vgg19_geometry(stride_one)
    key = "conv" + layer[4:] if layer.startswith("relu") else layer
    if key not in geo:
        raise ValueError(f"Unknown VGG19 layer '{layer}'; use one of {', '.join(geo)}.")
    return geo[key]


def layers_to_cover(side_px: int, kernel: int = 3) -> int:
    """Stride-1 ``kernel`` x ``kernel`` layers needed before one unit's receptive field spans
    ``side_px`` pixels (each adds ``kernel - 1`` px to a field that starts at 1 px)."""
    return max(0, math.ceil((side_px - 1) / (kernel - 1)))


# --------------------------------------------------------------------------- effective field
@dataclass(frozen=True, eq=False)
class EffectiveField:
    """The effective receptive field of one unit.

    Attributes:
        layer: the VGG19 layer.
        unit: (col, row) of the unit in the layer's output.
        unit_centre: (x, y) px, the theoretical centre of the unit in the image.
        grad: (H, W) float32 >= 0, |d unit / d pixel| summed over RGB, over the whole image
            (zero outside the part the network was run on).
        centre: (x, y) px, the |gradient|-weighted centroid.
        radius_px: radius of the disc around ``centre`` holding :data:`ERF_MASS` of the gradient.
        crop: (x0, y0, x1, y1) px, the part of the image the network was run on.
    """

    layer: str
    unit: tuple[int, int]
    unit_centre: tuple[float, float]
    grad: np.ndarray
    centre: tuple[float, float]
    radius_px: float
    crop: tuple[int, int, int, int]


def aligned_crop(geo: LayerGeometry, x: float, y: float, hw: tuple[int, int]) -> tuple[int, int, int, int]:
    """A window of the image (x0, y0, x1, y1) holding the whole receptive field of the unit nearest
    (x, y), with x0, y0 multiples of the layer's jump, so that the pooling grid (and thus every
    value inside the field) is the same in the crop as in the whole image."""
    h, w = hw
    sx0, sy0, sx1, sy1 = geo.square(x, y)
    j = geo.jump
    x0, y0 = max(0, int(math.floor(sx0 / j)) * j), max(0, int(math.floor(sy0 / j)) * j)
    x1 = min(w, int(math.ceil(sx1 / j)) * j + j)
    y1 = min(h, int(math.ceil(sy1 / j)) * j + j)
    return x0, y0, x1, y1


def gradient_stats(grad: np.ndarray, mass: float = ERF_MASS) -> tuple[tuple[float, float], float]:
    """(centroid (x, y) px, radius holding ``mass`` of the total) of a non-negative (H, W) map."""
    total = float(grad.sum())
    if total <= 0:
        raise ValueError("The gradient is zero everywhere: this unit does not respond to the photo.")
    ys, xs = np.indices(grad.shape, dtype=np.float64)
    cx, cy = float((grad * xs).sum() / total), float((grad * ys).sum() / total)
    dist = np.hypot(xs - cx, ys - cy).ravel()
    order = np.argsort(dist, kind="stable")
    cum = np.cumsum(grad.ravel()[order], dtype=np.float64)
    k = int(np.searchsorted(cum, mass * total))
    return (cx, cy), float(dist[order[min(k, len(order) - 1)]])


def effective_field(net, rgb: np.ndarray, x: float, y: float, layer: str) -> EffectiveField:
    """Effective receptive field of the ``layer`` unit of a :class:`core.backbones.vgg19.VGG19` nearest
    pixel (x, y) of ``rgb`` (RGB uint8 (H, W, 3)). The network runs only on the aligned crop that holds
    the unit's theoretical field (same values, far less work than the whole photo)."""
    import torch

    from core.backbones.vgg19 import rgb_to_tensor

    h, w = rgb.shape[:2]
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError(f"The point ({x:g}, {y:g}) is outside the {w}x{h} image.")
    geo = geometry_of(layer)
    name = "conv" + layer[4:] if layer.startswith("relu") else layer
    x0, y0, x1, y1 = aligned_crop(geo, x, y, (h, w))
    inp = rgb_to_tensor(rgb[y0:y1, x0:x1], net.mean.device).requires_grad_(True)
    # a crop thinner than the layer's stride would pool away to nothing: extend it at the bottom / right
    # with zeros after normalisation (the mean colour, what the convolutions' own padding adds)
    pad_h, pad_w = max(0, geo.jump - (y1 - y0)), max(0, geo.jump - (x1 - x0))
    with torch.enable_grad():
        z = torch.nn.functional.pad(net.normalize(inp), (0, pad_w, 0, pad_h))
        act = net(z, [name], normalized=True)[name]
        col, row = geo.unit_at(x - x0, y - y0, tuple(act.shape[2:]))
        act[0, :, row, col].sum().backward()
    local = inp.grad[0].abs().sum(0).cpu().numpy().astype(np.float32)
    grad = np.zeros((h, w), np.float32)
    grad[y0:y1, x0:x1] = local
    centre, radius = gradient_stats(grad)
    ux, uy = geo.centre_of(col, row)
    return EffectiveField(layer=layer, unit=(col + x0 // geo.jump, row + y0 // geo.jump),
                          unit_centre=(ux + x0, uy + y0), grad=grad, centre=centre, radius_px=radius,
                          crop=(x0, y0, x1, y1))


def layer_rows(names: tuple[str, ...] = CONV_NAMES) -> list[dict]:
    """``[{"layer", "stride", "rf_px"}]`` for VGG19's conv and pool layers in ``names`` (all convs by default)."""
    geo = vgg19_geometry()
    return [{"layer": n, "stride": geo[n].jump, "rf_px": geo[n].rf_px} for n in names if n in geo]


# --------------------------------------------------------------------------- the lab's report
WORK_SIDE = 320
"""The photo is downscaled to this longest side (px) before VGG19 sees it (the field sizes are
in the pixels the network sees)."""
BLOCK_ENDS = ("conv1_2", "conv2_2", "conv3_4", "conv4_4", "conv5_4")
"""The layers whose squares are drawn: the last convolution of each block."""


def conv_name(layer: str) -> str:
    """``relu4_4`` -> ``conv4_4`` (a ReLU has its convolution's field); anything else unchanged."""
    return "conv" + layer[4:] if layer.startswith("relu") else layer


def receptive_field_report(net, rgb: np.ndarray, x: float, y: float, layer: str = "conv4_4",
                           work_side: int = WORK_SIDE) -> tuple[np.ndarray, dict, EffectiveField]:
    """Receptive fields of VGG19 at pixel (x, y) of the photo ``rgb`` (RGB uint8 (H, W, 3), x, y in
    its pixels).

    Returns:
        drawing: RGB uint8 (h, w, 3), the photo at the analysed size (longest side ``work_side``):
            the effective field of ``layer`` as a heat map, the theoretical squares of the block ends
            and of ``layer``, the ERF centre and radius.
        data: ``{"layers": [{"layer", "stride", "rf_px"}], "layer", "erf_center": [x, y],
            "erf_radius_px", "unit_center": [x, y], "analysed_size": [w, h], "scale"}``; ``rf_px`` and
            ``stride`` are in the analysed image's pixels, ``erf_*`` / ``unit_center`` in the photo's.
        erf: the :class:`EffectiveField` (analysed-image pixels).
    """
    from core.image import limit_side
    from core.segmentation import lab_draw

    h, w = rgb.shape[:2]
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError(f"The point ({x:g}, {y:g}) is outside the {w}x{h} photo.")
    if conv_name(layer) not in CONV_NAMES:
        raise ValueError(f"Pick a convolution layer: one of {', '.join(CONV_NAMES)}.")
    small = limit_side(np.ascontiguousarray(rgb), int(work_side))
    scale = w / small.shape[1]
    sx, sy = min(x / scale, small.shape[1] - 1), min(y / scale, small.shape[0] - 1)
    erf = effective_field(net, small, sx, sy, conv_name(layer))
    shown = list(dict.fromkeys([*BLOCK_ENDS, conv_name(layer)]))
    squares = [(n, geometry_of(n).square(sx, sy)) for n in shown]
    drawing = lab_draw.draw_squares(lab_draw.heat_overlay(small, erf.grad), squares)
    drawing = lab_draw.mark_point(drawing, erf.centre[0], erf.centre[1], erf.radius_px)
    data = {"layers": layer_rows(), "layer": conv_name(layer),
            "erf_center": [round(erf.centre[0] * scale, 1), round(erf.centre[1] * scale, 1)],
            "erf_radius_px": round(erf.radius_px * scale, 1),
            "unit_center": [round(erf.unit_centre[0] * scale, 1), round(erf.unit_centre[1] * scale, 1)],
            "analysed_size": [int(small.shape[1]), int(small.shape[0])], "scale": round(scale, 4)}
    return drawing, data, erf


def field_growth(net, rgb: np.ndarray, x: float, y: float, layers: tuple[str, ...] = BLOCK_ENDS,
                 work_side: int = WORK_SIDE) -> list[dict]:
    """Theoretical vs effective field of each of ``layers`` at pixel (x, y) of the photo ``rgb`` (its
    pixels), analysed at ``work_side``: ``[{"layer", "rf_px", "erf_diameter_px", "share"}]`` where
    sizes are in the analysed image's pixels and ``share`` = ERF disc area / theoretical square area."""
    from core.image import limit_side

    h, w = rgb.shape[:2]
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError(f"The point ({x:g}, {y:g}) is outside the {w}x{h} photo.")
    small = limit_side(np.ascontiguousarray(rgb), int(work_side))
    scale = w / small.shape[1]
    sx, sy = min(x / scale, small.shape[1] - 1), min(y / scale, small.shape[0] - 1)
    rows = []
    for layer in layers:
        e = effective_field(net, small, sx, sy, conv_name(layer))
        rf = geometry_of(layer).rf_px
        rows.append({"layer": conv_name(layer), "rf_px": rf, "erf_diameter_px": round(2 * e.radius_px, 1),
                     "share": round(math.pi * e.radius_px ** 2 / rf ** 2, 3)})
    return rows
