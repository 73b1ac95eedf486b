"""The FCN lab: how fully convolutional networks label every pixel, on real networks and real photos.

Everything here returns data (numpy arrays and numbers), never pictures; :func:`heatmap` is the
one display helper (float map -> RGB) so that tabs stay free of array code.

1. **Sliding window vs fully convolutional** (:func:`sliding_window`). Before FCNs, a network
   labelled an image patch by patch. Run the real segmentation model once per window and compare
   with one pass over the whole image: the two maps, the number of forward passes, the times, and
   how much the maps agree. Two patch modes:

   * ``"tile"``: each window labels all its pixels; overlapping windows average their class
     probabilities (what people still do for huge images).
   * ``"centre"``: each window decides only the ``stride`` x ``stride`` cell at its centre (the
     classic patch classifier: one forward pass per output cell).

2. **Down- and up-sampling** (:func:`sampling_lab`) on a real feature map of a real network (the
   bundled VGG19's early layers, ``core.backbones.vgg19``): max-pooling that remembers where each maximum was
   (the "switches"), max-unpooling that puts values back there, nearest neighbour, "bed of nails"
   (value in the top-left corner, zeros elsewhere), bilinear interpolation, and a transposed
   convolution with a chosen kernel / stride / padding, whose output side is
   ``(in - 1) * stride - 2 * padding + kernel``. With a uniform kernel whose size is not a
   multiple of the stride, output pixels receive different numbers of kernel copies: the
   checkerboard artefact (:func:`overlap_counts`).

The small operations take and return 2-D numpy arrays so they can be checked by hand.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

# --------------------------------------------------------------------------- 1. sliding window
MAX_PASSES = 400
"""Refuse sliding-window runs that would need more forward passes than this."""
MAX_SECONDS = 90.0
"""... or that would take longer than this (estimated from the one-pass time)."""


def window_starts(length: int, window: int, stride: int) -> list[int]:
    """Start offsets of windows of ``window`` px every ``stride`` px covering ``length`` px;
    the last window is aligned with the end so every pixel is covered."""
    if window <= 0 or stride <= 0:
        raise ValueError("window and stride must be positive")
    window = min(window, length)
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] + window < length:
        starts.append(length - window)
    return starts


def tile_windows(h: int, w: int, window: int, stride: int) -> np.ndarray:
    """(P, 4) int boxes [x0, y0, x1, y1] of the ``"tile"`` mode."""
    wy, wx = min(window, h), min(window, w)
    boxes = [(x, y, x + wx, y + wy) for y in window_starts(h, window, stride)
             for x in window_starts(w, window, stride)]
    return np.array(boxes, np.int64).reshape(-1, 4)


def centre_cells(h: int, w: int, window: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """``"centre"`` mode: (P, 4) output cells (stride x stride, clipped) and (P, 4) windows
    centred on them (``window`` px, shifted to stay inside the image)."""
    cells, wins = [], []
    wy, wx = min(window, h), min(window, w)
    for y in range(0, h, stride):
        for x in range(0, w, stride):
            cell = (x, y, min(x + stride, w), min(y + stride, h))
            cx, cy = (cell[0] + cell[2]) / 2.0, (cell[1] + cell[3]) / 2.0
            x0 = int(min(max(0, round(cx - wx / 2)), w - wx))
            y0 = int(min(max(0, round(cy - wy / 2)), h - wy))
            cells.append(cell)
            wins.append((x0, y0, x0 + wx, y0 + wy))
    return np.array(cells, np.int64).reshape(-1, 4), np.array(wins, np.int64).reshape(-1, 4)


def count_passes(h: int, w: int, window: int, stride: int, mode: str = "tile") -> int:
    """Forward passes a sliding-window run needs (before running it)."""
    if mode == "tile":
        return len(window_starts(h, window, stride)) * len(window_starts(w, window, stride))
    if mode == "centre":
        return math.ceil(h / stride) * math.ceil(w / stride)
    raise ValueError(f"Unknown mode '{mode}'; use 'tile' or 'centre'.")


def pixel_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels with the same label in two (H, W) label maps (pixel accuracy of a vs b)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"label maps differ in shape: {a.shape} vs {b.shape}")
    return float((a == b).mean()) if a.size else 1.0


def mean_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over the classes present in either map of |a==c & b==c| / |a==c | b==c|."""
    classes = np.union1d(np.unique(a), np.unique(b))
    ious = [((a == c) & (b == c)).sum() / max(((a == c) | (b == c)).sum(), 1) for c in classes]
    return float(np.mean(ious)) if ious else 1.0


