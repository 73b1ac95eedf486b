"""The one place where uploads become images: RGB, uint8, (H, W, 3), C-contiguous.

``load_image`` accepts a path, raw bytes, a file object, a PIL image or a numpy
array and returns ``np.ndarray`` of shape (H, W, 3), dtype uint8, values 0-255,
colour order RGB. EXIF orientation is applied; L/LA/P/RGBA/CMYK/I;16/I/F modes are
converted; animations give their first frame. Anything that is not a usable
image raises :class:`ImageError` with one plain sentence meant for the user.

Memory is budgeted before any pixel is decoded: the header gives the size and mode, and
``peak_bytes_per_pixel`` the cost of decoding one pixel of that mode; an image over the pixel cap
or the byte budget (``LIMITS``; the app's ``--max-decode-mb``) is decoded downscaled when its format
allows it (JPEG: libjpeg's DCT scaling at 1/2, 1/4 or 1/8, Pillow's ``draft``), else refused.
``decode_image`` returns the pixels with the scale they were decoded at. Live webcam frames have a
stricter reader of their own (``demos.live.frames``: JPEG only, small byte and pixel caps).
"""
from __future__ import annotations

import io
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Union

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

from core.image_formats import IMAGE_SIGNATURES, is_heif, peak_bytes_per_pixel, progressive_jpeg_bytes, video_kind

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
"""File name endings treated as images when a folder is read (gallery folders, batch runs)."""

DEFAULT_MAX_PIXELS = 40_000_000
"""Images with more pixels than this are decoded downscaled (JPEG) or refused, before decoding."""

DEFAULT_MAX_DECODE_MB = 300
"""Memory one decode may take at its peak (MB = 2**20 bytes), Pillow's buffer and conversions included."""

DEFAULT_MAX_FILE_MB = 64
"""Image files larger than this are refused before they are read."""

MIN_SIDE = 8
"""Images smaller than this on either side are refused (nothing to see)."""

LIVE_MAX_PIXELS = 1920 * 1080
"""A webcam frame has at most this many pixels (the page asks the camera for 640x480)."""

ImageSource = Union[str, os.PathLike, bytes, bytearray, BinaryIO, Image.Image, np.ndarray]


class ImageError(ValueError):
    """An upload that cannot be used as an image; ``str(err)`` is a user-facing sentence."""


class VideoGivenError(ImageError):
    """A video clip given where a photo was expected; ``str(err)`` says it is a video."""


