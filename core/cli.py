"""Command-line interface over the same functions the app uses.

Results are JSON on stdout; errors are one line on stderr with exit code 2 for
bad input (unreadable image, unknown model, unavailable weights) and 1 for bugs.

    python -m core models [--json]
    python -m core prefetch [NAMES...]
    python -m core segment {semantic,instance,panoptic} IMAGE [--model NAME] [--out DIR]
    python -m core faces ...      (core/cli_faces.py)
    python -m core style ...      (core/cli_style.py)
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from core.config import configure

EXTENSIONS = ("core.cli_faces", "core.cli_style")
"""Modules that add subcommands with ``add_parser(subparsers)``."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="CV Lab command line.")
    parser.add_argument("--offline", action="store_true", help="never try to download weights")
    parser.add_argument("--device", default="cpu", help="auto|cpu|cuda|mps (default cpu)")
    parser.add_argument("--max-side", type=int, default=None,
                        help="downscale images so the longest side is at most this (pixels)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list every model with its status")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("prefetch", help="download downloadable weights (all, or the named ones)")
    p.add_argument("names", nargs="*")
    p.set_defaults(func=cmd_prefetch)

    p = sub.add_parser("segment", help="semantic, instance or panoptic segmentation of one image")
    p.add_argument("task", choices=("semantic", "instance", "panoptic"))
    p.add_argument("image")
    p.add_argument("--model", default="auto")
    p.add_argument("--out", type=Path, default=None, help="folder for the overlay and exports")
    p.set_defaults(func=cmd_segment)

    for module in EXTENSIONS:
        try:
            importlib.import_module(module).add_parser(sub)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return parser


def cmd_models(args) -> Any:
    from core.models import registry

    rows = registry().report()
    if args.json:
        return rows
    widths = (24, 14, 13, 13, 9)
    lines = ["%-24s %-14s %-13s %-13s %9s  %s" % ("name", "task", "source", "status", "size_mb", "licence")]
    for r in rows:
        lines.append("%-24s %-14s %-13s %-13s %9.1f  %s" % (
            r["name"][: widths[0]], r["task"][: widths[1]], r["source"], r["status"], r["size_mb"], r["licence"]))
    print("\n".join(lines))
    return None


def cmd_prefetch(args) -> Any:
    from core.models import registry

    reg = registry()
    names = args.names or [s.name for s in reg.specs() if s.source == "downloadable"]
    done = []
    for name in names:
        paths = reg.fetch(name, progress=True)
        done.append({"name": name, "status": reg.status(name), "files": [str(p) for p in paths]})
    return done


def cmd_segment(args) -> Any:
    from core import render
    from core.config import SETTINGS
    from core.image import limit_side, load_image
    from core.segment import segment

    rgb = limit_side(load_image(args.image), SETTINGS.max_side)
    seg = segment(args.task, rgb, model=args.model)
    result: dict[str, Any] = {
        "task": seg.task,
        "model": seg.model,
        "image_size": list(seg.image_size),
        "segments": seg.summary(),
        "timings_ms": seg.timings_ms.rounded(),
    }
    if seg.keypoint_names:
        result["keypoint_names"] = list(seg.keypoint_names)
    if seg.task == "panoptic":
        result["void_fraction"] = round(seg.extras["void_fraction"], 6)
    if args.out is not None:
        from core.export import write_result

        args.out.mkdir(parents=True, exist_ok=True)
        result["files"] = [str(p) for p in write_result(seg, rgb, args.out)]
        overlay_path = args.out / f"{Path(args.image).stem}_{seg.task}_overlay.png"
        from PIL import Image

        Image.fromarray(render.overlay(rgb, seg)).save(overlay_path)
        result["files"].insert(0, str(overlay_path))
    return result


def main(argv: list[str] | None = None) -> int:
    from core.image import ImageError
    from core.models import ModelError

    parser = build_parser()
    args = parser.parse_args(argv)
    configure(offline=args.offline or None, device=args.device,
              max_side=args.max_side if args.max_side is not None else None)
    try:
        result = args.func(args)
    except (ImageError, ModelError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    if result is not None:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0
