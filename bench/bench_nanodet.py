"""NanoDet-m (the offline COCO-80 detector) per photo.

* ``nanodet.photo_ms.threads1`` / ``.threads2``: median wall time of ``NanoDet.detect`` (stretch
  to 416, the ONNX model on onnxruntime with 1 or 2 intra-op threads, GFL decode, NMS) on a
  640x480 photo (``two_people.jpg`` fitted to 640x480 as in ``bench_instance``). Baseline in the
  same run, same photo: the bundled BlazePose person detector (``detect_people``: letterbox to
  224, LiteRT with its default threads, decode, weighted NMS). ratio = NanoDet / BlazePose.
* ``nanodet.photo_ms.input320``: the same with a 320x320 network input (1 thread), an option for
  a live path (fewer small objects found); baseline the same BlazePose detector.

All four are timed interleaved, round by round, so load from other processes hits them alike.

Skipped (no entries) when nanodet-m is not made on this machine (``make setup`` needs npm).
"""
from __future__ import annotations

import statistics
import time

from bench.bench_instance import TWO, load_frame

ROUNDS = 15


def run() -> list[dict]:
    from core import models
    from core.segmentation.blazepose import detect_people
    from core.segmentation.nanodet import NanoDet

    reg = models.registry()
    if reg.status("nanodet-m") not in ("ready", "loaded"):
        print(f"  skipped: {reg.status_reason('nanodet-m')}")
        return []
    path = reg.fetch("nanodet-m", progress=False)[0]
    rgb = load_frame(TWO)
    nets = {1: NanoDet(path, num_threads=1), 2: NanoDet(path, num_threads=2)}
    blaze = models.load("blazepose-detector")
    fns = {
        "t1": lambda: nets[1].detect(rgb),
        "t2": lambda: nets[2].detect(rgb),
        "s320": lambda: nets[1].detect(rgb, input_size=320),
        "blaze": lambda: detect_people(rgb, blaze),
    }
    for fn in fns.values():  # warm-up
        fn()
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(ROUNDS):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append((time.perf_counter() - t) * 1000.0)
    med = {k: statistics.median(v) for k, v in times.items()}
    found = nets[1].detect(rgb).final()
    stages = nets[1].detect(rgb).timings_ms.rounded()
    people = len(detect_people(rgb, blaze))
    found320 = nets[1].detect(rgb, input_size=320).final()
    out = [{
        "name": "nanodet.photo_ms.input320",
        "value": round(med["s320"], 1),
        "unit": "ms",
        "baseline": round(med["blaze"], 1),
        "ratio": round(med["s320"] / med["blaze"], 2),
        "notes": (f"same photo, 320x320 network input, 1 thread ({med['s320'] / med['t1']:.2f}x the 416 time); "
                  f"found {', '.join(found320.names) or 'nothing'}"),
    }]
    for threads, key in ((1, "t1"), (2, "t2")):
        out.append({
            "name": f"nanodet.photo_ms.threads{threads}",
            "value": round(med[key], 1),
            "unit": "ms",
            "baseline": round(med["blaze"], 1),
            "ratio": round(med[key] / med["blaze"], 2),
            "notes": (f"640x480 photo, median of {ROUNDS} interleaved rounds; onnxruntime intra-op "
                      f"threads {threads}; baseline = BlazePose person detector on the same photo; "
                      f"found {', '.join(found.names) or 'nothing'} (BlazePose: {people} people); "
                      f"one run's stages {stages}"),
        })
    return out
