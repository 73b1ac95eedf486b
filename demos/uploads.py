"""Which files a request may make the server read, and reading them as photos.

Every request comes from a stranger. A photo input's payload carries a ``path`` that the client wrote, so a
path is honoured only when, after resolving symlinks and ``..``, it is a regular file inside Gradio's upload
folder (files that came in through the upload route, where the page, webcam snapshots and pastes put them)
or inside the shipped ``assets/`` (the examples). Everything else (a server file, a ``data:`` or http URL,
a symlink leading out, a missing file) gets one and the same sentence, so the answer says nothing about the
server's file system. The upload size limit applies to every file read, examples included. An upload a
job names is noted in its session when the job is queued (``demos.session_files.note_uploads``) and
removed when the session ends.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from gradio.utils import get_upload_folder

from core.image import ImageError, VideoGivenError, decode_image
from demos.paths import ASSETS

UPLOAD_REFUSED = ("This file was not uploaded through this page, so it cannot be used: upload it "
                  "(or pick one of the examples) and try again.")
"""The one answer for every file reference the server will not open."""

MAX_UPLOAD_MB = 25
"""Largest file a request may make the server read, MB (the app's Gradio ``max_file_size``)."""

CLIP_HINT = "Clips go to the tab's \"Clip\" input; this input takes photos."


def upload_roots() -> tuple[Path, ...]:
    """The folders a request's file may come from (resolved): Gradio's upload folder, the shipped assets."""
    return Path(get_upload_folder()).resolve(), ASSETS.resolve()


def payload_path(value: Any) -> Any:
    """The ``path`` a client gave for one file (a FileData dict or object, or a plain string); None if none."""
    if isinstance(value, (str, os.PathLike)):
        return value
    if isinstance(value, dict):
        return value.get("path")
    return getattr(value, "path", None)


def real_path(path: Any) -> Path | None:
    """The resolved path (symlinks and ``..`` followed) of a path a client wrote, or None when it names
    no local file at all: not a string, empty, a URL, a ``data:`` URL, a NUL byte."""
    if not isinstance(path, (str, os.PathLike)) or not str(path) or "://" in str(path) \
            or str(path).startswith("data:") or "\x00" in str(path):
        return None
    return Path(os.path.realpath(path))


def trusted_upload(value: Any) -> Path:
    """The real path of a file this server received through its upload route, or of a shipped example.

    Raises gr.Error(UPLOAD_REFUSED) for any other reference: a path outside those folders (checked after
    symlinks and ``..`` are resolved), a missing or non-regular file, a URL, no path at all; and a
    gr.Error naming the limit for a file over MAX_UPLOAD_MB."""
    real = real_path(payload_path(value))
    if real is None or not any(real.is_relative_to(root) for root in upload_roots()) or not real.is_file():
        raise gr.Error(UPLOAD_REFUSED)
    if real.stat().st_size > MAX_UPLOAD_MB * 2**20:
        raise gr.Error(f"The file is {real.stat().st_size / 2**20:.0f} MB; the limit is {MAX_UPLOAD_MB} MB.")
    return real


def decode_upload(value: Any, *, notify: bool = True) -> np.ndarray:
    """A client's file reference -> RGB uint8 (H, W, 3), through ``trusted_upload`` and
    ``core.image.decode_image``. Every problem is a gr.Error with one sentence (a video says where clips
    go); a photo decoded downscaled to fit the memory cap says so in an info toast when ``notify``."""
    path = trusted_upload(value)
    try:
        decoded = decode_image(path)
    except VideoGivenError as exc:
        raise gr.Error(f"{exc} {CLIP_HINT}") from None
    except ImageError as exc:
        raise gr.Error(str(exc)) from None
    if decoded.note and notify:
        gr.Info(decoded.note)
    return decoded.rgb
