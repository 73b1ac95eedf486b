"""What a file is and what decoding it costs, read from its first bytes and its header only.

Used by ``core.image`` before any pixel is decoded: ``video_kind(data)`` names a video container
(a clip dropped on a photo input deserves a better message than "damaged image"), and
``peak_bytes_per_pixel(mode)`` is the memory that decoding and converting one pixel of a Pillow mode
to RGB uint8 takes at its peak (Pillow's own buffer + conversion temporaries + the RGB result).
"""
from __future__ import annotations

IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8", b"GIF8", b"RIFF", b"BM", b"II*\x00", b"MM\x00*")
"""First bytes of the image formats people upload (a file starting so is an image, maybe damaged)."""

_IMAGE_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
"""ISO-BMFF brands of still-image files (HEIC, AVIF); every other ``ftyp`` brand is a video."""

_VIDEO_MAGIC = (
    (b"\x1a\x45\xdf\xa3", "WebM/Matroska"),
    (b"FLV", "FLV"),
    (b"\x00\x00\x01\xba", "MPEG"),
    (b"\x00\x00\x01\xb3", "MPEG"),
    (b"OggS", "Ogg"),
    (b"YUV4MPEG2", "Y4M"),
)


def video_kind(data: bytes) -> str | None:
    """The container name when ``data`` (the file's first bytes, 16 or more) is a video, else None."""
    head = bytes(data[:16])
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _IMAGE_BRANDS:
            return None
        return "QuickTime" if brand == b"qt  " else "MP4"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if len(head) >= 1 and head[0] == 0x47 and len(data) > 188 and data[188] == 0x47:
        return "MPEG-TS"
    for magic, name in _VIDEO_MAGIC:
        if head.startswith(magic):
            return name
    return None


def is_heif(data: bytes) -> bool:
    """True for HEIC/AVIF still images (an ISO-BMFF ``ftyp`` box with an image brand)."""
    return len(data) >= 12 and data[4:8] == b"ftyp" and bytes(data[8:12]) in _IMAGE_BRANDS


_PEAK_BYTES = {
    # Measured peak resident growth of decode_image per stored pixel (Pillow 12, 4000x4000 files, rounded
    # up by ~10%): Pillow's buffer (1 byte a pixel for 1/L/P, 2 for 16-bit, 4 for the rest), its tobytes
    # copy for numpy, conversion temporaries and the 3-byte RGB result.
    "1": 13, "L": 8, "P": 13,
    "RGB": 15, "RGBX": 15, "YCbCr": 20, "LAB": 20, "HSV": 20, "CMYK": 20,
    "I;16": 11, "I;16L": 11, "I;16B": 11, "I;16N": 11,
    "I": 30, "F": 30,
    "RGBA": 29, "RGBa": 29, "LA": 29, "La": 29, "PA": 29,
}
_UNKNOWN_MODE_BYTES = 30


def peak_bytes_per_pixel(mode: str, *, has_transparency: bool = False) -> int:
    """Bytes of memory at the peak of decoding one pixel of ``mode`` into RGB uint8."""
    if has_transparency and mode in ("P", "L", "RGB"):
        return _PEAK_BYTES["RGBA"]
    return _PEAK_BYTES.get(mode, _UNKNOWN_MODE_BYTES)


def progressive_jpeg_bytes(mode: str, sampling: int) -> int:
    """Bytes a stored pixel costs a progressive JPEG while it decodes, at any decode scale: libjpeg keeps
    every DCT coefficient (2 bytes) of every component; ``sampling`` is Pillow's ``get_sampling`` (0 = 4:4:4,
    1 = 4:2:2, 2 = 4:2:0, -1 unknown)."""
    if mode == "L":
        return 2
    return {2: 4, 1: 5}.get(sampling, 7)
