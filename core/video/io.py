"""Video files in and out, one frame at a time (PyAV: FFmpeg's libraries inside the wheel, no
``ffmpeg`` program needed).

* :func:`probe` -> :class:`VideoInfo` (fps, size, frame count, duration, audio) or one clear
  :class:`VideoError` (not a video, no picture, an unknown codec, frames too large).
* :func:`read_frames` yields :class:`Frame` (source index, time in seconds, RGB uint8 (H, W, 3)),
  decoding as it goes: memory holds one frame, however long the clip. Sampling: every N-th frame,
  a frame cap, a seconds cap; frames are downscaled (aspect kept, even sides) to a max side.
* :class:`VideoWriter` encodes RGB frames to H.264 (yuv420p) in an MP4 with the index up front
  (``+faststart``), which Chromium, Firefox and Safari play in a ``<video>`` element. Closing it
  (also when the run stops early) leaves a complete, playable file.

Audio is dropped: the output is the overlay drawn on the picture, and an audio track that no longer
lines up with the sampled frames (``every`` > 1, a frame cap) would mislead.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

MAX_FRAME_PIXELS = 3840 * 2160
"""Largest decoded frame accepted (4K UHD): an 8K frame costs ~100 MB as RGB and seconds to decode.
Checked from the header, and by the decoder itself for every frame (FFmpeg's ``max_pixels``): a clip
may change its frame size mid-way (MJPEG frames are independent pictures, H.264 may send a new
sequence header), so a header of 64x64 px can be followed by 16000x16000 px frames."""
MAX_ASPECT = 8.0
"""Widest (or tallest) frame shape accepted, long side over short side: a 16000x16 strip fitted to
640 px is 640x2, which no model here can use and which the person detector covers with hundreds of
tiles (seconds a frame)."""
CODEC = "libx264"
CODEC_OPTIONS = {"preset": "veryfast", "crf": "23"}
CONTAINER_OPTIONS = {"movflags": "+faststart"}
SUFFIX = ".mp4"
# an animated GIF is a photo (its first frame) for the image commands, not a clip
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mpg", ".mpeg", ".ogv", ".3gp", ".ts")


DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpeg,mpegts,ogg,flv,gif"
"""The only containers opened. Playlists and concatenation formats (HLS .m3u8, ffconcat, ...) are
refused: their entries name other files or URLs, which FFmpeg would fetch from the server's disk or
network on a visitor's behalf."""
DECODER_OPTIONS = {"max_pixels": str(MAX_FRAME_PIXELS + 64 * 2160)}
"""Options of every decoder opened (also those FFmpeg opens to probe the streams): a frame larger than
4K is refused before its memory is allocated, which ends the clip there. (FFmpeg checks the width
rounded up to its row alignment, up to 64 px: that much slack keeps every frame the header check
accepts.)"""
OPEN_OPTIONS = {"format_whitelist": DEMUXERS, "protocol_whitelist": "file", **DECODER_OPTIONS}


class VideoError(ValueError):
    """A clip that cannot be used, with a one-line reason a visitor understands."""


@dataclass(frozen=True)
class VideoInfo:
    """What a clip holds: ``fps`` (frames per second, float), ``width`` / ``height`` (pixels of the
    source), ``frame_count`` (from the container; an estimate when it does not say), ``duration_s``
    (seconds), ``codec`` (FFmpeg's name), ``has_audio``."""

    fps: float
    width: int
    height: int
    frame_count: int
    duration_s: float
    codec: str
    has_audio: bool


@dataclass(frozen=True)
class Frame:
    """One decoded frame: ``index`` in the source clip (0-based), ``time_s`` its presentation time
    in seconds, ``rgb`` (H, W, 3) uint8."""

    index: int
    time_s: float
    rgb: np.ndarray


def _open(path: str | Path):
    """An open PyAV container and its first video stream, or VideoError."""
    import av

    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore", options=dict(OPEN_OPTIONS))
    except FileNotFoundError:
        raise VideoError(f"'{path}' does not exist.") from None
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or _short(exc)  # FFmpeg's reason without the server's path
        raise VideoError(f"'{Path(path).name}' is not a video file FFmpeg can read ({reason}; accepted: mp4, mov, "
                         "webm, mkv, avi, mpeg, ogg, flv).") from None
    streams = container.streams.video
    if not streams:
        container.close()
        raise VideoError(f"'{Path(path).name}' has no video stream (audio only, or not a video).")
    stream = streams[0]
    if stream.codec_context is None or stream.codec_context.name in (None, "", "none"):
        container.close()
        raise VideoError(f"'{Path(path).name}' uses a video codec this build cannot decode.")
    stream.codec_context.options = dict(DECODER_OPTIONS)
    return container, stream


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:160] or type(exc).__name__