@dataclass
class DecodeLimits:
    """Process-wide decode caps (set once by the app or the CLI, see ``set_decode_limits``).

    max_pixels: pixels of the decoded image. max_decode_mb: peak memory of one decode, MB.
    max_file_mb: bytes of an image file read from disk or a stream, MB."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_decode_mb: float = DEFAULT_MAX_DECODE_MB
    max_file_mb: float = DEFAULT_MAX_FILE_MB


LIMITS = DecodeLimits()


def set_decode_limits(*, max_pixels: int | None = None, max_decode_mb: float | None = None,
                      max_file_mb: float | None = None) -> DecodeLimits:
    """Change the process-wide caps (None keeps a value); returns them."""
    if max_pixels is not None:
        LIMITS.max_pixels = int(max_pixels)
    if max_decode_mb is not None:
        LIMITS.max_decode_mb = float(max_decode_mb)
    if max_file_mb is not None:
        LIMITS.max_file_mb = float(max_file_mb)
    return LIMITS


@dataclass(frozen=True)
class Decoded:
    """An image as decoded: ``rgb`` uint8 (H, W, 3); ``scale`` 1, 2, 4 or 8 when it was decoded at
    1/scale of its stored size ``stored_size`` (width, height) to stay within the caps."""

    rgb: np.ndarray
    scale: int = 1
    stored_size: tuple[int, int] | None = None

    @property
    def note(self) -> str:
        """One sentence for the user when the image was decoded downscaled, else ""."""
        if self.scale == 1 or self.stored_size is None:
            return ""
        w, h = self.stored_size
        return (f"The photo ({w}x{h}) was decoded at 1/{self.scale} scale "
                f"({self.rgb.shape[1]}x{self.rgb.shape[0]}) to stay within this server's memory limit.")


def load_image(source: ImageSource, *, max_pixels: int | None = None) -> np.ndarray:
    """Decode ``source`` into RGB uint8 (H, W, 3) (``decode_image(...).rgb``).

    Raises:
        ImageError: empty, non-image, truncated or corrupt data, too many pixels or bytes,
            or an image too small to use.
    """
    return decode_image(source, max_pixels=max_pixels).rgb


def decode_image(source: ImageSource, *, max_pixels: int | None = None,
                 max_decode_mb: float | None = None) -> Decoded:
    """Decode ``source`` within the caps (``LIMITS`` unless given): pixels as RGB uint8 (H, W, 3) plus the
    scale they were decoded at. A JPEG over a cap is decoded at 1/2, 1/4 or 1/8 scale; any other image over
    a cap is refused with ImageError."""
    max_pixels = max_pixels or LIMITS.max_pixels
    budget = (max_decode_mb or LIMITS.max_decode_mb) * 2**20
    if source is None:
        raise ImageError("No image was given: upload a photo or take a webcam snapshot.")
    if isinstance(source, np.ndarray):
        return Decoded(_check_size(array_to_rgb(source), max_pixels))
    if isinstance(source, Image.Image):
        _check_pixel_count(source.size, max_pixels)
        return Decoded(_check_size(pil_to_rgb(source), max_pixels))
    data, name = _read_bytes(source)
    img = _open(data, name)
    stored = img.size
    scale = _fit_to_budget(img, name, max_pixels, budget)
    _load(img, name)
    return Decoded(_check_size(pil_to_rgb(img), max_pixels), scale, stored)


def _read_bytes(source: Any) -> tuple[bytes, str]:
    """The bytes of a path, bytes or file object (at most the file cap), and how to name it to the user."""
    cap = int(LIMITS.max_file_mb * 2**20)
    name = "The file"
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = f"The file '{path.name}'"
        if not path.is_file():
            raise ImageError(f"{name} does not exist.")
        if path.stat().st_size > cap:
            raise ImageError(f"{name} is {path.stat().st_size / 2**20:.0f} MB; "
                             f"the limit is {LIMITS.max_file_mb:.0f} MB.")
        data = path.read_bytes()
    elif hasattr(source, "read"):
        data = source.read(cap + 1)
    else:
        raise ImageError(f"Cannot read an image from a {type(source).__name__}.")
    if not data:
        raise ImageError(f"{name} is empty.")
    if len(data) > cap:
        raise ImageError(f"{name} is larger than the {LIMITS.max_file_mb:.0f} MB limit.")
    return data, name


def _open(data: bytes, name: str) -> Image.Image:
    """Read the header only (no pixel decoded). A JPEG is opened without Pillow's decompression-bomb
    check, which would refuse a large photo that ``_fit_to_budget`` can decode downscaled."""
    kind = video_kind(data)
    if kind:
        raise VideoGivenError(f"{name} is a video ({kind}), not a photo.")
    try:
        if data[:2] == b"\xff\xd8":
            return JpegImagePlugin.JpegImageFile(io.BytesIO(data))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own budget decides
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise ImageError(f"{name} is too large to open safely (its header claims more than "
                         f"{2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f} megapixels).") from None
    except UnidentifiedImageError:
        if is_heif(data):
            raise ImageError(f"{name} is a HEIC/AVIF photo, which this server cannot read: "
                             "save it as JPEG or PNG.") from None
        if data.startswith(IMAGE_SIGNATURES):
            raise ImageError(f"{name} looks like an image but is damaged and cannot be decoded.") from None
        raise ImageError(f"{name} is not an image Pillow can read (JPEG, PNG, WebP, GIF, BMP, TIFF...).") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"{name} is damaged or truncated and cannot be decoded ({_short(exc)}).") from None


def _load(img: Image.Image, name: str) -> None:
    """Decode the pixels of an opened image; every decoder failure becomes one ImageError sentence."""
    try:
        img.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"{name} is damaged or truncated and cannot be decoded ({_short(exc)}).") from None


def decode_cost(img: Image.Image, scale: int = 1) -> int:
    """Peak bytes to decode the opened (not yet loaded) ``img`` at 1/``scale`` and convert it to RGB."""
    w, h = img.size
    pixels = math.ceil(w / scale) * math.ceil(h / scale)
    cost = pixels * peak_bytes_per_pixel(img.mode, has_transparency="transparency" in img.info)
    if img.format == "JPEG" and img.info.get("progressive"):
        cost += w * h * progressive_jpeg_bytes(img.mode, JpegImagePlugin.get_sampling(img))
    return cost


def _fit_to_budget(img: Image.Image, name: str, max_pixels: int, budget: float) -> int:
    """1 when ``img`` fits both caps as stored; else the JPEG scale (2, 4, 8) it is set to decode at
    (Pillow's ``draft``); else ImageError saying which cap and by how much."""
    w, h = img.size
    if w * h <= max_pixels and decode_cost(img) <= budget:
        return 1
    if img.format == "JPEG" and img.mode in ("RGB", "L", "CMYK", "YCbCr"):
        for scale in (2, 4, 8):
            small = (math.ceil(w / scale), math.ceil(h / scale))
            if small[0] * small[1] <= max_pixels and decode_cost(img, scale) <= budget:
                img.draft(img.mode, small)
                return max(1, round(w / img.size[0]))
    if w * h > max_pixels:
        _check_pixel_count((w, h), max_pixels)
    need = decode_cost(img) / 2**20
    raise ImageError(f"{name} ({w}x{h}, {img.mode}) would need about {need:.0f} MB to decode; this server allows "
                     f"{budget / 2**20:.0f} MB an image. Save it smaller or as a JPEG and try again.")


def _short(exc: Exception) -> str:
    text = str(exc).strip().rstrip(".") or type(exc).__name__
    return text[:120]


def _check_pixel_count(size: tuple[int, int], max_pixels: int) -> None:
    w, h = size
    if w * h > max_pixels:
        raise ImageError(
            f"The image is {w}x{h} ({w * h / 1e6:.0f} megapixels); the limit is {max_pixels / 1e6:.0f} megapixels."
        )


def _check_size(rgb: np.ndarray, max_pixels: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    _check_pixel_count((w, h), max_pixels)
    if min(h, w) < MIN_SIDE:
        raise ImageError(f"The image is only {w}x{h} pixels; it needs at least {MIN_SIDE} on each side.")
    return rgb


def pil_to_rgb(img: Image.Image) -> np.ndarray:
    """PIL image of any mode -> RGB uint8 (H, W, 3); first frame, EXIF orientation applied."""
    try:
        img.seek(0)
    except (AttributeError, EOFError):
        pass
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block must not lose the picture
        pass
    mode = img.mode
    if mode.startswith("I;16"):
        return _gray16_to_rgb(np.asarray(img))
    if mode in ("I", "F"):
        return array_to_rgb(np.asarray(img))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    elif mode == "L":  # one byte a pixel, repeated: no 4-byte Pillow RGB copy
        return np.ascontiguousarray(np.repeat(np.asarray(img)[:, :, None], 3, axis=2))
    if img.mode == "RGB":
        return np.ascontiguousarray(np.asarray(img, dtype=np.uint8))
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def _gray16_to_rgb(arr: np.ndarray) -> np.ndarray:
    """uint16 (H, W) -> RGB uint8 (H, W, 3): the high byte (values <= 255 kept as they are, as 8-bit data
    stored in a 16-bit file). Integer only: no float copy of a large image."""
    top = int(arr.max()) if arr.size else 0
    grey = arr.astype(np.uint8) if top <= 255 else (arr >> 8).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))


