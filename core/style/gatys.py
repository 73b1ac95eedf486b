"""

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
convolutions and the Gram products run in bf16 (a bf16 channels-last copy of the
network) while targets and losses stay float32; the steps are as good as float32
ones (the benchmark judges every result in float32). (2) coarse-to-fine: with ``scales=2``
the first part of the steps runs at half the size (a quarter of the pixels, ~4x
cheaper a step); what that level changed is upsampled onto the full-size photo and
refined there. (3) Targets are computed once per scale under ``torch.inference_mode``.
(4) The thread count of each step comes from the steps' own times (:class:`ThreadTuner`):
two threads on a quiet machine, one while another job holds a core.
"""
from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from core.style.params import (
    GatysParams,
    grey3,
    resize_to,
    preserve_colours,
    resize_longest,
)
from core.thread_tuner import ThreadTuner
from core.types import Timings

if TYPE_CHECKING:  # torch is imported lazily: importing this module stays cheap
    import torch


UPSAMPLE = "residual"

def gram(f: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) -> (C, C) Gram matrix F F^T / (C H W), in ``f``'s dtype."""
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

    ``net`` is a :class:`core.backbones.vgg19.VGG19`; ``content`` and ``style`` are (1, 3, H, W)
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
            # normalise in float32, then run a bf16 channels-last copy of VGG19 (no per-step weight casts);
            # the Gram matrices are bf16 products too (float32 accumulation inside, the C x C result rounded
            # to bf16, then float32): the big early feature maps are never copied to float32
            h = self.net.normalize(x).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
            feats = self.net.bf16_copy()(h, self.layers, normalized=True)
        else:
            feats = self.net(x, self.layers)
        content = (feats[self.p.content_layer].float() - self.content_t).pow(2).sum() / self.content_norm
        style = x.new_zeros(())
        for k, w in self.style_w.items():
            style = style + w * (gram(feats[k]).float() - self.gram_t[k]).pow(2).sum() / self.gram_norm[k]
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
        threads: torch threads this step used (:class:`core.thread_tuner.ThreadTuner` picks them).
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
    threads: int = 1
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
    from core.backbones.vgg19 import tensor_to_rgb

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

    p = (params or GatysParams()).validate()
    t0 = time.perf_counter()
    timings = Timings()
    out = resize_longest(content, p.size)
    if p.preserve_colours:  # luminance-only transfer (Gatys et al. 2016, "Preserving colour")
        style_rgb, content_work = grey3(style, ref=content), grey3(content)
    else:
        style_rgb, content_work = style, content
    schedule = _feasible(p.schedule(), p.size, content.shape[:2])
    run = _Run(net=load(p.model), params=p, out=out, timings=timings, t0=t0, cancel=cancel,
               gen=torch.Generator().manual_seed(int(p.seed)), total=sum(n for _, n in schedule),
               threads=ThreadTuner(fixed=p.threads or None))
    for si, (scale, n_steps) in enumerate(schedule):
        yield from run.level(content_work, style_rgb, scale, n_steps, final_scale=si == len(schedule) - 1)
        if run.stopped:
            break
    last = run.last
    if last is None:
        raise ValueError("Stopped before the first step.")
    with timings.stage("convert"):
        last.image = run.finish(last._best, out.shape[:2])
    last.done = True
    last.cancelled = run.stopped
    last.elapsed_s = time.perf_counter() - t0
    last.timings_ms = timings.rounded()
    yield last


