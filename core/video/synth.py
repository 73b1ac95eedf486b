"""Clips made from a still photo by a moving camera (pan and zoom): test and example clips whose
content is known, so the people in them keep known identities and never cross.

``camera_path(photo_hw, out_hw, n)`` gives each frame's crop window; :func:`pan_zoom_frames`
yields the frames; :func:`write_pan_zoom` writes them with :class:`core.video.io.VideoWriter`.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np


def camera_path(photo_hw: tuple[int, int], out_hw: tuple[int, int], n: int, *, zoom: float = 1.25,
                pan: float = 0.6) -> list[tuple[float, float, float, float]]:
    """``n`` crop windows (x0, y0, x1, y1, float pixels of the photo) with the aspect of ``out_hw``:
    the camera starts zoomed out on the whole photo, zooms in by ``zoom`` and pans sideways by
    ``pan`` of the free width, then back (a smooth cosine)."""
    ph, pw = photo_hw
    aspect = out_hw[1] / out_hw[0]
    full_w = min(pw, ph * aspect)
    windows = []
    for k in range(n):
        s = 0.5 - 0.5 * np.cos(2 * np.pi * k / max(1, n))  # 0 -> 1 -> 0
        w = full_w / (1 + (zoom - 1) * s)
        h = w / aspect
        free_x, free_y = pw - w, ph - h
        cx = free_x / 2 + (s - 0.5) * pan * free_x
        x0, y0 = float(np.clip(cx, 0, free_x)), free_y / 2
        windows.append((x0, y0, x0 + w, y0 + h))
    return windows


def pan_zoom_frames(photo: np.ndarray, out_hw: tuple[int, int], n: int, **path_options) -> Iterator[np.ndarray]:
    """(out_h, out_w, 3) uint8 frames of a camera moving over ``photo`` (RGB uint8)."""
    import cv2

    oh, ow = out_hw
    for x0, y0, x1, y1 in camera_path(photo.shape[:2], out_hw, n, **path_options):
        sx, sy = (x1 - x0) / ow, (y1 - y0) / oh
        m = np.array([[sx, 0, x0], [0, sy, y0]], np.float32)
        yield cv2.warpAffine(photo, m, (ow, oh), flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REFLECT)


def write_pan_zoom(photo: np.ndarray, out: str | Path, *, size: tuple[int, int] = (480, 640), seconds: float = 3.0,
                   fps: float = 10.0, **path_options) -> Path:
    """Write a pan-and-zoom clip over ``photo`` to ``out`` (H.264 MP4); returns the path."""
    from core.video.io import VideoWriter

    n = max(1, int(round(seconds * fps)))
    with VideoWriter(out, fps, size[1], size[0]) as writer:
        for frame in pan_zoom_frames(photo, size, n, **path_options):
            writer.write(frame)
    return Path(out)


def photo_x(window: tuple[float, float, float, float], box, out_w: int) -> float:
    """Centre x of a frame's ``box`` (pixels of the frame) in the photo's pixels, given the frame's
    crop ``window`` from :func:`camera_path`: which part of the photo (which person) it shows."""
    x0, _, x1, _ = window
    return x0 + (float(box[0]) + float(box[2])) / 2 * (x1 - x0) / out_w


CLIPS = {
    "two_people_pan": ("assets/photos/two_people.jpg", 480.0),
    "obama_biden_pan": ("assets/faces/obama_and_biden.jpg", 406.0),
}
"""The bundled clips (assets/video/<name>.mp4, 640x480, 10 fps, 3 s, made by :func:`write_pan_zoom`
with its defaults): their photo and the x of the seam between its two people (left: identity 0)."""
