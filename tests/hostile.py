"""A corpus of hostile and odd upload files, written on demand into a folder.

``write_corpus(folder) -> {name: (path, expect)}`` where expect is "error" (a clear
message must come back) or "ok" (a correct result must come back).
"""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def _save(img: Image.Image, path: Path, fmt: str, **kw) -> Path:
    img.save(path, format=fmt, **kw)
    return path


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` (a decompression bomb's calling card)."""
    buf = io.BytesIO()
    Image.new("L", (16, 16)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    ihdr = 8  # signature; then length(4) + b"IHDR"(4) + data(13) + crc(4)
    data[ihdr + 8: ihdr + 16] = struct.pack(">II", width, height)
    data[ihdr + 21: ihdr + 25] = struct.pack(">I", zlib.crc32(bytes(data[ihdr + 4: ihdr + 21])))
    return bytes(data)


def write_corpus(folder: Path, photo: Path) -> dict[str, tuple[Path, str]]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    real = Image.open(photo).convert("RGB")
    out: dict[str, tuple[Path, str]] = {}

    p = folder / "notes.jpg"
    p.write_text("this is a text file with an image name\n" * 20)
    out["text_named_jpg"] = (p, "error")

    p = folder / "empty.png"
    p.write_bytes(b"")
    out["empty"] = (p, "error")

    buf = io.BytesIO()
    real.save(buf, format="JPEG")
    p = folder / "truncated.jpg"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    out["truncated"] = (p, "error")

    p = folder / "corrupt.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    out["corrupt"] = (p, "error")

    p = folder / "bomb.png"
    p.write_bytes(png_claiming_size(40000, 40000))
    out["bomb"] = (p, "error")
    out["one_pixel"] = (_save(Image.new("RGB", (1, 1), (9, 9, 9)), folder / "one.png", "PNG"), "error")

    out["extreme_aspect"] = (_save(real.resize((3000, 12)), folder / "wide.png", "PNG"), "ok")
    grey16 = (np.asarray(real.convert("L"), np.uint16) * 257)
    out["sixteen_bit"] = (_save(Image.fromarray(grey16), folder / "grey16.png", "PNG"), "ok")
    out["cmyk"] = (_save(real.convert("CMYK"), folder / "cmyk.jpg", "JPEG"), "ok")
    frames = [real, real.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    out["animated"] = (_save(frames[0], folder / "anim.gif", "GIF", save_all=True, append_images=frames[1:]),
                       "ok")
    exif = Image.Exif()
    exif[0x0112] = 6
    out["exif_rotated"] = (_save(real.transpose(Image.Transpose.ROTATE_90), folder / "rotated.jpg", "JPEG",
                                 exif=exif), "ok")
    out["rgba"] = (_save(real.convert("RGBA"), folder / "alpha.png", "PNG"), "ok")
    return out
