"""The clip panel every tab shares: a video in, the overlaid video out, tracked ids, a JSON download
and a per-track timeline.

A tab adds it with one call, passing the components whose values configure its task and a factory
that turns those values into a :class:`core.video.run.FrameProcessor`::

    clip_panel("instance", [model], instance_clip)

The clip is processed frame by frame on the server (:class:`core.video.run.ClipRun`); progress
(frames done, time left) is streamed to the page; Stop keeps the frames done so far as a playable
clip. On a public server each clip is capped (seconds, resolution, frames, seconds of work; ``app.py
--clip-seconds --clip-side --clip-frames --clip-budget``) and the result says when a clip was cut; a
clip run is a heavy job (``demos/visitors.py``: one per session, two per address) and runs at a lower
OS priority than photo requests. The clip input (:class:`ClipInput`) reads only this server's
uploads; it is Gradio's video input used without ``format`` or ``include_audio=False``, so it never
calls an ``ffmpeg`` program (there is none on a fresh machine): the upload reaches PyAV as it is.
"""
from __future__ import annotations

import html
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from gradio.data_classes import FileData
from pydantic import model_validator

from core.config import SETTINGS
from core.jobs import run_politely
from core.render import instance_color, to_hex
from core.video.io import VideoError
from core.video.run import ClipRun, Limits
from core.video.tasks import FaceProcessor, SegmentProcessor, StyleProcessor
from demos.common import user_errors
from demos.session_files import session_dir
from demos.uploads import trusted_upload

TEACH = (
    "**Identity over time.** Instance segmentation says *which pixels are one object* in a single picture; "
    "on a clip the next question is *which object is the same one as a moment ago*. A tracker links each "
    "frame's detections to the previous frame's by how much their boxes overlap (faces also by how alike "
    "they look), so everyone keeps one **track id** (the `#` number on the overlay) while they move, and a "
    "short miss does not make them someone new. The timeline shows when each track was seen."
)


@dataclass
class ClipCaps:
    """Per-clip limits for visitors: ``seconds`` of the clip used, ``side`` (longest side of the
    processed frames, pixels), ``frames`` processed at most, ``budget_s`` seconds of wall time a run
    may take before it stops with the frames done (0: no limit). Clips share one server-wide slot, so
    the budget bounds how long one visitor's clip makes the next one wait."""

    seconds: float = 20.0
    side: int = 640
    frames: int = 600
    budget_s: float = 300.0


CAPS = ClipCaps()
_STOPS: dict[str, threading.Event] = {}
"""Stop flags of running clips, keyed by a random token that only the page that started the run holds."""


def configure_clips(seconds: float | None = None, side: int | None = None, frames: int | None = None,
                    budget_s: float | None = None) -> ClipCaps:
    """Set the per-clip caps (app.py's ``--clip-seconds`` / ``--clip-side`` / ``--clip-frames`` /
    ``--clip-budget``, the last two defined with the other sharing flags in demos/visitors.py), before
    the panels are built: their text states the caps."""
    if seconds is not None:
        CAPS.seconds = float(seconds)
    if side is not None:
        CAPS.side = int(side)
    if frames is not None:
        CAPS.frames = max(1, int(frames))
    if budget_s is not None:
        CAPS.budget_s = max(0.0, float(budget_s))
    return CAPS


class ClipData(FileData):
    """The clip input's payload: Gradio's FileData, but a reference without the FileData marker, without
    a path, or a bare string is kept for :class:`ClipInput` to judge instead of failing validation with
    pydantic's multi-line error, so every file reference the server will not open gets the photos' one
    sentence (``demos.uploads.UPLOAD_REFUSED``)."""

    path: str | None = None

    @model_validator(mode="before")
    @classmethod
    def validate_model(cls, v, info):
        if isinstance(v, (dict, FileData)):
            return v
        return {"path": v} if isinstance(v, str) else {}


class ClipInput(gr.Video):
    """``gr.Video`` for visitors' clips: the payload's path must be a file this server received
    (``trusted_upload``), and the callback gets that file's real path; it renders as a normal video
    input. No ``format`` conversion (it would call an ``ffmpeg`` program): PyAV reads the upload as it is."""

    is_template = True
    data_model = ClipData

    def preprocess(self, payload) -> str | None:
        if payload is None:
            return None
        return str(trusted_upload(payload))


# --------------------------------------------------------------------------- factories per tab
def semantic_clip(model: str, opacity: float) -> SegmentProcessor:
    return SegmentProcessor("semantic", model or "auto", opacity=float(opacity))


