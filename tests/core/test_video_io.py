"""core.video.io: decode with sampling and downscale, the H.264 writer, and clips that must be refused."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.video.io import VideoError, VideoWriter, probe, read_frames, target_size

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "assets" / "video" / "two_people_pan.mp4"


def test_probe_and_sampled_downscaled_frames():
    info = probe(CLIP)
    assert (info.width, info.height, info.fps, info.frame_count, info.codec) == (640, 480, 10.0, 30, "h264")
    frames = list(read_frames(CLIP, every=3, max_frames=4, max_side=321))
    assert [f.index for f in frames] == [0, 3, 6, 9]
    assert [f.time_s for f in frames] == [0.0, 0.3, 0.6, 0.9]
    assert frames[0].rgb.shape == (240, 320, 3) and frames[0].rgb.dtype == np.uint8  # even sides
    assert len(list(read_frames(CLIP, max_seconds=1.0))) == 10


def test_target_size_keeps_aspect_with_even_sides():
    assert target_size(1920, 1080, 640) == (640, 360)
    assert target_size(641, 481, None) == (640, 480)
    assert target_size(300, 200, 1000) == (300, 200)  # never upscaled


def test_writer_round_trip(tmp_path):
    frames = [np.full((64, 96, 3), v, np.uint8) for v in (0, 128, 255)]
    with VideoWriter(tmp_path / "c.mp4", 12.5, 96, 64) as w:
        for f in frames:
            w.write(f)
        with pytest.raises(ValueError, match="frame is"):
            w.write(np.zeros((10, 10, 3), np.uint8))
    info = probe(tmp_path / "c.mp4")
    assert (info.fps, info.frame_count, info.width, info.height) == (12.5, 3, 96, 64)
    got = [f.rgb for f in read_frames(tmp_path / "c.mp4")]
    assert [abs(int(g.mean()) - int(f.mean())) <= 3 for g, f in zip(got, frames)] == [True] * 3


def test_playlists_naming_other_files_are_refused(tmp_path):
    """An HLS playlist (any file name) would make FFmpeg read the server's files for a visitor."""
    for name in ("evil.m3u8", "evil.mp4"):
        playlist = tmp_path / name
        playlist.write_text(f"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\n{CLIP}\n#EXT-X-ENDLIST\n")
        with pytest.raises(VideoError, match="not a video file"):
            probe(playlist)
    concat = tmp_path / "list.ffconcat"
    concat.write_text(f"ffconcat version 1.0\nfile {CLIP}\n")
    with pytest.raises(VideoError):
        probe(concat)
