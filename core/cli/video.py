"""Clips on the command line: ``cvlab segment ...``, ``cvlab style`` and ``cvlab faces identify``
given a video write ``DIR/<stem>.mp4`` (the overlaid clip, H.264) and ``DIR/<stem>.json`` (see
:mod:`core.video.run` for the schema).

A tqdm bar on stderr counts frames. Ctrl-C stops at the current frame and still leaves a playable
``<stem>.mp4`` of the frames done and its JSON (``"complete": false``); the command then exits 130.
``--every N`` keeps every N-th frame (the output plays at fps / N), ``--max-frames N`` and
``--max-seconds S`` cut the clip (said in the JSON's ``video.notes``).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from core.video.io import is_video_path


def add_video_arguments(p) -> None:
    """The flags every clip-capable command shares."""
    p.add_argument("--every", type=int, default=1, help="clips: process every N-th frame")
    p.add_argument("--max-frames", type=int, default=None, help="clips: process at most N frames")
    p.add_argument("--max-seconds", type=float, default=None, help="clips: use only the first S seconds")
    p.add_argument("--detect-every", type=int, default=4,
                   help="clips, instance: run the detector every K frames and follow people in between")


def video_options(args) -> dict[str, Any]:
    """The clip flags as plain data (batch workers receive them)."""
    return {"every": args.every, "max_frames": args.max_frames, "max_seconds": args.max_seconds,
            "detect_every": args.detect_every}


def is_clip(path: str | Path) -> bool:
    """A file to treat as a clip (by suffix; the decoder decides whether it really is one)."""
    return Path(path).is_file() and is_video_path(path)


def run_clip(path: str | Path, processor, out_dir: Path, options: dict[str, Any], *, name: str | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Process one clip into ``out_dir/<name>.mp4`` and ``out_dir/<name>.json``; returns the JSON.
    On Ctrl-C the partial clip and its JSON are written, then KeyboardInterrupt propagates."""
    from tqdm import tqdm

    from core.config import SETTINGS
    from core.video.run import ClipRun, Limits

    if options.get("every", 1) < 1 or (options.get("max_frames") is not None and options["max_frames"] < 1):
        raise ValueError("--every and --max-frames must be at least 1.")
    name = name or Path(path).stem
    out_dir.mkdir(parents=True, exist_ok=True)
    limits = Limits(every=options.get("every", 1), max_frames=options.get("max_frames"),
                    max_seconds=options.get("max_seconds"), max_side=SETTINGS.max_side)
    bar = None  # made at the first frame, so a clip refused up front prints only its error line

    def on_progress(p) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=p.total, unit="frame", file=sys.stderr, desc=Path(path).name, disable=not progress,
                       leave=False)
        bar.total = p.total
        bar.update(p.done - bar.n)

    run = ClipRun(path, out_dir / f"{name}.mp4", processor, limits, on_progress=on_progress)
    try:
        run.run()
    finally:
        if bar is not None:
            bar.close()
        if run.info is not None:
            (out_dir / f"{name}.json").write_text(json.dumps(run.result(), indent=1) + "\n")
    return run.result()


def clip_summary(result: dict[str, Any], out_dir: Path, name: str) -> dict[str, Any]:
    """What a single-clip command prints: the clip's ``video`` and ``tracks`` and its two files
    (the per-frame list stays in the JSON file)."""
    return {"video": result["video"], "tracks": result["tracks"],
            "files": [str(out_dir / f"{name}.mp4"), str(out_dir / f"{name}.json")]}


def segment_clip(path: Path, out_dir: Path | None, task: str, model: str, options: dict[str, Any], *,
                 name: str | None = None, progress: bool = True) -> dict[str, Any]:
    """``cvlab segment TASK CLIP --out DIR``: the clip's JSON."""
    from core.video.tasks import SegmentProcessor

    if out_dir is None:
        raise ValueError("A clip needs --out DIR (for the overlaid clip and its JSON).")
    processor = SegmentProcessor(task, model, detect_every=options.get("detect_every", 4))
    return run_clip(path, processor, out_dir, options, name=name, progress=progress)


def style_clip(path: Path, out_dir: Path, style_options: dict[str, Any], options: dict[str, Any], *,
               name: str | None = None, progress: bool = True) -> dict[str, Any]:
    """``cvlab style CLIP --style S --out DIR`` (fast mode only: Gatys takes minutes a frame)."""
    from core.video.tasks import StyleProcessor

    if style_options.get("mode", "fast") != "fast":
        raise ValueError("Clips use --mode fast (Gatys optimisation takes minutes for each frame).")
    if out_dir.suffix:
        raise ValueError("For a clip, --out is a folder (it receives <name>.mp4 and <name>.json).")
    processor = StyleProcessor(style_options["style"], strength=style_options.get("strength", 1.0),
                               size=style_options.get("size") or 512)
    return run_clip(path, processor, out_dir, options, name=name, progress=progress)


def faces_clip(path: Path, out_dir: Path | None, gallery, options: dict[str, Any], **face_options) -> dict[str, Any]:
    """``cvlab faces identify CLIP --gallery DIR --out DIR``."""
    from core.video.tasks import FaceProcessor

    if out_dir is None:
        raise ValueError("A clip needs --out DIR (for the overlaid clip and its JSON).")
    return run_clip(path, FaceProcessor(gallery, **face_options), out_dir, options)
