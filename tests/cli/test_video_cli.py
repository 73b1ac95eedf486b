"""Clips on the command line: the issue's JSON schema, a playable H.264 clip, sampling and caps,
folders mixing photos and clips, Ctrl-C leaving a playable partial clip, bad clips as one line."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.video.io import VideoWriter, probe, read_frames
from core.video.synth import CLIPS, camera_path, photo_x

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "assets" / "video" / "two_people_pan.mp4"
HELD_OUT = ROOT / "assets" / "video" / "obama_biden_pan.mp4"


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def check_schema(js: dict, key: str) -> None:
    assert set(js) == {"video", "frames", "tracks"}
    assert {"fps", "frame_count", "width", "height"} <= set(js["video"])
    assert js["video"]["frame_count"] == len(js["frames"])
    for f in js["frames"]:
        assert set(f) == {"index", "time_s", key}
        assert all("track_id" in item for item in f[key])
    for t in js["tracks"]:
        assert set(t) == {"track_id", "label", "first_frame", "last_frame", "frames"}
        seen = [f["index"] for f in js["frames"] if any(i["track_id"] == t["track_id"] for i in f[key])]
        assert (t["first_frame"], t["last_frame"], t["frames"]) == (seen[0], seen[-1], len(seen))


def test_instance_clip_writes_playable_mp4_and_json(tmp_path):
    out = cli("segment", "instance", str(CLIP), "--out", str(tmp_path), "--every", "2", "--max-frames", "6")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["files"] == [str(tmp_path / "two_people_pan.mp4"), str(tmp_path / "two_people_pan.json")]
    js = json.loads((tmp_path / "two_people_pan.json").read_text())
    check_schema(js, "segments")
    assert [f["index"] for f in js["frames"]] == [0, 2, 4, 6, 8, 10]
    assert js["video"]["fps"] == 5.0 and js["video"]["complete"] is True
    assert "clip cut at 6 frames" in js["video"]["notes"]
    info = probe(tmp_path / "two_people_pan.mp4")
    assert info.codec == "h264" and (info.width, info.height) == (640, 480) and info.frame_count == 6
    assert any(t["label"] == "person" for t in js["tracks"])
    assert "frame" in out.stderr  # the tqdm bar counts frames


def test_people_who_never_cross_keep_their_face_ids(tmp_path):
    """The held-out clip (never used for tuning): every face keeps one id and one name; no id switch."""
    from core.tracking import id_switches

    out = cli("faces", "identify", str(HELD_OUT), "--gallery", str(ROOT / "assets/faces/people"),
              "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    js = json.loads((tmp_path / "obama_biden_pan.json").read_text())
    check_schema(js, "faces")
    windows = camera_path((480, 738), (480, 640), 30)
    seam = CLIPS["obama_biden_pan"][1]
    truth = [[int(photo_x(windows[f["index"]], face["box"], 640) >= seam) for face in f["faces"]] for f in js["frames"]]
    predicted = [[face["track_id"] for face in f["faces"]] for f in js["frames"]]
    assert sum(len(t) for t in truth) >= 40  # both faces found in most frames
    assert id_switches(truth, predicted) == 0
    names = {t["track_id"]: t["label"] for t in js["tracks"]}
    assert sorted(names.values()) == ["Barack Obama", "Joe Biden"]


def test_folder_mixes_photos_and_clips(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(CLIP, src / "walk.mp4")
    shutil.copy(ROOT / "assets/photos/coffee.png", src / "coffee.png")
    out = cli("segment", "semantic", str(src), "--out", str(tmp_path / "out"), "--max-frames", "2")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in (tmp_path / "out/results.jsonl").read_text().splitlines()]
    assert sorted(r["name"] for r in rows) == ["coffee", "walk"] and all(r["ok"] for r in rows)
    js = json.loads((tmp_path / "out/walk.json").read_text())
    check_schema(js, "segments")
    assert probe(tmp_path / "out/walk.mp4").frame_count == 2


def test_style_clip(tmp_path):
    out = cli("style", str(CLIP), "--style", "stained glass", "--out", str(tmp_path), "--max-frames", "3")
    assert out.returncode == 0, out.stderr
    frames = list(read_frames(tmp_path / "two_people_pan.mp4"))
    source = [f.rgb for f in read_frames(CLIP, max_frames=3)]
    assert len(frames) == 3 and frames[0].rgb.shape == (480, 640, 3)
    assert np.abs(frames[0].rgb.astype(int) - source[0]).mean() > 20  # stylised, not the photo


def test_ctrl_c_leaves_a_playable_partial_clip(tmp_path):
    """Ctrl-C once frames are done: exit 130, a playable clip of exactly the frames done, and its JSON.
    The clip is long (600 frames), so the run is always still going when the signal arrives."""
    import re

    from core.image import load_image
    from core.video.synth import write_pan_zoom

    long_clip = write_pan_zoom(load_image(ROOT / "assets/photos/two_people.jpg"), tmp_path / "long.mp4",
                               size=(240, 320), seconds=60.0)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "core", "segment", "instance", str(long_clip), "--out", str(out),
                             "--detect-every", "1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = b""
    deadline = time.monotonic() + 240
    os.set_blocking(proc.stderr.fileno(), False)
    done = re.compile(rb"\|\s*([1-9]\d*)/600")  # the frame bar has counted at least one frame
    while time.monotonic() < deadline and not done.search(err):
        err += proc.stderr.read() or b""
        time.sleep(0.2)
    assert proc.poll() is None, err.decode(errors="replace")[-2000:]
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    assert proc.returncode == 130
    js = json.loads((out / "long.json").read_text())
    assert js["video"]["complete"] is False and 1 <= js["video"]["frame_count"] < 600
    assert any("interrupted" in n for n in js["video"]["notes"])
    assert len(list(read_frames(out / "long.mp4"))) == js["video"]["frame_count"]


# --------------------------------------------------------------------------- bad clips
def one_line_error(out: subprocess.CompletedProcess, *words: str) -> None:
    assert out.returncode == 2, out.stderr
    assert out.stdout == "" and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert out.stderr.startswith("error:")
    for w in words:
        assert w in out.stderr


def test_not_a_video_is_one_line(tmp_path):
    bad = tmp_path / "clip.mp4"
    bad.write_text("hello, not a video")
    one_line_error(cli("segment", "instance", str(bad), "--out", str(tmp_path / "o")), "not a video")


def test_zero_frames_is_one_line(tmp_path):
    import av

    empty = tmp_path / "empty.mp4"
    with av.open(str(empty), "w", format="mp4") as c:  # a valid container whose stream has no frame
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
    one_line_error(cli("segment", "semantic", str(empty), "--out", str(tmp_path / "o")))


def test_8k_frames_are_refused(tmp_path):
    big = tmp_path / "big.mp4"
    with VideoWriter(big, 1, 7680, 4320) as w:
        w.write(np.zeros((4320, 7680, 3), np.uint8))
    one_line_error(cli("segment", "semantic", str(big), "--out", str(tmp_path / "o")), "7680x4320", "4K")


def test_truncated_clip_gives_the_frames_before_the_damage(tmp_path):
    data = CLIP.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    out = cli("segment", "semantic", str(cut), "--out", str(tmp_path / "o"))
    assert out.returncode == 0, out.stderr
    js = json.loads((tmp_path / "o/cut.json").read_text())
    assert 0 < js["video"]["frame_count"] < 30
    assert any("ended after" in n for n in js["video"]["notes"])


def test_seconds_cap_cuts_a_long_clip_with_a_note(tmp_path):
    out = cli("segment", "semantic", str(CLIP), "--out", str(tmp_path), "--max-seconds", "0.5")
    assert out.returncode == 0, out.stderr
    js = json.loads((tmp_path / "two_people_pan.json").read_text())
    assert js["video"]["frame_count"] == 5 and any("clip cut" in n for n in js["video"]["notes"])


@pytest.mark.parametrize("flag", [["--every", "0"], ["--max-frames", "0"]])
def test_bad_sampling_flags(tmp_path, flag):
    one_line_error(cli("segment", "semantic", str(CLIP), "--out", str(tmp_path), *flag), "at least 1")


def test_unknown_codec_is_one_line(tmp_path):
    import av

    clip = tmp_path / "odd.avi"
    with av.open(str(clip), "w", format="avi") as c:
        s = c.add_stream("mjpeg", rate=10)
        s.width, s.height, s.pix_fmt = 64, 64, "yuvj420p"
        for _ in range(3):
            for p in s.encode(av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    clip.write_bytes(clip.read_bytes().replace(b"MJPG", b"ZQZQ"))  # a FourCC no decoder knows
    one_line_error(cli("segment", "semantic", str(clip), "--out", str(tmp_path / "o")), "codec")