def instance_clip(model: str) -> SegmentProcessor:
    return SegmentProcessor("instance", model or "auto")


def panoptic_clip(model: str) -> SegmentProcessor:
    return SegmentProcessor("panoptic", model or "auto")


def faces_clip(doc: Any, detector: str, embedder: str, threshold: float | None, mode: str) -> FaceProcessor:
    from demos.faces.shared import gallery_of

    gallery = gallery_of(doc, embedder)
    if len(gallery) and gallery.model != embedder:
        raise gr.Error(f"Your gallery holds '{gallery.model}' embeddings; select that model to recognise.")
    return FaceProcessor(gallery, embedder=embedder, detector=detector, threshold=threshold, mode=mode)


PAINTING_PREFIX = "painting: "
"""How the style picker names a painting preset ("painting: starry_night")."""


def style_clip(choice: str | None, upload: Any, strength: float) -> StyleProcessor:
    """The clip's style, by the photo tab's rule: a preset (a painting or a built-in network style) by
    name, the uploaded image only when no preset is chosen ("my own image"). A choice is only ever a
    preset name: ``resolve_style`` would also open a server file named by the text, which is for the
    command line, never for a stranger's request."""
    from core.style import is_builtin_style, painting_presets

    text = str(choice or "")
    name = text[len(PAINTING_PREFIX):] if text.startswith(PAINTING_PREFIX) else None
    if name is not None and name in painting_presets() or name is None and text and is_builtin_style(text):
        return StyleProcessor(name or text, strength=float(strength))
    if upload is not None:
        from demos.common import read_upload

        return StyleProcessor(read_upload(upload, what="style image", max_side=1024), strength=float(strength))
    from demos.style import MY_IMAGE  # demos.style builds this panel: imported when a run needs it

    if text and text != MY_IMAGE:
        raise gr.Error("Unknown style: pick one of the presets, or upload a style image.")
    raise gr.Error("Pick a style preset or upload a style image.")


# --------------------------------------------------------------------------- the run
@dataclass
class Budget:
    """Wall-time budget of one run: ``spent()`` once ``seconds`` (0: never) have passed since creation."""

    seconds: float
    start: float = 0.0

    def __post_init__(self) -> None:
        self.start = time.monotonic()

    def spent(self) -> bool:
        return self.seconds > 0 and time.monotonic() - self.start > self.seconds


def status_line(done: int, total: int, elapsed_s: float) -> str:
    """'frame 12 of 60 · 4 s so far · about 16 s left'."""
    left = elapsed_s / done * max(0, total - done) if done else float("nan")
    tail = f" · about {left:.0f} s left" if np.isfinite(left) else ""
    return f"Working: frame {done} of {total} · {elapsed_s:.0f} s so far{tail}"


def timeline_html(result: dict) -> str:
    """One row per track: its id and label, and a bar marking the frames where it was seen."""
    frames = result["frames"]
    key = "segments" if frames and "segments" in frames[0] else "faces"
    if not result["tracks"]:
        return ""
    pos = {f["index"]: k for k, f in enumerate(frames)}
    n = max(1, len(frames))
    rows = []
    for t in result["tracks"][:40]:
        seen = [pos[f["index"]] for f in frames if any(i["track_id"] == t["track_id"] for i in f.get(key, []))]
        color = to_hex(instance_color(t["track_id"]))
        rects = "".join(f'<rect x="{k}" y="0" width="1" height="1" fill="{color}"/>' for k in seen)
        rows.append(f'<div class="cv-track" style="display:flex;align-items:center;gap:.5em"><span style="flex:0 0 10em">#{t["track_id"]} '
                    f'{html.escape(str(t["label"]))}</span><svg viewBox="0 0 {n} 1" preserveAspectRatio="none" '
                    f'style="flex:1;height:12px;background:#8882">{rects}</svg></div>')
    more = f"<div>… and {len(result['tracks']) - 40} more tracks (all in the JSON)</div>" if len(result["tracks"]) > 40 else ""
    return (f'<div class="cv-timeline"><b>Timeline</b> ({len(frames)} frames, {len(result["tracks"])} tracks)'
            + "".join(rows) + more + "</div>")


def summary_md(result: dict) -> str:
    v = result["video"]
    done = "**Done**" if v["complete"] else "**Stopped: partial clip**"
    lines = [f"{done}: {v['frame_count']} frames at {v['width']}x{v['height']}, {v['fps']:g} fps; "
             f"{len(result['tracks'])} tracks"]
    lines += [f"- {n}" for n in v["notes"]]
    return "  \n".join(lines)


