"""Helpers every tab shares: reading uploads, turning errors into messages, small UI bits.

Tabs stay thin: they call ``core`` functions and show the typed results. Anything
the user did wrong (bad file, missing weights) becomes a ``gr.Error`` with one
plain sentence; anything unexpected is logged with its traceback on the server
and shown to the user as a short apology, and the server keeps serving.
"""
from __future__ import annotations

import base64
import binascii
import functools
import inspect
import json
import logging
from pathlib import Path
from typing import Any, Callable

import gradio as gr
import numpy as np
from PIL import Image as PILImage

from core.config import SETTINGS
from core.image import LIVE_MAX_PIXELS, ImageError, decode_image, limit_side, load_image
from core.models import ModelError, registry
from demos.uploads import ASSETS, CLIP_HINT, decode_upload, payload_path, trusted_upload

log = logging.getLogger("cvlab")

PHOTOS = ASSETS / "photos"

READY = ("loaded", "ready", "cached")


class ImageInput(gr.Image):
    """``gr.Image`` whose uploads are decoded by ``core.image`` rather than by Gradio.

    Gradio's own preprocessing opens every upload with PIL before a callback runs: a text file
    named .jpg or a 100-megapixel image then fails (or is decoded in full) with Gradio's message,
    and a ``data:`` URL in the payload is decoded with no limit at all. Here the payload's path must
    be a file this server received (``demos.uploads.trusted_upload``; anything else gets one refusal)
    and its bytes go through ``core.image``: memory budget read from the header before decoding,
    EXIF and odd modes handled, and one plain sentence for anything unusable.
    Use it like ``gr.Image`` (type "numpy", "pil" or "filepath"); it renders as a normal image component.
    """

    is_template = True  # use the built-in "image" front-end component

    def preprocess(self, payload):
        if payload is None:
            return None
        if self.type == "filepath":
            return str(trusted_upload(payload))
        rgb = decode_upload(payload)
        if self.type == "pil":
            from PIL import Image

            return Image.fromarray(rgb)
        return rgb


def _upload_path(item: Any) -> str | None:
    """The path one raw upload payload (a FileData dict or object) names, as the client wrote it."""
    path = payload_path(item)
    return str(path) if path else None


def _upload_problem(item: Any) -> tuple[str, str | None] | None:
    """None when this upload is a file the server received and ``core.image`` can read; else (its file
    name, what is wrong, or None when it is not readable as an image at all)."""
    path = _upload_path(item)
    try:
        decode_upload(item, notify=False)
        return None
    except gr.Error as exc:
        reason: str | None = str(exc.message if hasattr(exc, "message") else exc)
    except Exception:  # noqa: BLE001 - a broken upload is the user's message, not our traceback
        reason = None
    name = (item.get("orig_name") if isinstance(item, dict) else None) or Path(str(path)).name
    return name, reason


def check_upload(payload: Any):
    """An image input's upload event (raw payload, before preprocessing): nothing changes when
    ``core.image`` can read the file; otherwise a warning toast says what is wrong and the input is
    cleared."""
    if not _upload_path(payload):
        return gr.skip()
    problem = _upload_problem(payload)
    if problem is None:
        return gr.skip()
    name, reason = problem
    gr.Warning(f"{name} cannot be used: {reason}" if reason is not None else "This file cannot be read as an image.")
    return None


def check_photo_files(payload: Any):
    """A multiple ``gr.File`` of photos, on upload (raw payload, before preprocessing): every file
    ``core.image`` cannot read is named in one warning toast and taken off the list; the readable ones
    stay. Nothing changes when all are readable."""
    items = payload if isinstance(payload, list) else [payload] if payload else []
    keep, bad = [], []
    for item in items:
        problem = _upload_problem(item)
        if problem is None:
            keep.append(_upload_path(item))
        else:
            name, reason = problem
            bad.append(f"{name} ({reason if reason is not None else 'not readable as an image'})")
    if not bad:
        return gr.skip()
    gr.Warning(f"Not added, cannot be used: {'; '.join(bad)}")
    return keep or None


