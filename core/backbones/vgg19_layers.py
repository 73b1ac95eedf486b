"""VGG19's layer table: names, order, channels and strides, without torch.

The UI and the labs read these at start-up (layer pickers, receptive-field tables); the network
itself (``core.backbones.vgg19``) imports torch and loads only on first use.
"""
from __future__ import annotations

BLOCKS = (2, 2, 4, 4, 4)
"""Convolutions in each of VGG19's five blocks (each block ends with a 2x2 max-pool)."""


def _layer_names() -> tuple[str, ...]:
    names: list[str] = []
    for b, n in enumerate(BLOCKS, start=1):
        for c in range(1, n + 1):
            names += [f"conv{b}_{c}", f"relu{b}_{c}"]
        names.append(f"pool{b}")
    return tuple(names)


LAYER_NAMES: tuple[str, ...] = _layer_names()
"""All 37 layer names, in order; ``LAYER_NAMES[i]`` is ``features[i]`` of torchvision's VGG19."""
LAYER_INDEX = {name: i for i, name in enumerate(LAYER_NAMES)}
CONV_NAMES = tuple(n for n in LAYER_NAMES if n.startswith("conv"))
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYERS = ("relu4_2",)
LAYER_CHANNELS = {name: (64, 128, 256, 512, 512)[int(name[4]) - 1] for name in LAYER_NAMES}
"""Channels of each layer's output."""
LAYER_STRIDE = {name: 2 ** (int(name[4]) - (0 if name.startswith("pool") else 1)) for name in LAYER_NAMES}
"""Downsampling factor of each layer's output relative to the input."""
