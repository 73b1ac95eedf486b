"""Run a per-frame processor over a clip: decode -> process -> draw -> encode, one frame at a time,
and collect the clip's JSON.

The JSON (``ClipRun.result()``)::

    {"video":  {"fps", "frame_count", "width", "height",          # of the output clip
                "source": {...VideoInfo...}, "every", "complete", "notes", "audio"},
     "frames": [{"index", "time_s", "segments" | "faces": [the image command's items + "track_id"]}],
     "tracks": [{"track_id", "label", "first_frame", "last_frame", "frames"}]}

``index`` and ``time_s`` are the frame's position in the source clip. A run that stops early
(Stop, Ctrl-C, a damaged clip, a cap) keeps every frame done: the writer is closed (a playable
clip) and ``complete`` is False with the reason in ``notes``.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core.tracking import TrackLog
from core.video.io import VideoInfo, VideoWriter, probe, read_frames, target_size

AUDIO_NOTE = "audio dropped (the output is the overlaid picture; sampled frames would not line up with it)"


@dataclass
class FrameResult:
    """What a processor returns for one frame: the image to encode (RGB uint8, the frame's size),
    the JSON items (each with ``track_id`` and ``label``; None for a task without items)."""

    image: np.ndarray
    items: list[dict] | None = None


class FrameProcessor(Protocol):
    """``items_key`` ("segments" or "faces"; "" for none); ``__call__(rgb) -> FrameResult``. A
    processor keeps its own tracker: make one per clip."""

    items_key: str

    def __call__(self, rgb: np.ndarray) -> FrameResult: ...


@dataclass(frozen=True)
class Limits:
    """Sampling and caps: ``every`` N-th source frame, at most ``max_frames`` processed, nothing
    past ``max_seconds`` of the source, frames downscaled to ``max_side`` (pixels)."""

    every: int = 1
    max_frames: int | None = None
    max_seconds: float | None = None
    max_side: int | None = None


@dataclass
class Progress:
    """Passed to the ``on_progress`` callback after each frame: ``done`` frames processed of an
    expected ``total``, ``elapsed_s`` seconds, ``eta_s`` seconds left (estimate)."""

    done: int
    total: int
    elapsed_s: float

    @property
    def eta_s(self) -> float:
        return self.elapsed_s / self.done * max(0, self.total - self.done) if self.done else float("nan")


@dataclass
class ClipRun:
    """One clip through one processor (see the module docstring); ``run()`` then ``result()``."""

    source: str | Path
    out_path: str | Path
    processor: FrameProcessor
    limits: Limits = field(default_factory=Limits)
    should_stop: Callable[[], bool] | None = None
    on_progress: Callable[[Progress], None] | None = None
    info: VideoInfo | None = None
    frames: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    complete: bool = False
    log: TrackLog = field(default_factory=TrackLog)
    size: tuple[int, int] = (0, 0)

    def expected_frames(self, capped: bool = True) -> int:
        """Frames this run should process, from the header and the limits (``capped``: with the
        frame cap)."""
        info, lim = self.info, self.limits
        assert info is not None
        seconds = info.duration_s if lim.max_seconds is None else min(info.duration_s, lim.max_seconds)
        n = int(np.ceil(min(info.frame_count, max(1.0, seconds * info.fps)) / lim.every))
        return max(1, min(n, lim.max_frames) if lim.max_frames and capped else n)

    def _cap_notes(self) -> None:
        info, lim = self.info, self.limits
        assert info is not None
        if lim.max_seconds is not None and info.duration_s > lim.max_seconds:
            self.notes.append(f"clip cut: it lasts {info.duration_s:.1f} s, the first {lim.max_seconds:g} s were used")
        if lim.max_side and max(info.width, info.height) > lim.max_side:
            self.notes.append(f"frames downscaled from {info.width}x{info.height} to fit {lim.max_side} px")
        if info.has_audio:
            self.notes.append(AUDIO_NOTE)

    def run(self) -> ClipRun:
        """Process the whole clip (see :meth:`steps`)."""
        for _ in self.steps():
            pass
        return self

    def steps(self) -> Iterator[Progress]:
        """Process the clip, yielding :class:`Progress` after each frame. Raises VideoError before
        the first frame for an unusable clip; on KeyboardInterrupt (or the generator being closed)
        the partial clip is closed, playable, before the exception passes on."""
        self.info = probe(self.source)
        self._cap_notes()
        lim = self.limits
        w, h = target_size(self.info.width, self.info.height, lim.max_side)
        self.size = (w, h)
        total, t0 = self.expected_frames(), time.perf_counter()
        with VideoWriter(self.out_path, self.info.fps / lim.every, w, h) as writer:
            try:
                # one frame past the cap is read (not processed): then the clip is known to go on
                for frame in read_frames(self.source, every=lim.every, max_seconds=lim.max_seconds,
                                         max_frames=lim.max_frames + 1 if lim.max_frames else None,
                                         max_side=lim.max_side):
                    if lim.max_frames and len(self.frames) >= lim.max_frames:
                        self.notes.append(f"clip cut at {lim.max_frames} frames")
                        break
                    if self.should_stop is not None and self.should_stop():
                        self.notes.append(f"stopped after {len(self.frames)} frames")
                        return
                    self._one(frame, writer)
                    progress = Progress(len(self.frames), max(total, len(self.frames)), time.perf_counter() - t0)
                    if self.on_progress is not None:
                        self.on_progress(progress)
                    yield progress
            except (KeyboardInterrupt, GeneratorExit):
                self.notes.append(f"interrupted after {len(self.frames)} frames")
                raise
            self.complete = True
            if len(self.frames) < total - 1 and not (lim.max_frames and len(self.frames) >= lim.max_frames):
                self.notes.append(f"the clip ended after {len(self.frames)} of {total} expected frames "
                                  "(damaged, a frame larger than 4K, or shorter than its header says)")

    def _one(self, frame, writer: VideoWriter) -> None:
        res = self.processor(frame.rgb)
        writer.write(res.image)
        row: dict[str, Any] = {"index": frame.index, "time_s": frame.time_s}
        key = self.processor.items_key
        if key:
            row[key] = res.items or []
            self.log.add(frame.index, [it["track_id"] for it in row[key]], [it.get("label", "") for it in row[key]])
        self.frames.append(row)

    def result(self) -> dict[str, Any]:
        """The clip's JSON (module docstring); valid also after an early stop."""
        info = self.info
        fps = info.fps / self.limits.every if info else 0.0
        return {
            "video": {"fps": round(fps, 4), "frame_count": len(self.frames), "width": self.size[0],
                      "height": self.size[1], "every": self.limits.every, "complete": self.complete,
                      "source": ({"fps": round(info.fps, 4), "frame_count": info.frame_count, "width": info.width,
                                  "height": info.height, "duration_s": round(info.duration_s, 3), "codec": info.codec,
                                  "has_audio": info.has_audio} if info else None),
                      "audio": "dropped", "notes": list(self.notes)},
            "frames": self.frames,
            "tracks": self.log.tracks(),
        }