def probe(path: str | Path) -> VideoInfo:
    """The clip's :class:`VideoInfo`; VideoError for anything unusable (see the module docstring)."""
    container, stream = _open(path)
    try:
        return _info(container, stream, path)
    finally:
        container.close()


def _info(container, stream, path) -> VideoInfo:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    if not 0.1 <= fps <= 1000:
        fps = 25.0  # containers without a usable rate (some GIFs, broken headers): a common default
    width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
    if not width or not height:  # the decoder refused the first frame (over max_pixels) or no size was read
        raise VideoError(f"'{Path(path).name}' has frames larger than 3840x2160 (4K), or of no readable size. "
                         "Downscale the clip first.")
    if width * height > MAX_FRAME_PIXELS:
        raise VideoError(f"'{Path(path).name}' has {width}x{height} frames; the limit is 3840x2160 (4K). "
                         "Downscale the clip first.")
    if max(width, height) > MAX_ASPECT * max(1, min(width, height)):
        raise VideoError(f"'{Path(path).name}' has {width}x{height} frames; frames wider or taller than "
                         f"{MAX_ASPECT:g}:1 are not accepted. Crop the clip first.")
    if stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / 1_000_000
    else:
        duration = 0.0
    count = int(stream.frames or 0) or int(round(duration * fps))
    return VideoInfo(fps=fps, width=width, height=height, frame_count=count, duration_s=duration,
                     codec=stream.codec_context.name, has_audio=bool(container.streams.audio))


def target_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(width, height) after downscaling so the longest side is at most ``max_side`` (never
    upscaling), both rounded down to even numbers (H.264's 4:2:0 needs even sides)."""
    scale = 1.0 if not max_side or max(width, height) <= max_side else max_side / max(width, height)
    w, h = max(2, int(width * scale)), max(2, int(height * scale))
    return w - w % 2, h - h % 2


def read_frames(path: str | Path, *, every: int = 1, max_frames: int | None = None,
                max_seconds: float | None = None, max_side: int | None = None) -> Iterator[Frame]:
    """Decode ``path`` lazily: every ``every``-th frame, at most ``max_frames`` of them, none past
    ``max_seconds``, each downscaled by :func:`target_size`. A clip that breaks off mid-way (a
    truncated download) ends early without an error; one that yields no frame at all raises
    VideoError."""
    import av

    if every < 1:
        raise VideoError("every must be at least 1.")
    container, stream = _open(path)
    info = _info(container, stream, path)
    stream.thread_type = "AUTO"
    w, h = target_size(info.width, info.height, max_side)
    kept = 0
    try:
        for index, frame in enumerate(_decode(container, stream, av)):
            time_s = float(frame.time) if frame.time is not None else index / info.fps
            if max_seconds is not None and time_s >= max_seconds:
                break
            if index % every:
                continue
            rgb = frame.to_ndarray(format="rgb24", width=w, height=h, interpolation="AREA")
            yield Frame(index=index, time_s=round(time_s, 4), rgb=rgb)
            kept += 1
            if max_frames is not None and kept >= max_frames:
                break
    finally:
        container.close()
    if kept == 0:
        raise VideoError(f"'{Path(path).name}' has no decodable frames (empty or damaged).")


def _decode(container, stream, av) -> Iterator:
    """Frames until the end or the first damaged packet (which ends the clip there)."""
    try:
        yield from container.decode(stream)
    except (av.FFmpegError, EOFError):
        return


class VideoWriter:
    """H.264 MP4 writer for RGB uint8 (height, width, 3) frames at ``fps`` (see the module
    docstring). Use as a context manager, or call :meth:`close`; ``frames`` counts what was written."""

    def __init__(self, path: str | Path, fps: float, width: int, height: int) -> None:
        import av

        if width % 2 or height % 2:
            raise ValueError("H.264 needs even frame sides; use target_size().")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.width, self.height = width, height
        self._av = av
        self._container = av.open(str(self.path), mode="w", format="mp4", options=CONTAINER_OPTIONS)
        rate = Fraction(fps).limit_denominator(1001)
        self._stream = self._container.add_stream(CODEC, rate=rate, options=dict(CODEC_OPTIONS))
        self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, "yuv420p"
        self.frames = 0
        self._closed = False

    def write(self, rgb: np.ndarray) -> None:
        """Encode one frame; it must be (height, width, 3) uint8."""
        rgb = np.ascontiguousarray(rgb)
        if rgb.shape != (self.height, self.width, 3) or rgb.dtype != np.uint8:
            raise ValueError(f"frame is {rgb.shape} {rgb.dtype}, the clip is ({self.height}, {self.width}, 3) uint8")
        frame = self._av.VideoFrame.from_ndarray(rgb, format="rgb24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and finish the file (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def is_video_path(path: str | Path) -> bool:
    """True when the file name has a video suffix (a cheap guess; :func:`probe` decides)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES
