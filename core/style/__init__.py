"""Neural style transfer: Gatys et al.'s optimisation (``gatys``), fast feed-forward networks
(``fast``), their parameters and finishing steps (``params``); the VGG19 they measure with is a shared
backbone (``core.backbones.vgg19``)."""
from core.style.fast import (
    ArbitraryStyleNet,
    FastResult,
    OnnxNet,
    builtin_style_image,
    fast_style_preview,
    fast_stylize,
    is_builtin_style,
    painting_presets,
    painting_style_vector,
    resolve_style,
)
from core.style.gatys import (
    GatysProgress,
    StyleObjective,
    gatys,
    gram,
    native_bf16,
    resolve_precision,
    run_gatys,
    tv_loss,
)
from core.style.params import (
    CONTENT_LAYER,
    FAST_STYLE_NAMES,
    STYLE_LAYERS,
    FastParams,
    GatysParams,
    blend,
    finish,
    luminance,
    params_from_json,
    params_to_json,
    preserve_colours,
    resize_longest,
    style_index,
    style_weights,
)

__all__ = [
    "CONTENT_LAYER", "FAST_STYLE_NAMES", "STYLE_LAYERS", "ArbitraryStyleNet", "FastParams", "FastResult",
    "GatysParams", "GatysProgress", "OnnxNet", "StyleObjective", "blend", "builtin_style_image",
    "fast_style_preview", "finish", "fast_stylize", "gatys", "gram", "is_builtin_style", "luminance",
    "painting_presets", "painting_style_vector", "params_from_json", "params_to_json",
    "preserve_colours", "resize_longest", "resolve_style", "run_gatys", "style_index", "style_weights",
    "native_bf16", "resolve_precision", "tv_loss",
]