CLIP_TOAST_JS = """() => {
  // The page's image inputs refuse a video before it is uploaded, with Gradio's toast "Invalid file type:
  // clip.mp4. Only image/* allowed." That toast is rewritten to say it is a video and where clips go.
  const VIDEO = /\\.(mp4|m4v|mov|webm|mkv|avi|mpe?g|3gp|ogv|wmv|flv|ts)$/i;
  const RE = /^Invalid file type: (.+?)\\. Only image\\/\\* allowed\\.?$/;
  const fix = (node) => {
    const m = RE.exec((node.nodeValue || "").trim());
    if (m && VIDEO.test(m[1])) node.nodeValue = `${m[1]} is a video, not a photo. ${HINT}`;
  };
  const HINT = %s;
  const scan = (root) => {
    if (root.nodeType === 3) return fix(root);
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) fix(walk.currentNode);
  };
  new MutationObserver((muts) => muts.forEach((m) => {
    if (m.type === "characterData") fix(m.target); else m.addedNodes.forEach(scan);
  })).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def check_uploads_on_arrival(blocks: gr.Blocks) -> None:
    """Give every ImageInput of ``blocks`` an upload check (call inside the ``with blocks:`` context, after
    the tabs are built): a broken file is named at once and removed, instead of sitting there as a
    broken-image icon until the run button fails; a video refused by the page says where clips go."""
    for block in list(blocks.blocks.values()):
        if isinstance(block, ImageInput):
            block.upload(check_upload, block, block, preprocess=False, api_name=False, show_progress="hidden")
    blocks.load(None, None, None, js=CLIP_TOAST_JS % json.dumps(CLIP_HINT), api_name=False)


LIVE_WIDTH, LIVE_HEIGHT = 640, 480
"""Webcam frame size asked of the browser for live modes (Gradio's default sends 1920x1440)."""


class WebcamFrameInput(gr.Image):
    """``gr.Image`` for streamed webcam frames (the Gradio-stream fallback of the live views), numpy RGB.

    A frame arrives as a ``data:`` URL (or an uploaded file); Gradio would decode either with no limit
    and open any ``path`` a client writes. Here a data URL is at most ``FRAME_URL_MAX_CHARS`` characters,
    a path must pass ``trusted_upload``, and the frame is decoded by ``core.image`` within webcam-sized
    caps (``LIVE_MAX_PIXELS``, ``FRAME_DECODE_MB``)."""

    is_template = True

    def preprocess(self, payload):
        if payload is None:
            return None
        url = payload.url or ""
        data = data_url_bytes(url) if url.startswith("data:") else trusted_upload(payload).read_bytes()
        try:
            return decode_image(data, max_pixels=LIVE_MAX_PIXELS, max_decode_mb=FRAME_DECODE_MB).rgb
        except ImageError as exc:
            raise gr.Error(str(exc)) from None


FRAME_URL_MAX_CHARS = 8_000_000
"""Longest ``data:`` URL a streamed webcam frame may be (a 1920x1080 PNG is about 4 MB of base64)."""

FRAME_DECODE_MB = 64
"""Decode memory one streamed webcam frame may take, MB."""


def data_url_bytes(url: str) -> bytes:
    """The bytes of a base64 ``data:`` URL of at most FRAME_URL_MAX_CHARS; gr.Error for anything else."""
    head, _, body = url.partition(",")
    if len(url) > FRAME_URL_MAX_CHARS or not head.endswith(";base64"):
        raise gr.Error("A webcam frame must be a base64 image of at most a few MB.")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise gr.Error("The webcam frame is not valid base64.") from None


def webcam_stream(elem_id: str, **kwargs) -> gr.Image:
    """A streaming webcam input (the visitor's own camera, not the server's) at 640x480, numpy RGB."""
    return WebcamFrameInput(sources=["webcam"], streaming=True, type="numpy", label=kwargs.pop("label", "Webcam"),
                    webcam_options=gr.WebcamOptions(
                        constraints={"video": {"width": LIVE_WIDTH, "height": LIVE_HEIGHT}}),
                    elem_id=elem_id, **kwargs)


def read_upload(value: Any, *, what: str = "image", max_side: int | None = None) -> np.ndarray:
    """A Gradio image value -> RGB uint8 (H, W, 3), downscaled to ``max_side`` (default: the app's
    --max-side). A numpy or PIL value is an image an ImageInput already decoded; a path or FileData is
    a client's file reference and must pass ``trusted_upload``. Raises gr.Error with a plain sentence."""
    if value is None:
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise gr.Error(f"Please add {article} {what} first: upload a photo, paste one, or use the webcam.")
    if isinstance(value, (np.ndarray, PILImage.Image)):
        try:
            rgb = load_image(value)
        except ImageError as exc:
            raise gr.Error(str(exc)) from None
    else:
        rgb = decode_upload(value)
    return limit_side(rgb, max_side or SETTINGS.max_side)


def _to_gr_error(exc: BaseException) -> gr.Error:
    if isinstance(exc, (ImageError, ModelError, ValueError)):
        return gr.Error(str(exc))
    log.exception("unexpected error in a callback")
    return gr.Error(f"Something went wrong on our side ({type(exc).__name__}). "
                    "Please try again or try another image; the app keeps running.")


def user_errors(fn: Callable) -> Callable:
    """Decorate a callback (plain or generator) so errors reach the user as one sentence."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as exc:  # noqa: BLE001 - the boundary to the user
                raise _to_gr_error(exc) from exc
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:  # noqa: BLE001 - the boundary to the user
            raise _to_gr_error(exc) from exc
    return wrapper


def idea_box(markdown: str) -> gr.Markdown:
    """The few plain sentences at the top of a tab that say what idea it shows."""
    return gr.Markdown(markdown, elem_classes=["idea-box"])


def timings_table(timings: dict[str, float]) -> str:
    """Per-stage timings (ms) as a one-line markdown summary."""
    if not timings:
        return ""
    parts = [f"{name} {ms:.0f} ms" for name, ms in timings.items()]
    return "**Timings:** " + " · ".join(parts) + f" · **total {sum(timings.values()):.0f} ms**"


RUNNABLE = READY + ("downloadable",)
"""Statuses of a model that can run here (a downloadable one downloads on first use)."""


def runnable_choices(names: list[str]) -> list[tuple[str, str]]:
    """(label, name) for the models among ``names`` that can run here; a downloadable one says so."""
    reg = registry()
    out = []
    for name in names:
        status = reg.status(name)
        if status in RUNNABLE:
            mark = "" if status in READY else " [downloads on first use]"
            out.append((f"{reg.get(name).title}{mark}", name))
    return out


def unavailable_info(names: list[str]) -> str | None:
    """One line naming the models among ``names`` that cannot run here, why, and where to read how to get
    them (None when every one can run). Used as a model dropdown's ``info``: such models are not offered
    as a choice that could only fail."""
    reg = registry()
    missing = [n for n in names if reg.status(n) not in RUNNABLE]
    if not missing:
        return None
    why = "offline, weights not on this machine" if SETTINGS.offline else "weights missing"
    return f"Not available here ({why}): {', '.join(missing)}. The Models tab says how to get them."


def model_choices(task: str, include_auto: bool = True) -> list[tuple[str, str]]:
    """(label, name) pairs for a model dropdown: "auto" and the models that can run here."""
    choices = [("auto (best model available here)", "auto")] if include_auto else []
    return choices + runnable_choices(registry().names(task))


def model_dropdown(task: str, include_auto: bool = True, **kwargs) -> gr.Dropdown:
    """A model dropdown offering only models that can run here; the others are named in its info line."""
    choices = model_choices(task, include_auto)
    kwargs.setdefault("info", unavailable_info(registry().names(task)))
    return gr.Dropdown(choices=choices, value=choices[0][1] if choices else None,
                       label=kwargs.pop("label", "Model"), **kwargs)


def example_photos(*names: str) -> list[str]:
    """Paths of bundled example photos (assets/photos/NAME) that exist."""
    return [str(PHOTOS / n) for n in names if (PHOTOS / n).is_file()]


def photo_input(tab: str, examples: tuple[str, ...], height: int = 340, label: str = "Photo") -> "ImageInput":
    """The segmentation tabs' photo input (upload, webcam snapshot, paste; checked by ``ImageInput``)
    with its example photos below it; element id ``<tab>-input``."""
    image = ImageInput(label=label, sources=["upload", "webcam", "clipboard"], type="numpy", height=height,
                       elem_id=f"{tab}-input")
    gr.Examples(example_photos(*examples), inputs=image, label="Examples")
    return image


def class_filter() -> gr.CheckboxGroup:
    """The "Classes to show" filter: filled with the classes a result holds when it arrives."""
    return gr.CheckboxGroup(choices=[], value=[], label="Classes to show")


def legend_html(rows: list[dict]) -> str:
    """Colour chips for legend rows (``label``, ``color_hex``, optional ``area_fraction``/``count``)."""
    if not rows:
        return "<p><em>Nothing found.</em></p>"
    chips = []
    for r in rows:
        extra = []
        if r.get("count", 1) > 1:
            extra.append(f"×{r['count']}")
        if "area_fraction" in r:
            extra.append(f"{100 * r['area_fraction']:.1f}%")
        chips.append(
            f"<span style='display:inline-flex;align-items:center;margin:2px 10px 2px 0;'>"
            f"<span style='width:14px;height:14px;border-radius:3px;background:{r['color_hex']};"
            + (f"background:repeating-linear-gradient(45deg,{r['color_hex']} 0 3px,transparent 3px 6px);"
               if r.get("rough") else "") +
            f"display:inline-block;margin-right:5px;border:1px solid #0003'></span>"
            f"{_escape(r['label'])} <small style='opacity:.7;margin-left:4px'>{' '.join(extra)}</small></span>")
    return "<div>" + "".join(chips) + "</div>"


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
