"""``cvlab segment {semantic,instance,panoptic} IMAGE``: one image's segments as JSON, plus
the overlay and the task's export files with ``--out DIR``."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("segment", help="semantic, instance or panoptic segmentation of one image")
    p.add_argument("task", choices=("semantic", "instance", "panoptic"))
    p.add_argument("image")
    p.add_argument("--model", default="auto")
    p.add_argument("--out", type=Path, default=None, help="folder for the overlay and exports")
    p.set_defaults(func=cmd_segment)


def cmd_segment(args) -> Any:
    from core import render
    from core.config import SETTINGS
    from core.image import limit_side, load_image
    from core.segmentation import segment

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
        from core.segmentation.export import write_result

        args.out.mkdir(parents=True, exist_ok=True)
        result["files"] = [str(p) for p in write_result(seg, rgb, args.out)]
        overlay_path = args.out / f"{Path(args.image).stem}_{seg.task}_overlay.png"
        from PIL import Image

        Image.fromarray(render.overlay(rgb, seg)).save(overlay_path)
        result["files"].insert(0, str(overlay_path))
    return result