def array_to_rgb(arr: np.ndarray) -> np.ndarray:
    """numpy image -> RGB uint8 (H, W, 3).

    Accepts (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) (alpha dropped onto white);
    uint8 as is, other integer types scaled from their range, floats taken as 0-1
    when their maximum is <= 1 and as 0-255 otherwise. NaNs become 0.
    """
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ImageError(f"An image array must be HxW, HxWx3 or HxWx4, not {arr.shape}.")
    if arr.dtype == np.uint8:
        out = arr
    elif arr.dtype == bool:
        out = arr.astype(np.uint8) * 255
    elif np.issubdtype(arr.dtype, np.integer):
        top = float(arr.max()) if arr.size else 0.0
        scale = 255.0 / (65535.0 if top > 255 else 255.0)
        out = np.clip(arr.astype(np.float64) * scale, 0, 255).round().astype(np.uint8)
    elif np.issubdtype(arr.dtype, np.floating):
        a = np.nan_to_num(arr.astype(np.float64))
        scale = 255.0 if a.size and a.max() <= 1.0 else 1.0
        out = np.clip(a * scale, 0, 255).round().astype(np.uint8)
    else:
        raise ImageError(f"Unsupported image array type {arr.dtype}.")
    if out.shape[2] == 4:
        alpha = out[:, :, 3:4].astype(np.float32) / 255.0
        out = (out[:, :, :3] * alpha + 255.0 * (1 - alpha)).round().astype(np.uint8)
    return np.ascontiguousarray(out)


def limit_side(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    """Downscale (never upscale) so that max(H, W) <= max_side; aspect kept, area filter."""
    if not max_side:
        return rgb
    h, w = rgb.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return rgb
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))


def to_png_bytes(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()