@dataclass(frozen=True, eq=False)
class SlidingWindowResult:
    """Result of :func:`sliding_window` (all maps are (H, W) int32 class ids of ``labels``)."""

    model: str
    labels: tuple[str, ...]
    mode: str
    window: int
    stride: int
    full_map: np.ndarray
    window_map: np.ndarray
    windows: np.ndarray          # (P, 4) boxes the network saw, [x0, y0, x1, y1]
    passes_full: int
    passes_window: int
    time_full_ms: float
    time_window_ms: float
    agreement: float             # pixel accuracy of window_map against full_map
    miou: float                  # mean IoU of window_map against full_map
    work_ratio: float            # pixels pushed through the network / image pixels

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.full_map.shape[0]), int(self.full_map.shape[1])

    @property
    def speedup(self) -> float:
        """How many times faster the single pass was."""
        return self.time_window_ms / max(self.time_full_ms, 1e-6)

    def summary(self) -> dict:
        return {
            "model": self.model, "mode": self.mode, "window": self.window, "stride": self.stride,
            "image_size": list(self.image_size), "passes_full": self.passes_full,
            "passes_window": self.passes_window, "time_full_ms": round(self.time_full_ms, 1),
            "time_window_ms": round(self.time_window_ms, 1), "speedup": round(self.speedup, 1),
            "agreement": round(self.agreement, 4), "miou": round(self.miou, 4),
            "work_ratio": round(self.work_ratio, 2),
        }


def sliding_window(rgb: np.ndarray, model: str = "auto", *, window: int = 128, stride: int = 64,
                   mode: str = "tile", max_passes: int = MAX_PASSES) -> SlidingWindowResult:
    """Label ``rgb`` (RGB uint8 (H, W, 3)) patch by patch and in one pass with a real model.

    Each window is given to the model as if it were a whole photo: the patch sees only its own
    context, which is the point of the comparison. The bundled person pipeline runs its detector
    on the patch; torch networks run at the image's own scale both times (no resizing to 520 px),
    so one pass and the patches see the same pixels at the same size.

    Raises:
        ValueError: a run that would need more than ``max_passes`` forward passes, or more than
            :data:`MAX_SECONDS` by the one-pass time (say which and what to change).
    """
    from core import models
    from core.segmentation.semantic import resolve_model

    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    window, stride = int(window), int(stride)
    if window < 16 or stride < 4:
        raise ValueError("Use a window of at least 16 px and a stride of at least 4 px.")
    passes = count_passes(h, w, window, stride, mode)
    if passes > max_passes:
        raise ValueError(f"A {window} px window every {stride} px over this {w}x{h} image needs {passes} "
                         f"forward passes (limit {max_passes}); use a larger stride or a smaller image.")
    name = resolve_model(model)
    if name == "things-offline" and model in (None, "", "auto"):
        name = "mediapipe-person"  # a detector pipeline per patch would be slow and teaches nothing here
    net = models.load(name)

    t0 = time.perf_counter()
    full = net.probabilities(rgb, native=True)
    time_full = (time.perf_counter() - t0) * 1000.0
    full_map = full.argmax(0).astype(np.int32)
    n_classes = full.shape[0]
    share = min(1.0, min(window, h) * min(window, w) / float(h * w))
    estimate = passes * time_full * max(share, 0.1) / 1000.0
    if estimate > MAX_SECONDS:
        raise ValueError(f"{passes} patches with {name} would take about {estimate:.0f} s here (one pass took "
                         f"{time_full / 1000:.1f} s); use a larger stride or a faster model.")

    t0 = time.perf_counter()
    window_map, boxes = patchwise_map(net, rgb, window, stride, mode, n_classes)
    time_window = (time.perf_counter() - t0) * 1000.0

    areas = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).sum()
    return SlidingWindowResult(
        model=name, labels=tuple(net.labels), mode=mode, window=window, stride=stride,
        full_map=full_map, window_map=window_map, windows=boxes, passes_full=1,
        passes_window=len(boxes), time_full_ms=time_full, time_window_ms=time_window,
        agreement=pixel_agreement(window_map, full_map), miou=mean_iou(window_map, full_map),
        work_ratio=float(areas) / float(h * w),
    )