def run_clip(factory: Callable[..., Any], clip: str | None, every: float, token: str | None, *settings):
    """Generator callback: (clip out, JSON file, status, timeline, token) as the clip is processed."""
    if not clip:
        raise gr.Error("Please add a clip first (mp4, webm or mov).")
    clip = str(trusted_upload(clip))  # a stranger's payload path: only files uploaded here
    processor = factory(*settings)
    token = uuid.uuid4().hex
    stop = _STOPS.setdefault(token, threading.Event())
    out_dir = session_dir("clip")
    stem = Path(str(clip)).stem[:40] or "clip"
    limits = Limits(every=max(1, int(every or 1)), max_frames=CAPS.frames, max_seconds=CAPS.seconds,
                    max_side=min(CAPS.side, SETTINGS.max_side))
    budget = Budget(CAPS.budget_s)
    run = ClipRun(clip, out_dir / f"{stem}_out.mp4", processor, limits,
                  should_stop=lambda: stop.is_set() or budget.spent())
    try:
        last = 0.0
        yield gr.skip(), gr.skip(), "Working: starting…", gr.skip(), token
        for p in run_politely(run.steps):  # below the photo requests' OS priority
            if time.monotonic() - last > 0.5:
                last = time.monotonic()
                yield gr.skip(), gr.skip(), status_line(p.done, p.total, p.elapsed_s), gr.skip(), token
    except VideoError as exc:
        yield gr.skip(), gr.skip(), f"**Not run:** {exc}", gr.skip(), None  # not left saying "Working"
        raise gr.Error(str(exc)) from None
    finally:
        _STOPS.pop(token, None)
    if budget.spent() and not stop.is_set() and not run.complete:
        run.notes.append(f"the server's time budget for one clip ({CAPS.budget_s:g} s) ran out: the frames done are kept")
    result = run.result()
    js = out_dir / f"{stem}.json"
    js.write_text(json.dumps(result, indent=1) + "\n")
    clip_out = str(run.out_path) if run.out_path.is_file() else None  # stopped before its first frame: no clip
    yield clip_out, str(js), summary_md(result), timeline_html(result), None


def stop_clip(token: str | None) -> None:
    """Stop button: the run keeps the frames done so far."""
    if token and token in _STOPS:
        _STOPS[token].set()


def clip_panel(kind: str, settings: list, factory: Callable[..., Any]) -> dict:
    """Build the clip panel for tab ``kind`` (see the module docstring); API name ``video_<kind>``."""
    with gr.Accordion("Clip: video in, video out, with tracked ids", open=False, elem_id=f"{kind}-video-acc"):
        gr.Markdown(TEACH)
        with gr.Row():
            with gr.Column():
                clip = ClipInput(label="Clip (mp4, webm, mov; the sound is dropped)", sources=["upload"], height=300,
                                elem_id=f"{kind}-video-in")
                every = gr.Slider(1, 10, value=1, step=1, label="Use every N-th frame",
                                  info=f"clips are cut at {CAPS.seconds:g} s and {CAPS.frames} frames"
                                       + (f", runs stop after {CAPS.budget_s:g} s of work" if CAPS.budget_s else "")
                                       + f"; frames scaled to {CAPS.side} px")
                with gr.Row():
                    run = gr.Button("Run on the clip", variant="primary", elem_id=f"{kind}-video-run")
                    stop = gr.Button("Stop (keep what is done)", elem_id=f"{kind}-video-stop")
                status = gr.Markdown(elem_id=f"{kind}-video-status")
            with gr.Column():
                out = gr.Video(label="Result", interactive=False, height=300, elem_id=f"{kind}-video-out")
                js = gr.File(label="Frames and tracks (JSON)", elem_id=f"{kind}-video-json")
        timeline = gr.HTML(elem_id=f"{kind}-video-timeline")
    token = gr.State(None)

    def fn(clip_value, every_value, token_value, *values):
        yield from run_clip(factory, clip_value, every_value, token_value, *values)

    run.click(user_errors(fn), [clip, every, token, *settings], [out, js, status, timeline, token],
              api_name=f"video_{kind}", concurrency_limit=1, concurrency_id="video")
    stop.click(stop_clip, token, None, api_visibility="private", queue=False)
    return {"clip": clip, "every": every, "run": run, "stop": stop, "out": out, "json": js, "status": status,
            "timeline": timeline}
