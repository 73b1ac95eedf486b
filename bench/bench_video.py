"""Video benchmarks (clips in, clips out; see core/video).

* ``video.instance_fps``: frames per second end to end (best of 2 interleaved rounds, as its baselines) (decode, instance segmentation with the
  tracker, overlay with ids, H.264 encode) on assets/video/two_people_pan.mp4 (640x480, 30 frames,
  two people), detector every 4th frame. Baseline in the same run: the image path on every frame
  (decode, ``instance()`` as for a photo, the photo overlay, encode). Goal ratio >= 1.5.
* ``video.instance_fps.detect_every_frame``: the same clip path with the detector on every frame
  (k = 1), against k = 4 (the baseline); with the id switches of both in the notes: which is faster
  at equal quality.
* ``video.id_switches.<clip>.<task>``: id switches (CLEAR-MOT IDSW; a lost person coming back under a
  new id counts) of people on the two clips, whose two people never cross (truth: which side of the
  photo's seam a box's centre shows; per side and frame the largest detection is the person, the
  others are false positives). ``obama_biden_pan`` was never used for tuning. Baseline: 0 (the goal).
* ``video.peak_rss_growth_mb``: peak RSS growth of the clip pipeline (decode -> a cheap drawing
  processor -> encode -> the clip's JSON) on a 5-minute 320x240 10 fps clip, each run in a fresh
  process; baseline the same on a 30-second clip. Goal: within 10% (ratio <= 1.1), i.e. memory
  does not grow with clip length.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.paths import ROOT
CLIPS = ROOT / "assets" / "video"
ROUNDS = 2


def _clip_fps(processor_factory, clip: Path, out: Path) -> tuple[float, dict]:
    from core.video.run import ClipRun

    run = ClipRun(clip, out, processor_factory())
    t0 = time.perf_counter()
    run.run()
    return len(run.frames) / (time.perf_counter() - t0), run.result()


def _image_path_fps(clip: Path, out: Path) -> float:
    """The photo path on each frame: instance() without a tracker, the photo overlay, encode."""
    from core import render
    from core.segmentation.instance import instance
    from core.video.io import VideoWriter, probe, read_frames

    info = probe(clip)
    t0 = time.perf_counter()
    n = 0
    with VideoWriter(out, info.fps, info.width, info.height) as writer:
        for frame in read_frames(clip):
            writer.write(render.overlay(frame.rgb, instance(frame.rgb)))
            n += 1
    return n / (time.perf_counter() - t0)


def id_switches_of(result: dict, clip: str) -> tuple[int, int]:
    """(id switches, person boxes) of a clip JSON against the clip's known identities."""
    from core.tracking import id_switches
    from core.video.synth import CLIPS as KNOWN
    from core.video.synth import camera_path, photo_x

    seam = KNOWN[clip][1]
    v = result["video"]["source"]
    from PIL import Image

    photo_hw = Image.open(ROOT / KNOWN[clip][0]).size[::-1]
    windows = camera_path(photo_hw, (v["height"], v["width"]), v["frame_count"])
    key = "faces" if result["frames"] and "faces" in result["frames"][0] else "segments"
    truth, pred = [], []
    for f in result["frames"]:
        best: dict[int, dict] = {}  # per true identity its best detection; the others are false positives
        for i in f[key]:
            if key == "faces" or i["label"] == "person":
                side = int(photo_x(windows[f["index"]], i["box"], v["width"]) >= seam)
                if side not in best or _strength(i) > _strength(best[side]):
                    best[side] = i
        truth.append(list(best))
        pred.append([i["track_id"] for i in best.values()])
    return id_switches(truth, pred), sum(len(t) for t in truth)


def _strength(item: dict) -> float:
    """Box area: on each side of the seam the person is the largest detection (smaller ones there are
    parts of them, e.g. the helmet, or duplicates)."""
    x0, y0, x1, y1 = item["box"]
    return (x1 - x0) * (y1 - y0)


def _entry(name, value, unit, baseline, notes, ratio=None) -> dict:
    if ratio is None:
        ratio = round(value / baseline, 3) if baseline else None
    return {"name": name, "value": round(value, 3), "unit": unit, "baseline": round(baseline, 3) if baseline is not None else None,
            "ratio": ratio, "notes": notes}


