"""The one place where uploads become images: RGB, uint8, (H, W, 3), C-contiguous.

``load_image`` accepts a path, raw bytes, a file object, a PIL image or a numpy
array and returns ``np.ndarray`` of shape (H, W, 3), dtype uint8, values 0-255,
colour order RGB. EXIF orientation is applied; L/LA/P/RGBA/CMYK/I;16/I/F modes are
converted; animations give their first frame. Anything that is not a usable
image raises :class:`ImageError` with one plain sentence meant for the user.
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any, BinaryIO, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
"""File name endings treated as images when a folder is read (gallery folders, batch runs)."""

DEFAULT_MAX_PIXELS = 40_000_000
"""Images with more pixels than this are refused before they are decoded."""

MIN_SIDE = 8
"""Images smaller than this on either side are refused (nothing to see)."""

ImageSource = Union[str, os.PathLike, bytes, bytearray, BinaryIO, Image.Image, np.ndarray]


class ImageError(ValueError):
    """An upload that cannot be used as an image; ``str(err)`` is a user-facing sentence."""


def load_image(source: ImageSource, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode ``source`` into RGB uint8 (H, W, 3).

    Raises:
        ImageError: empty, non-image, truncated or corrupt data, too many pixels,
            or an image too small to use.
    """
    if source is None:
        raise ImageError("No image was given: upload a photo or take a webcam snapshot.")
    if isinstance(source, np.ndarray):
        return _check_size(array_to_rgb(source), max_pixels)
    if isinstance(source, Image.Image):
        _check_pixel_count(source.size, max_pixels)
        return _check_size(pil_to_rgb(source), max_pixels)
    return _check_size(pil_to_rgb(_open(source, max_pixels)), max_pixels)


def _open(source: Any, max_pixels: int) -> Image.Image:
    name = "The file"
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = f"The file '{path.name}'"
        if not path.is_file():
            raise ImageError(f"{name} does not exist.")
        data = path.read_bytes()
    elif hasattr(source, "read"):
        data = source.read()
    else:
        raise ImageError(f"Cannot read an image from a {type(source).__name__}.")
    if not data:
        raise ImageError(f"{name} is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            _check_pixel_count(img.size, max_pixels)  # before any pixel is decoded
            img.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{name} is too large to open safely (more than {max_pixels / 1e6:.0f} megapixels).")
    except UnidentifiedImageError:
        if data.startswith(_IMAGE_SIGNATURES):
            raise ImageError(f"{name} looks like an image but is damaged and cannot be decoded.")
        raise ImageError(f"{name} is not an image Pillow can read (JPEG, PNG, WebP, GIF, BMP, TIFF...).")
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"{name} is damaged or truncated and cannot be decoded ({_short(exc)}).")
    return img


_IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8", b"GIF8", b"RIFF", b"BM", b"II*\x00", b"MM\x00*")


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
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return array_to_rgb(np.asarray(img))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


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