@dataclass
class _Run:
    """One Gatys run's state across its scale levels: the image being optimised (``x``), the step
    count, the last progress, and whether it was stopped."""

    net: Any
    params: GatysParams
    out: np.ndarray  # the content photo at the output size (colours to keep, output shape)
    timings: Timings
    t0: float
    cancel: threading.Event | None
    gen: Any  # torch.Generator for the noise start
    total: int  # steps over all levels
    threads: ThreadTuner  # the thread count of each step, from the steps' own times
    x: Any = None
    prev_c: Any = None  # the previous level's content tensor (for the residual upsampling)
    step: int = 0
    last: GatysProgress | None = None
    stopped: bool = False

    def finish(self, x, hw) -> np.ndarray:
        """A (1, 3, h, w) tensor in [0, 1] -> RGB uint8 at ``hw``, colours restored when asked."""
        rgb = _to_uint8(x)
        rgb = resize_to(rgb, hw) if rgb.shape[:2] != tuple(hw) else rgb
        return preserve_colours(rgb, self.out) if self.params.preserve_colours else rgb

    def level(self, content_work, style_rgb, scale: float, n_steps: int, final_scale: bool) -> Iterator[GatysProgress]:
        """Optimise ``n_steps`` at ``scale`` of the output size, yielding each step's progress."""
        from core.backbones.vgg19 import rgb_to_tensor

        p, out_hw = self.params, self.out.shape[:2]
        side = max(32, int(round(p.size * scale)))
        with self.timings.stage("targets"):
            c_img = resize_longest(content_work, side)
            s_img = _at_least(resize_longest(style_rgb, max(32, int(round(side * p.style_scale)))), style_rgb)
            c_t = rgb_to_tensor(c_img)
            objective = StyleObjective(self.net, c_t, rgb_to_tensor(s_img), p)
        x = _start_image(self.x, c_t, self.prev_c, p, self.gen).detach().contiguous().requires_grad_(True)
        self.x, self.prev_c = x, c_t
        opt = _optimizer(x, p)
        self.threads.reset()
        best_loss, best = float("inf"), x.detach().clone()
        for _ in range(n_steps):
            if self.cancel is not None and self.cancel.is_set():
                self.stopped = True
                return
            with self.threads.step() as n_threads:
                record, current = _one_step(opt, objective, x, self.timings)
            self.step += 1
            if record["total"] < best_loss:
                best_loss, best = record["total"], current
            is_last = final_scale and self.step == self.total
            image = None
            if self.step % max(1, p.preview_every) == 0 and not is_last:
                with self.timings.stage("convert"):
                    image = self.finish(x.detach(), out_hw)
            self.last = GatysProgress(step=self.step, total_steps=p.steps, scale=scale, size=tuple(c_img.shape[:2]),
                                      losses=record, image=image, elapsed_s=time.perf_counter() - self.t0,
                                      best_loss=best_loss, precision=objective.precision, threads=n_threads,
                                      _current=current,
                                      _best=best, _out_hw=out_hw, _finish=self.finish)
            if not is_last:
                yield self.last


def _start_image(x, c_t, prev_c, p: GatysParams, gen):
    """A level's starting image: the content (or noise) on the first level, else the previous
    level's result upsampled to this level's size."""
    import torch

    if x is None:
        return torch.rand(c_t.shape, generator=gen) * 0.5 + 0.25 if p.init == "noise" else c_t.clone()
    up = torch.nn.functional.interpolate
    hw = tuple(c_t.shape[-2:])
    if p.init == "content" and UPSAMPLE == "residual":
        # keep the full-size photo's fine detail: upsample only what the coarse level changed
        return c_t + up(x.detach() - prev_c, size=hw, mode="bicubic", align_corners=False)
    return up(x.detach(), size=hw, mode="bicubic", align_corners=False)


def _optimizer(x, p: GatysParams):
    import torch

    if p.optimizer == "lbfgs":
        return torch.optim.LBFGS([x], lr=1.0, max_iter=1, history_size=100)
    return torch.optim.Adam([x], lr=p.lr)


def _one_step(opt, objective, x, timings: Timings) -> tuple[dict[str, float], Any]:
    """One optimiser step: (the losses, the image they were computed on, before the update)."""
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
    if not np.isfinite(record["total"]):
        raise ValueError("The optimisation diverged (loss is not finite); lower the weights or use L-BFGS.")
    return record, snapshot[-1]


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