def _speed_entries(tmp: Path) -> list[dict]:
    from core.video.tasks import SegmentProcessor

    clip = CLIPS / "two_people_pan.mp4"
    SegmentProcessor("instance")(np.zeros((480, 640, 3), np.uint8))  # load the models outside the timing
    runs: dict[str, list] = {"base": [], "k4": [], "k1": []}
    for _ in range(ROUNDS):  # interleaved, best of each: the shared machine's load changes by the minute
        runs["base"].append((_image_path_fps(clip, tmp / "image_path.mp4"), None))
        runs["k4"].append(_clip_fps(lambda: SegmentProcessor("instance", detect_every=4), clip, tmp / "k4.mp4"))
        runs["k1"].append(_clip_fps(lambda: SegmentProcessor("instance", detect_every=1), clip, tmp / "k1.mp4"))
    base = max(f for f, _ in runs["base"])
    fps4, res4 = max(runs["k4"], key=lambda r: r[0])
    fps1, res1 = max(runs["k1"], key=lambda r: r[0])
    sw4, n4 = id_switches_of(res4, "two_people_pan")
    sw1, n1 = id_switches_of(res1, "two_people_pan")
    return [
        _entry("video.instance_fps", fps4, "fps", base, "640x480 two-person clip, detector every 4th frame + "
               "tracker, decode to encode; baseline: instance() as for a photo on every frame (goal ratio >= 1.5)"),
        _entry("video.instance_fps.detect_every_frame", fps1, "fps", fps4,
               f"detector every frame (k=1) vs every 4th (k=4, baseline); id switches k=1: {sw1}, k=4: {sw4}; "
               f"person boxes found (of 2 people x 30 frames, some out of view): k=1 {n1}, k=4 {n4}"),
    ]


def _switch_entries(tmp: Path) -> list[dict]:
    from core.faces import gallery_from_folder
    from core.video.tasks import FaceProcessor, SegmentProcessor

    gallery, _ = gallery_from_folder(ROOT / "assets/faces/people")
    out = []
    for clip in ("two_people_pan", "obama_biden_pan"):
        for task, factory in (("instance", lambda: SegmentProcessor("instance")),
                              ("faces", lambda: FaceProcessor(gallery))):
            _, res = _clip_fps(factory, CLIPS / f"{clip}.mp4", tmp / f"{clip}_{task}.mp4")
            sw, n = id_switches_of(res, clip)
            tracks = [t for t in res["tracks"] if task == "faces" or t["label"] == "person"]
            out.append(_entry(f"video.id_switches.{clip}.{task}", sw, "switches", 0,
                              f"{n} boxes, {len(tracks)} tracks for 2 people"
                              f"{' (held out: never tuned on)' if clip == 'obama_biden_pan' else ''}", ratio=None))
    return out


RSS_SCRIPT = r"""
import json, sys
import cv2, psutil
from core.video.run import ClipRun, FrameResult

src, out = sys.argv[1], sys.argv[2]
proc = psutil.Process()


class Boxes:
    items_key = "segments"

    def __call__(self, rgb):
        img = cv2.rectangle(rgb.copy(), (10, 10), (100, 100), (255, 0, 0), 2)
        return FrameResult(img, [{"track_id": 0, "label": "box", "box": [10, 10, 100, 100]}])


before = proc.memory_info().rss
peak = [before]
run = ClipRun(src, out, Boxes(), on_progress=lambda p: peak.append(proc.memory_info().rss)).run()
json.dumps(run.result())
peak.append(proc.memory_info().rss)
print(json.dumps({"growth_mb": (max(peak) - before) / 2**20, "frames": len(run.frames)}))
"""


def _rss_growth(tmp: Path, seconds: float) -> float:
    """Peak RSS growth (MB) of a fresh process running the clip pipeline on a ``seconds`` clip made here
    (so the making does not count)."""
    from core.image import load_image
    from core.video.synth import write_pan_zoom

    src = write_pan_zoom(load_image(ROOT / "assets/photos/two_people.jpg"), tmp / f"src_{seconds:g}.mp4",
                         size=(240, 320), seconds=seconds)
    out = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(src), str(tmp / f"out_{seconds:g}.mp4")],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=1800)
    return json.loads(out.stdout.strip().splitlines()[-1])["growth_mb"]


def _rss_entries(tmp: Path) -> list[dict]:
    short = _rss_growth(tmp, 30)
    long = _rss_growth(tmp, 300)
    return [_entry("video.peak_rss_growth_mb", long, "MB", short,
                   "peak RSS growth (sampled after every frame) while processing a 5-minute 320x240 10 fps clip (3000 frames) vs a 30-second "
                   "one (baseline); goal ratio <= 1.1: frames are streamed, never all in memory")]


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        return _speed_entries(tmp) + _switch_entries(tmp) + _rss_entries(tmp)


if __name__ == "__main__":
    for e in run():
        print(e)
