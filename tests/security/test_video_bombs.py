"""The clip inputs under attack (2): cost bombs. A clip small on the wire must not grow the server by
more than a few hundred MB or hold the server's one clip slot for long: frames whose size lies (a
header of 64x64 px, then 16000x16000 px frames), frames over the 4K cap, a 16000x16 strip, a
thousand frames a second, a clip whose frames all claim the same instant, hundreds of streams.

Memory is the app's resident size sampled while the request runs (``PeakRss``), after an honest clip
run has loaded the models; seconds are the request's wall time, printed with the load average. The app
here processes at most ``FRAMES`` frames a clip (``--clip-frames``) so that the file stays quick; the
default 600 bounds the same way, ten times longer."""
from __future__ import annotations

import os
import time

import pytest

from tests.security import hostile_clips as H
from tests.security.conftest import ATTACKER, HONEST, PeakRss, call, honest_semantic, http_from, upload

pytestmark = pytest.mark.slow

MAX_GROWTH_MB = 400
FRAMES = 40


@pytest.fixture(scope="module")
def clip_app(tmp_path_factory):
    from tests.app_server import running_app

    with running_app(tmp_path_factory.mktemp("clip_bombs_app") / "app.log", "--clip-frames", str(FRAMES)) as server:
        yield server


@pytest.fixture
def attacker(clip_app):
    with http_from(ATTACKER, clip_app[0]) as http:
        yield http


def _semantic(clip) -> list:
    return [clip, 1, "auto", 0.5]


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clip_bombs")
    return {
        "size_lies": H.mjpeg_clip(folder / "size_lies.mkv", [(64, 64)] * 3 + [(16000, 16000)] * 3),
        "8000x8000": H.mjpeg_clip(folder / "big.mkv", [(8000, 8000)] * 2),
        "16000x16": H.mjpeg_clip(folder / "strip.mkv", [(16000, 16)] * 20),
        "1000fps": H.h264_clip(folder / "fast.mp4", 64, 48, 3000, fps=1000),
        "same_instant": H.lying_timestamps_clip(folder / "same_instant.mkv", 100_000),
        "300_streams": H.many_streams_clip(folder / "streams.mkv", 300),
    }


@pytest.fixture(scope="module")
def warm(clip_app):
    """Models loaded and the clip path used once, so that one-time loads are not counted."""
    url, _ = clip_app
    honest_semantic(url)
    with http_from(HONEST, url) as http:
        ok, value = call(http, "video_semantic", _semantic(upload(http, H.CLIP)))
    assert ok, value
    return True


def _attack(clip_app, attacker, path):
    url, proc = clip_app
    ref = upload(attacker, path)
    start = time.perf_counter()
    with PeakRss(proc) as mem:
        ok, value = call(attacker, "video_semantic", _semantic(ref))
    seconds = time.perf_counter() - start
    print(f"{path.name}: growth {mem.growth_mb:.0f} MB, {seconds:.1f} s, load {os.getloadavg()[0]:.1f}: "
          f"{str(value)[:160]}")
    return ok, value, mem.growth_mb, seconds


def test_frames_whose_size_lies_are_not_decoded(clip_app, attacker, bombs, warm):
    url, proc = clip_app
    ok, value, growth, seconds = _attack(clip_app, attacker, bombs["size_lies"])
    assert growth < MAX_GROWTH_MB, growth
    assert ok and "3 frames" in value[2] and "4K" in value[2], value  # the frames before; why it stopped
    assert proc.poll() is None and honest_semantic(url)


def test_frames_over_4k_are_refused_from_the_header(clip_app, attacker, bombs, warm):
    ok, value, growth, seconds = _attack(clip_app, attacker, bombs["8000x8000"])
    assert not ok and "4K" in str(value) and "Downscale" in str(value), value
    assert growth < MAX_GROWTH_MB


def test_a_16000x16_strip_is_refused_from_the_header(clip_app, attacker, bombs, warm):
    """Fitted to 640 px it would be 640x2 px frames, on which the person detector ran 428 tiles (6.8 s
    a frame): refused, like any frame shape over 8:1."""
    url, proc = clip_app
    ok, value, growth, seconds = _attack(clip_app, attacker, bombs["16000x16"])
    assert not ok and "16000x16" in str(value) and "8:1" in str(value), value
    assert growth < MAX_GROWTH_MB
    assert proc.poll() is None and honest_semantic(url)


@pytest.mark.parametrize("name", ["1000fps", "same_instant"])
def test_the_frame_cap_bounds_clips_whose_seconds_do_not(clip_app, attacker, bombs, warm, name):
    """3 s at 1000 fps is 3000 frames; 100,000 frames that all claim time 0 pass any seconds cap: both
    stop at the frame cap, and say so."""
    url, proc = clip_app
    ok, value, growth, seconds = _attack(clip_app, attacker, bombs[name])
    assert ok and f"clip cut at {FRAMES} frames" in value[2] and f"{FRAMES} frames at" in value[2], value
    assert growth < MAX_GROWTH_MB
    assert proc.poll() is None and honest_semantic(url)


def test_hundreds_of_streams(clip_app, attacker, bombs, warm):
    url, proc = clip_app
    ok, value, growth, seconds = _attack(clip_app, attacker, bombs["300_streams"])
    assert growth < MAX_GROWTH_MB
    assert ok or "\n" not in str(value), value
    assert proc.poll() is None and honest_semantic(url)
