"""Attack 2: decode bombs. An image that is small on the wire but huge in memory must not grow the
server by more than a few hundred MB: refused from its header, or decoded downscaled (and saying so).
Memory is the app process's resident size (psutil), sampled while the request runs; the models are
loaded first by an honest call so that their one-time load is not counted."""
from __future__ import annotations

import base64

import numpy as np
import pytest
from PIL import Image

from tests.security.conftest import PeakRss, call, honest_semantic, upload

MAX_GROWTH_MB = 400


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    png16 = folder / "grey16.png"
    Image.fromarray(np.zeros((6000, 6000), np.uint16)).save(png16)  # 36 MP, 16-bit: a few hundred kB
    jpeg = folder / "huge.jpg"
    Image.new("RGB", (12000, 9000), (90, 120, 200)).save(jpeg, quality=50)  # 108 MP, a few MB
    return {"png16": png16, "jpeg": jpeg}


def _semantic(image) -> list:
    return [image, "auto", 0.5, True]


def test_sixteen_bit_png_upload(sec_app, attacker, bombs):
    url, proc = sec_app
    honest_semantic(url)  # models loaded before measuring
    ref = upload(attacker, bombs["png16"])
    with PeakRss(proc) as mem:
        ok, value = call(attacker, "segment_semantic", _semantic(ref))
    print(f"growth {mem.growth_mb:.0f} MB")
    assert mem.growth_mb < MAX_GROWTH_MB, mem.growth_mb
    assert ok or "MB" in str(value) or "megapixels" in str(value), value
    assert honest_semantic(url)


def test_sixteen_bit_png_as_data_url(sec_app, attacker, bombs):
    url, proc = sec_app
    honest_semantic(url)
    data_url = "data:image/png;base64," + base64.b64encode(bombs["png16"].read_bytes()).decode()
    with PeakRss(proc) as mem:
        ok, value = call(attacker, "segment_semantic", _semantic({"url": data_url, "path": None}))
    print(f"growth {mem.growth_mb:.0f} MB")
    assert not ok and mem.growth_mb < MAX_GROWTH_MB, (value, mem.growth_mb)
    assert honest_semantic(url)


def test_jpeg_over_the_pixel_cap_is_decoded_downscaled(sec_app, attacker, bombs):
    url, proc = sec_app
    honest_semantic(url)
    ref = upload(attacker, bombs["jpeg"])
    with PeakRss(proc) as mem:
        ok, value = call(attacker, "segment_semantic", _semantic(ref))
    assert ok, value  # a 108 MP photo is read at 1/4 scale (27 MP) instead of refused
    print(f"growth {mem.growth_mb:.0f} MB")
    assert mem.growth_mb < MAX_GROWTH_MB, mem.growth_mb
    assert honest_semantic(url)
