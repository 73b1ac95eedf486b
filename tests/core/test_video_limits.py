"""core.video's limits on hostile clips, in-process (the same clips as tests/security/test_video_bombs.py,
which measures them on the running app): frames over 4K are refused by the decoder even when the header
lies, thin frame shapes are refused, and a cut clip says so even when its header undercounts."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.video.io import VideoError, probe, read_frames
from core.video.run import ClipRun, FrameResult, Limits
from tests.security import hostile_clips as H

ROOT = Path(__file__).resolve().parents[2]


class Copy:
    """A processor that returns the frame as it is."""

    items_key = ""

    def __call__(self, rgb: np.ndarray) -> FrameResult:
        return FrameResult(image=rgb)


def test_frames_larger_than_the_header_says_are_never_decoded(tmp_path):
    clip = H.mjpeg_clip(tmp_path / "lies.mkv", [(64, 64)] * 2 + [(12000, 12000)] * 2)
    assert (probe(clip).width, probe(clip).height) == (64, 64)
    # the run in a fresh process, whose peak memory is the run's alone (making the clip took 144 MB here)
    code = ("import resource, sys; from tests.core.test_video_limits import Copy; "
            "from core.video.run import ClipRun, Limits; "
            "rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024; before = rss(); "
            f"r = ClipRun({str(clip)!r}, {str(tmp_path / 'out.mp4')!r}, Copy(), Limits(max_side=640)).run(); "
            "print(len(r.frames), rss() - before, r.notes)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    frames, grown_mb, notes = out.stdout.split(" ", 2)
    assert int(frames) == 2 and "larger than 4K" in notes, out.stdout + out.stderr
    assert int(grown_mb) < 100, grown_mb  # one 12000x12000 frame decoded is 216 MB on its own


def test_a_first_frame_over_4k_is_refused_at_open(tmp_path):
    with pytest.raises(VideoError, match="4K"):
        probe(H.mjpeg_clip(tmp_path / "big.mkv", [(8000, 8000)]))


@pytest.mark.parametrize("size", [(16000, 16), (16, 400)])
def test_thin_frames_are_refused(tmp_path, size):
    with pytest.raises(VideoError, match="8:1"):
        list(read_frames(H.mjpeg_clip(tmp_path / "thin.mkv", [size] * 2)))


def test_a_panorama_of_32_by_9_is_accepted(tmp_path):
    frames = list(read_frames(H.mjpeg_clip(tmp_path / "wide.mkv", [(1280, 360)] * 2), max_side=640))
    assert [f.rgb.shape for f in frames] == [(180, 640, 3)] * 2


def test_the_cut_note_when_the_header_undercounts(tmp_path):
    clip = H.lying_timestamps_clip(tmp_path / "same_instant.mkv", 50)
    assert probe(clip).frame_count <= 2  # the header: one instant
    run = ClipRun(clip, tmp_path / "out.mp4", Copy(), Limits(max_frames=10, max_seconds=20)).run()
    assert len(run.frames) == 10 and "clip cut at 10 frames" in run.notes and run.complete
    exact = ClipRun(H.h264_clip(tmp_path / "ten.mp4", 64, 48, 10), tmp_path / "o2.mp4", Copy(),
                    Limits(max_frames=10)).run()
    assert len(exact.frames) == 10 and not exact.notes  # exactly the cap: nothing was cut