def patchwise_map(net, rgb: np.ndarray, window: int, stride: int, mode: str,
                  n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The label map built patch by patch: (H, W) int32 map, (P, 4) int windows [x0, y0, x1, y1].

    ``"tile"``: class probabilities averaged where windows overlap; ``"centre"``: each window labels
    only its centre cell, with the class it finds most likely there."""
    h, w = rgb.shape[:2]
    if mode == "tile":
        boxes = tile_windows(h, w, window, stride)
        acc = np.zeros((n_classes, h, w), np.float32)
        count = np.zeros((h, w), np.float32)
        for x0, y0, x1, y1 in boxes:
            acc[:, y0:y1, x0:x1] += net.probabilities(rgb[y0:y1, x0:x1], native=True)
            count[y0:y1, x0:x1] += 1.0
        return (acc / np.maximum(count, 1.0)).argmax(0).astype(np.int32), boxes
    cells, boxes = centre_cells(h, w, window, stride)
    window_map = np.zeros((h, w), np.int32)
    for (cx0, cy0, cx1, cy1), (x0, y0, x1, y1) in zip(cells, boxes):
        p = net.probabilities(rgb[y0:y1, x0:x1], native=True)
        cell = p[:, cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
        window_map[cy0:cy1, cx0:cx1] = int(cell.reshape(n_classes, -1).mean(1).argmax())
    return window_map, boxes


# --------------------------------------------------------------------------- 2. down / up-sampling
def _t(x: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None, None]


def _np(t) -> np.ndarray:
    return t[0, 0].detach().cpu().numpy().astype(np.float32)


def max_pool_with_indices(x: np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """k x k max-pooling with stride k of a 2-D map.

    Returns ``(pooled (H//k, W//k) float32, indices (H//k, W//k) int64)`` where each index is
    the flat position ``row * W + col`` of the maximum in ``x`` (the "switch").
    """
    import torch.nn.functional as F

    pooled, idx = F.max_pool2d(_t(x), k, stride=k, return_indices=True)
    return _np(pooled), idx[0, 0].numpy().astype(np.int64)


def max_unpool(pooled: np.ndarray, indices: np.ndarray, out_shape: tuple[int, int], k: int = 2) -> np.ndarray:
    """Put each pooled value back at its remembered position; zeros elsewhere."""
    import torch
    import torch.nn.functional as F

    idx = torch.from_numpy(np.ascontiguousarray(indices, dtype=np.int64))[None, None]
    return _np(F.max_unpool2d(_t(pooled), idx, k, stride=k, output_size=tuple(out_shape)))


def upsample_nearest(x: np.ndarray, k: int = 2, out_shape: tuple[int, int] | None = None) -> np.ndarray:
    """Repeat every value in a k x k block (then pad/crop to ``out_shape`` if given)."""
    up = np.repeat(np.repeat(np.asarray(x, np.float32), k, axis=0), k, axis=1)
    return _fit(up, out_shape)


def bed_of_nails(x: np.ndarray, k: int = 2, out_shape: tuple[int, int] | None = None) -> np.ndarray:
    """Each value in the top-left corner of its k x k block, zeros elsewhere."""
    x = np.asarray(x, np.float32)
    up = np.zeros((x.shape[0] * k, x.shape[1] * k), np.float32)
    up[::k, ::k] = x
    return _fit(up, out_shape)


def upsample_bilinear(x: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
    """Bilinear interpolation to ``out_shape`` (pixel centres aligned, ``align_corners=False``)."""
    import torch.nn.functional as F

    return _np(F.interpolate(_t(x), size=tuple(out_shape), mode="bilinear", align_corners=False))


def _fit(x: np.ndarray, out_shape: tuple[int, int] | None) -> np.ndarray:
    if out_shape is None or tuple(x.shape) == tuple(out_shape):
        return x
    out = np.zeros(out_shape, np.float32)
    h, w = min(out_shape[0], x.shape[0]), min(out_shape[1], x.shape[1])
    out[:h, :w] = x[:h, :w]
    return out


def transposed_conv_output_size(n: int, kernel: int, stride: int, padding: int) -> int:
    """Side of a transposed convolution's output: ``(n - 1) * stride - 2 * padding + kernel``."""
    return (n - 1) * stride - 2 * padding + kernel


def make_kernel(kind: str, size: int) -> np.ndarray:
    """A (size, size) transposed-convolution kernel.

    * ``"ones"``: every weight 1 (a uniform kernel: shows the checkerboard plainly).
    * ``"bilinear"``: the kernel FCN used to initialise its upsampling layers; with
      ``size = 2 * stride`` and ``padding = stride // 2`` it performs bilinear interpolation.
    """
    if size < 1:
        raise ValueError("kernel size must be at least 1")
    if kind == "ones":
        return np.ones((size, size), np.float32)
    if kind == "bilinear":
        factor = (size + 1) // 2
        centre = factor - 1 if size % 2 == 1 else factor - 0.5
        og = np.arange(size, dtype=np.float32)
        k1 = 1 - np.abs(og - centre) / factor
        return np.outer(k1, k1).astype(np.float32)
    raise ValueError(f"Unknown kernel kind '{kind}'; use 'ones' or 'bilinear'.")


def transposed_conv(x: np.ndarray, kernel: np.ndarray, stride: int = 2, padding: int = 0) -> np.ndarray:
    """2-D transposed convolution of one channel: every input value stamps ``value * kernel``
    into the output at ``stride`` spacing; ``padding`` crops that many pixels from each border."""
    import torch
    import torch.nn.functional as F

    k = torch.from_numpy(np.ascontiguousarray(kernel, dtype=np.float32))[None, None]
    n_h = transposed_conv_output_size(x.shape[0], k.shape[-2], stride, padding)
    n_w = transposed_conv_output_size(x.shape[1], k.shape[-1], stride, padding)
    if n_h < 1 or n_w < 1:
        raise ValueError(f"kernel {k.shape[-1]}, stride {stride}, padding {padding} give an empty output")
    return _np(F.conv_transpose2d(_t(x), k, stride=stride, padding=padding))


def overlap_counts(in_shape: tuple[int, int], kernel: int, stride: int, padding: int = 0) -> np.ndarray:
    """How many kernel copies land on each output pixel (transposed conv of ones with a ones
    kernel). Uneven counts (kernel size not a multiple of the stride) = checkerboard."""
    return transposed_conv(np.ones(in_shape, np.float32), np.ones((kernel, kernel), np.float32), stride, padding)


def _inner(counts: np.ndarray, margin: int | None) -> np.ndarray:
    m = margin if margin is not None else (2 if min(counts.shape) > 8 else 0)
    h, w = counts.shape
    return counts[m:h - m, m:w - m] if min(h, w) > 2 * m else counts


def overlap_range(counts: np.ndarray, margin: int | None = None) -> tuple[float, float]:
    """(fewest, most) kernel copies on an output pixel away from the borders
    (``margin`` defaults to 2 px, 0 for maps of 8 px or less)."""
    inner = _inner(counts, margin)
    return float(inner.min()), float(inner.max())


def checkerboard_strength(counts: np.ndarray, margin: int | None = None) -> float:
    """most / fewest kernel copies away from the borders (1.0 = even coverage, no checkerboard)."""
    lo, hi = overlap_range(counts, margin)
    return hi / max(lo, 1e-6)


@dataclass(frozen=True, eq=False)
class SamplingResult:
    """Result of :func:`sampling_lab`; every map is a 2-D float32 array."""

    layer: str
    channel: int
    pool: int
    kernel: int
    stride: int
    padding: int
    kernel_kind: str
    feature: np.ndarray          # (h, w) the real feature map
    pooled: np.ndarray           # (h/pool, w/pool)
    indices: np.ndarray          # switches: flat index into feature of each max
    unpooled: np.ndarray         # (h, w)
    nearest: np.ndarray          # (h, w)
    nails: np.ndarray            # (h, w) bed of nails
    bilinear: np.ndarray         # (h, w)
    transposed: np.ndarray       # (out, out') by the formula
    kernel_weights: np.ndarray   # (kernel, kernel)
    overlap: np.ndarray          # same shape as transposed
    errors: dict = field(default_factory=dict)   # mean |up - feature| for same-size maps

    @property
    def formula(self) -> str:
        n_h, n_w = self.pooled.shape
        o_h = transposed_conv_output_size(n_h, self.kernel, self.stride, self.padding)
        o_w = transposed_conv_output_size(n_w, self.kernel, self.stride, self.padding)
        return (f"({n_h} - 1) x {self.stride} - 2 x {self.padding} + {self.kernel} = {o_h}   "
                f"and   ({n_w} - 1) x {self.stride} - 2 x {self.padding} + {self.kernel} = {o_w}")

    @property
    def checkerboard(self) -> float:
        return checkerboard_strength(self.overlap)

    @property
    def overlap_range(self) -> tuple[float, float]:
        return overlap_range(self.overlap)

    def shapes(self) -> dict[str, list[int]]:
        names = ("feature", "pooled", "unpooled", "nearest", "nails", "bilinear", "transposed")
        return {n: list(getattr(self, n).shape) for n in names}


def pick_channel(fmap: np.ndarray) -> int:
    """The channel of a (C, h, w) feature map with the most spatial variation (most to see)."""
    return int(np.argmax(fmap.reshape(fmap.shape[0], -1).std(axis=1)))


def sampling_lab(rgb: np.ndarray, *, layer: str = "relu1_2", channel: int | None = None, pool: int = 2,
                 kernel: int = 3, stride: int = 2, padding: int = 0, kernel_kind: str = "ones",
                 max_side: int = 192, feature: np.ndarray | None = None) -> SamplingResult:
    """Pool a real VGG19 feature map of ``rgb`` and bring it back up six ways.

    Args:
        rgb: RGB uint8 (H, W, 3); downscaled to ``max_side`` first (the maps stay readable).
        layer: a VGG19 layer name (``core.backbones.vgg19.LAYER_NAMES``), e.g. "relu1_2", "relu2_2".
        channel: which channel; None = the one with the most spatial variation.
        pool: pooling window and stride.
        kernel, stride, padding, kernel_kind: the transposed convolution.
        feature: a (C, h, w) or (h, w) map to use instead of running VGG19 (tests).
    """
    if feature is None:
        from core.image import limit_side
        from core.backbones.vgg19 import vgg19_features

        feature = vgg19_features(limit_side(np.ascontiguousarray(rgb), max_side), upto=layer)
    fmap = np.asarray(feature, np.float32)
    if fmap.ndim == 2:
        fmap = fmap[None]
    if channel is None:
        channel = pick_channel(fmap)
    if not 0 <= channel < fmap.shape[0]:
        raise ValueError(f"channel must be in 0..{fmap.shape[0] - 1}")
    if pool < 1 or stride < 1 or kernel < 1 or padding < 0:
        raise ValueError("pool, kernel and stride must be >= 1 and padding >= 0")
    x = fmap[channel]
    h, w = (x.shape[0] // pool) * pool, (x.shape[1] // pool) * pool
    if h == 0 or w == 0:
        raise ValueError(f"the feature map ({x.shape[0]}x{x.shape[1]}) is smaller than the pooling window")
    x = np.ascontiguousarray(x[:h, :w])
    pooled, idx = max_pool_with_indices(x, pool)
    unpooled = max_unpool(pooled, idx, (h, w), pool)
    nearest = upsample_nearest(pooled, pool, (h, w))
    nails = bed_of_nails(pooled, pool, (h, w))
    bilinear = upsample_bilinear(pooled, (h, w))
    kw = make_kernel(kernel_kind, kernel)
    transposed = transposed_conv(pooled, kw, stride, padding)
    overlap = overlap_counts(pooled.shape, kernel, stride, padding)
    errors = {name: float(np.abs(m - x).mean()) for name, m in
              (("unpooled", unpooled), ("nearest", nearest), ("nails", nails), ("bilinear", bilinear),
               ("transposed", transposed)) if m.shape == x.shape}
    return SamplingResult(layer=layer, channel=int(channel), pool=pool, kernel=kernel, stride=stride,
                          padding=padding, kernel_kind=kernel_kind, feature=x, pooled=pooled, indices=idx,
                          unpooled=unpooled, nearest=nearest, nails=nails, bilinear=bilinear,
                          transposed=transposed, kernel_weights=kw, overlap=overlap, errors=errors)


# --------------------------------------------------------------------------- display helper
def heatmap(values: np.ndarray, *, size: int | tuple[int, int] | None = 256, vmin: float | None = None,
            vmax: float | None = None) -> np.ndarray:
    """A 2-D float map as an RGB uint8 picture (viridis), scaled up with nearest neighbour so that
    single cells stay visible. ``size``: longest side in pixels, or (h, w); None = as is."""
    import cv2

    v = np.asarray(values, np.float32)
    lo = float(np.min(v)) if vmin is None else vmin
    hi = float(np.max(v)) if vmax is None else vmax
    g = np.zeros_like(v) if hi <= lo else np.clip((v - lo) / (hi - lo), 0, 1)
    img = cv2.applyColorMap((g * 255).round().astype(np.uint8), cv2.COLORMAP_VIRIDIS)[:, :, ::-1]
    if size is not None:
        if isinstance(size, int):
            s = size / max(v.shape)
            size = (max(1, round(v.shape[0] * s)), max(1, round(v.shape[1] * s)))
        img = cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(img)
