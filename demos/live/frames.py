"""Live webcam frames as they cross the socket: checked JPEG in, JPEG out, one binary message format.

A frame from a stranger is checked before anything is decoded: JPEG only (its first bytes), at most
``MAX_FRAME_BYTES``, and the width x height its header declares at most ``MAX_FRAME_PIXELS``, so a
small file cannot make the server allocate a huge bitmap (a 10000x10000 JPEG of a few hundred kB
would decode to 300 MB). PNG, TIFF and the rest are refused: the page only ever sends JPEG.
"""
from __future__ import annotations

import json
import struct

import cv2
import numpy as np

JPEG_QUALITY = 80
MAX_FRAME_BYTES = 1_000_000
"""Largest frame accepted (bytes); the socket's own message cap (transport.WS_MAX_BYTES) is just above."""
MAX_FRAME_PIXELS = 1920 * 1088
"""Largest frame accepted (width x height from the JPEG header). The page sends 480x360 (640x480 at most)."""

_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class FrameRefused(ValueError):
    """A frame that is not a small enough JPEG; the message says which rule it broke."""


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) declared by a JPEG's start-of-frame header, read without decoding.

    Raises FrameRefused when ``data`` is not a JPEG or has no readable frame header."""
    if len(data) < 4 or data[:3] != b"\xff\xd8\xff":
        raise FrameRefused("not a JPEG (live frames are JPEG only)")
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise FrameRefused("damaged JPEG header")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if marker in _SOF_MARKERS:
            if i + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        if marker == 0xDA or length < 2:  # image data before any frame header
            break
        i += 2 + length
    raise FrameRefused("damaged JPEG header")


def decode_frame(data: bytes, max_bytes: int = MAX_FRAME_BYTES, max_pixels: int = MAX_FRAME_PIXELS) -> np.ndarray:
    """JPEG bytes -> RGB uint8 (H, W, 3), after the byte, format and pixel checks.

    Raises FrameRefused (a short reason a visitor can read) for anything else."""
    if len(data) > max_bytes:
        raise FrameRefused(f"frame of {len(data) // 1000} kB is over the {max_bytes // 1000} kB limit")
    width, height = jpeg_size(data)
    if width * height > max_pixels or width == 0 or height == 0:
        raise FrameRefused(f"frame of {width}x{height} px is over the {max_pixels / 1e6:.1f} MP limit")
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if arr is None:
        raise FrameRefused("not a readable JPEG")
    return np.ascontiguousarray(arr[:, :, ::-1])


def encode_jpeg(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """RGB (or grey / RGBA) uint8 image -> JPEG bytes."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    if rgb.ndim == 3 and rgb.shape[2] == 4:
        rgb = rgb[:, :, :3]
    bgr = rgb[:, :, ::-1] if rgb.ndim == 3 else rgb
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(bgr), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("frame could not be encoded")
    return buf.tobytes()


def pack(seq: int, meta: dict, jpeg: bytes | None) -> bytes:
    """One server message: uint32 seq, uint32 JSON length, JSON, JPEG (possibly empty)."""
    body = json.dumps(meta).encode()
    return struct.pack("<II", seq, len(body)) + body + (jpeg or b"")


def unpack(msg: bytes) -> tuple[int, dict, bytes]:
    """A server message back into (seq, meta, JPEG bytes or b"") (for clients and tests)."""
    seq, n = struct.unpack("<II", msg[:8])
    return seq, json.loads(msg[8:8 + n]), msg[8 + n:]
