"""The live views' limits without a socket: frame checks (demos/live/frames.py) and the registry's
quotas (demos/live/registry.py)."""
from __future__ import annotations

import io
import struct
import time

import numpy as np
import pytest
from PIL import Image

from demos.live.frames import FrameRefused, decode_frame, encode_jpeg, jpeg_size, pack, unpack
from demos.live.registry import LiveRegistry, Limits


def _encoded(fmt: str, size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buf, format=fmt)
    return buf.getvalue()


def test_a_jpeg_frame_decodes_to_rgb():
    rgb = decode_frame(_encoded("JPEG"))
    assert rgb.shape == (48, 64, 3) and rgb.dtype == np.uint8 and rgb[5, 5, 1] > 150
    assert jpeg_size(encode_jpeg(np.zeros((30, 70, 3), np.uint8))) == (70, 30)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "BMP", "GIF"])
def test_other_formats_are_refused(fmt):
    with pytest.raises(FrameRefused, match="JPEG only"):
        decode_frame(_encoded(fmt))


def test_the_pixel_cap_is_read_from_the_header_before_decoding():
    big = _encoded("JPEG", (4000, 3000))  # 12 MP of one colour: a small file
    assert len(big) < 1_000_000
    assert jpeg_size(big) == (4000, 3000)
    with pytest.raises(FrameRefused, match="MP limit"):
        decode_frame(big)


def test_a_header_declaring_a_huge_frame_is_refused_without_decoding():
    data = bytearray(_encoded("JPEG", (16, 16)))
    i = next(k for k in range(2, len(data) - 1) if data[k] == 0xFF and data[k + 1] in (0xC0, 0xC2))
    data[i + 5:i + 9] = struct.pack(">HH", 10000, 10000)  # 10000x10000 declared, 16x16 of data
    with pytest.raises(FrameRefused, match="10000x10000"):
        decode_frame(bytes(data))


def test_the_byte_cap_and_damaged_headers():
    with pytest.raises(FrameRefused, match="kB limit"):
        decode_frame(_encoded("JPEG"), max_bytes=100)
    with pytest.raises(FrameRefused):
        decode_frame(b"\xff\xd8\xff\xe0\x00")
    with pytest.raises(FrameRefused):
        decode_frame(b"")


def test_pack_and_unpack_round_trip():
    assert unpack(pack(9, {"text": "hi"}, b"\xff\xd8")) == (9, {"text": "hi"}, b"\xff\xd8")


def test_a_flooding_address_pushes_out_its_own_registrations_only():
    reg = LiveRegistry(Limits(per_address=8, max_total=100))
    assert reg.register("v" * 32, ["victim"], "10.0.0.1") is None
    for k in range(600):
        reg.register(f"{k:032d}", ["flood"], "10.0.0.2")
    assert reg.values("v" * 32) == ["victim"]
    assert len(reg) == 9  # the victim's one + the flooder's newest 8
    assert reg.registered(f"{599:032d}") and not reg.registered(f"{0:032d}")


def test_a_streaming_registration_is_never_pushed_out():
    reg = LiveRegistry(Limits(per_address=2))
    reg.register("s" * 32, [1], "a")
    assert reg.claim("s" * 32, "a") is None
    for k in range(10):
        reg.register(f"{k:032d}", [1], "a")
    assert reg.registered("s" * 32)


def test_socket_caps_per_address_and_overall():
    reg = LiveRegistry(Limits(per_address=10, sockets_per_address=2, max_sockets=3))
    for k in range(4):
        reg.register(f"a{k:031d}", [], "a")
        reg.register(f"b{k:031d}", [], "b")
    assert reg.claim(f"a{0:031d}", "a") is None and reg.claim(f"a{1:031d}", "a") is None
    assert "already stream 2" in reg.claim(f"a{2:031d}", "a")
    assert reg.claim(f"b{0:031d}", "b") is None
    assert "as many live views as it can" in reg.claim(f"b{1:031d}", "b")
    reg.release(f"a{0:031d}")
    assert reg.claim(f"b{1:031d}", "b") is None and reg.streaming() == 3


def test_unclaimed_registrations_expire_and_the_total_is_capped():
    reg = LiveRegistry(Limits(per_address=5, max_total=3, unclaimed_ttl_s=0.2))
    for k in range(3):
        assert reg.register(f"{k:032d}", [], f"10.0.0.{k}") is None
    assert "too many live views" in reg.register("z" * 32, [], "10.0.0.9")
    time.sleep(0.3)
    assert reg.register("z" * 32, [], "10.0.0.9") is None and len(reg) == 1


def test_the_faces_live_view_parses_the_gallery_once_not_per_frame():
    from core.faces.gallery import Gallery
    from demos.faces.recognize import live_frame, live_gallery

    prepared = live_gallery([None, "yunet", "sface", None, "nearest"])
    assert isinstance(prepared[0], Gallery) and prepared[1:] == ["yunet", "sface", None, "nearest"]
    out, text, _ = live_frame(np.zeros((120, 160, 3), np.uint8), *prepared, None)
    assert out is not None and "gallery empty" in text
