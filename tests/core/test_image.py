"""core.image: every odd or hostile upload becomes RGB uint8 or one clear sentence."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.image import ImageError, array_to_rgb, limit_side, load_image


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _gradient(w=64, h=48) -> np.ndarray:
    x = np.linspace(0, 255, w, dtype=np.uint8)
    y = np.linspace(0, 255, h, dtype=np.uint8)
    return np.stack([np.tile(x, (h, 1)), np.tile(y[:, None], (1, w)), np.full((h, w), 77, np.uint8)], -1)


def _check_rgb(a: np.ndarray, h: int, w: int) -> None:
    assert a.dtype == np.uint8 and a.shape == (h, w, 3) and a.flags["C_CONTIGUOUS"]


def test_real_photo_path(photos):
    rgb = load_image(photos / "astronaut.png")
    _check_rgb(rgb, 512, 512)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "I;16", "I", "F", "1", "YCbCr"])
def test_modes_convert_to_rgb(mode):
    base = Image.fromarray(_gradient())
    img = base.convert("L").convert(mode) if mode in ("I;16", "I", "F", "1") else base.convert(mode)
    fmt = {"CMYK": "JPEG", "YCbCr": "JPEG", "I;16": "PNG", "F": "TIFF", "I": "PNG"}.get(mode, "PNG")
    rgb = load_image(_encode(img, fmt))
    _check_rgb(rgb, 48, 64)


def test_sixteen_bit_keeps_brightness():
    ramp = (np.linspace(0, 65535, 64)[None, :].repeat(48, 0)).astype(np.uint16)
    rgb = load_image(_encode(Image.fromarray(ramp), "PNG"))
    assert rgb[0, 0, 0] == 0 and rgb[0, -1, 0] == 255
    assert abs(int(rgb[0, 32, 0]) - 130) < 6  # mid grey, not clipped to white


def test_rgba_transparent_becomes_white():
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgb = load_image(_encode(Image.fromarray(rgba), "PNG"))
    assert (rgb == 255).all()


def test_exif_orientation_applied():
    img = Image.fromarray(_gradient(64, 48))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    rgb = load_image(_encode(img, "JPEG", exif=exif))
    _check_rgb(rgb, 64, 48)


def test_animation_first_frame():
    frames = [Image.new("RGB", (32, 32), c) for c in ((255, 0, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    rgb = load_image(buf.getvalue())
    assert rgb[0, 0, 0] > 200 and rgb[0, 0, 2] < 50


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"hello, I am a text file\n" * 10, "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "damaged"),
])
def test_bad_bytes_refused_with_one_sentence(data, words):
    with pytest.raises(ImageError) as err:
        load_image(data)
    msg = str(err.value)
    assert words in msg and "\n" not in msg and "Traceback" not in msg


def test_truncated_jpeg_refused():
    data = _encode(Image.fromarray(_gradient(400, 300)), "JPEG")
    with pytest.raises(ImageError, match="damaged or truncated"):
        load_image(data[: len(data) // 2])


def test_decompression_bomb_refused_before_decoding():
    # A 20000 x 20000 PNG compresses to a few hundred KB; the header alone must be enough to refuse it.
    bomb = _encode(Image.new("L", (20000, 20000)), "PNG")
    with pytest.raises(ImageError, match="megapixels"):
        load_image(bomb)
    with pytest.raises(ImageError, match="megapixels"):
        load_image(_encode(Image.new("L", (3000, 3000)), "PNG"), max_pixels=1_000_000)


def test_tiny_and_missing():
    with pytest.raises(ImageError, match="at least"):
        load_image(_encode(Image.new("RGB", (1, 1)), "PNG"))
    with pytest.raises(ImageError, match="does not exist"):
        load_image("/no/such/file.png")
    with pytest.raises(ImageError, match="No image"):
        load_image(None)


def test_extreme_aspect_ratio_ok():
    rgb = load_image(_encode(Image.new("RGB", (4000, 8)), "PNG"))
    _check_rgb(rgb, 8, 4000)


@pytest.mark.parametrize("arr", [
    np.zeros((10, 12), np.uint8),
    np.zeros((10, 12, 1), np.float32),
    np.ones((10, 12, 3), np.float64) * 0.5,
    np.zeros((10, 12, 4), np.uint8),
    np.full((10, 12), 40000, np.uint16),
    np.zeros((10, 12), bool),
])
def test_arrays(arr):
    _check_rgb(load_image(arr), 10, 12)
    assert array_to_rgb(np.ones((4, 4, 3)) * 0.5)[0, 0, 0] == 128


def test_input_array_not_mutated_and_pil_input():
    arr = _gradient()
    before = arr.copy()
    out = load_image(arr)
    out[:] = 0
    assert (arr == before).all() or out.base is not arr  # caller's array keeps its pixels
    _check_rgb(load_image(Image.fromarray(arr)), 48, 64)


def test_limit_side_downscales_only():
    big = np.zeros((1000, 2000, 3), np.uint8)
    assert limit_side(big, 500).shape == (250, 500, 3)
    assert limit_side(big, 4000).shape == big.shape
    assert limit_side(big, None) is big


# --------------------------------------------------------------------------- memory budget, draft, video, live
from core.image import VideoGivenError, decode_image  # noqa: E402


def test_big_jpeg_decoded_downscaled_and_says_so():
    data = _encode(Image.fromarray(_gradient(800, 600)), "JPEG")
    d = decode_image(data, max_pixels=100_000)
    assert d.scale == 4 and d.rgb.shape == (150, 200, 3) and d.stored_size == (800, 600)
    assert "1/4 scale" in d.note and "800x600" in d.note
    assert decode_image(data).scale == 1 and decode_image(data).note == ""
    # the byte budget alone also picks a draft scale: 480,000 px x 15 B is ~6.9 MB
    assert decode_image(data, max_decode_mb=2).scale == 2


def test_png_over_the_byte_budget_refused_before_decoding():
    sixteen = _encode(Image.fromarray(np.zeros((600, 800), np.uint16)), "PNG")
    with pytest.raises(ImageError, match=r"would need about 5 MB to decode; this server allows 1 MB"):
        decode_image(sixteen, max_decode_mb=1)
    assert decode_image(sixteen, max_decode_mb=6).rgb.shape == (600, 800, 3)


def test_progressive_jpeg_pays_for_its_coefficients():
    img = Image.fromarray(_gradient(800, 600))
    base, prog = _encode(img, "JPEG"), _encode(img, "JPEG", progressive=True)
    # at 1/8 a baseline JPEG fits in 0.1 MB; a progressive one still holds every coefficient (~1.8 MB)
    assert decode_image(base, max_decode_mb=0.2).scale == 8
    with pytest.raises(ImageError, match="would need"):
        decode_image(prog, max_decode_mb=0.2)


def test_jpeg_beyond_pillow_bomb_limit_is_read_downscaled():
    # the header claims 20000x20000 (400 MP, over Pillow's own 179 MP refusal): drafted at 1/8, not refused
    data = bytearray(_encode(Image.fromarray(_gradient(64, 48)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5: sof + 9] = (20000).to_bytes(2, "big") + (20000).to_bytes(2, "big")
    d = decode_image(bytes(data))  # libjpeg fills the missing rows; never a full-size 1.2 GB buffer
    assert d.scale == 8 and d.rgb.shape == (2500, 2500, 3) and "1/8 scale" in d.note


@pytest.mark.parametrize("head, kind", [
    (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40, "MP4"),
    (b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 40, "QuickTime"),
    (b"\x1a\x45\xdf\xa3" + b"\x00" * 40, "WebM"),
    (b"RIFF\x00\x00\x00\x00AVI LIST" + b"\x00" * 40, "AVI"),
])
def test_video_is_named_as_a_video(head, kind):
    with pytest.raises(VideoGivenError, match=f"is a video \\({kind}"):
        load_image(head)


def test_heic_is_not_called_a_video():
    with pytest.raises(ImageError, match="HEIC") as err:
        load_image(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 40)
    assert not isinstance(err.value, VideoGivenError)


def test_file_cap(tmp_path):
    from core.image import set_decode_limits

    path = tmp_path / "big.png"
    path.write_bytes(_encode(Image.fromarray(_gradient(64, 48)), "PNG") + b"\x00" * 2_000_000)
    old = set_decode_limits().max_file_mb
    try:
        set_decode_limits(max_file_mb=1)
        with pytest.raises(ImageError, match="the limit is 1 MB"):
            load_image(path)
    finally:
        set_decode_limits(max_file_mb=old)


