"""``cvlab segment {semantic,instance,panoptic} PATH...``: one image's segments as JSON (plus the
overlay and the task's export files with ``--out DIR``), or a batch over files, folders and globs
(see :mod:`core.cli.batch`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from core.cli.batch import Job, add_batch_arguments, is_batch, run_batch, settings_of
from core.cli.video import add_video_arguments, clip_summary, is_clip, segment_clip, video_options


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("segment", help="semantic, instance or panoptic segmentation of images")
    p.add_argument("task", choices=("semantic", "instance", "panoptic"))
    p.add_argument("images", nargs="+", metavar="PATH",
                   help="image or video file(s), folder(s) or glob pattern(s); a clip writes DIR/<name>.mp4 + .json")
    p.add_argument("--model", default="auto")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for the overlay and exports (a batch: per-image JSON + results.jsonl)")
    add_batch_arguments(p)
    add_video_arguments(p)
    p.set_defaults(func=cmd_segment)


def segment_file(path: str | Path, task: str, *, model: str = "auto", out_dir: Path | None = None) -> dict[str, Any]:
    """Segment one image file; the JSON-able result (segments, timings, and ``files`` written into
    ``out_dir``: the overlay first, then the task's exports)."""
    from core import render
    from core.config import SETTINGS
    from core.image import limit_side, load_image
    from core.segmentation import segment, write_result

    rgb = limit_side(load_image(path), SETTINGS.max_side)
    seg = segment(task, rgb, model=model)
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
        result["void_fraction"] = round(seg.void_fraction or 0.0, 6)
    if out_dir is not None:
        from PIL import Image

        out_dir.mkdir(parents=True, exist_ok=True)
        overlay_path = out_dir / f"{Path(path).stem}_{seg.task}_overlay.png"
        Image.fromarray(render.overlay(rgb, seg)).save(overlay_path)
        result["files"] = [str(overlay_path), *(str(p) for p in write_result(seg, rgb, out_dir))]
    return result


def segment_job(path: Path, files_dir: Path, options: dict[str, Any]) -> dict[str, Any]:
    """A batch's per-file runner (see :class:`core.cli.batch.Job`); a clip becomes
    ``<out>/<name>.mp4`` beside the batch's ``<out>/<name>.json``."""
    if is_clip(path):
        return segment_clip(path, files_dir.parent, options["task"], options.get("model", "auto"),
                            options.get("video", {}), name=files_dir.name, progress=False)
    return segment_file(path, options["task"], model=options.get("model", "auto"), out_dir=files_dir)


def cmd_segment(args) -> Any:
    if not is_batch(args.images):
        if is_clip(args.images[0]):
            result = segment_clip(Path(args.images[0]), args.out, args.task, args.model, video_options(args))
            return clip_summary(result, args.out, Path(args.images[0]).stem)
        return segment_file(args.images[0], args.task, model=args.model, out_dir=args.out)
    if args.out is None:
        raise ValueError("A batch (several images, a folder or a pattern) needs --out DIR.")
    job = Job("segment", segment_job, {"task": args.task, "model": args.model, "video": video_options(args)},
              settings_of(args))
    return run_batch(job, args.images, args.out, workers=args.workers, engine=args.engine,
                     ray_address=args.ray_address)
