"""Instance segmentation benchmarks.

* ``instance.stream_fps``: the live webcam path per frame at 640x480 with one person: decode the
  JPEG frame, the bundled BlazePose pipeline with its video tracker (the detector, on the frame and
  two square tiles, every 4th frame, as in the tab), overlay with mask, box, label and skeleton, JPEG-encode the result. Goal >= 12 fps.
  Baseline in the same run: the naive path that runs the whole still-image pipeline on every frame
  (detector on every frame, no tracker), same decode, overlay and encode.
* ``instance.stream_fps.two_people``: the same live path with two people in a 640x480 frame.
* ``instance.offline.photo_ms`` / ``instance.stream_fps.detector``: the objects-offline pipeline on a
  640x480 street photo (goal <= 400 ms) and its live path (goal >= 10 fps), each against
  blazepose-multi in the same run (see the functions).
* ``instance.latency.<model>``: one forward of Mask R-CNN v2 / v1 / Keypoint R-CNN at their default
  size (shorter side 800) on a 640x480 photo, random weights (the same arithmetic as the real ones;
  the mask/keypoint heads see fewer boxes than with real weights). Baseline in the same run: the
  bundled BlazePose pipeline on the same photo.
"""
from __future__ import annotations

import io
import time

import numpy as np

from bench.timing import median_ms

PHOTO = "assets/photos/astronaut.png"
TWO = "assets/photos/two_people.jpg"
GOAL_FPS = 12.0


def _jpeg(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def load_frame(path: str) -> np.ndarray:
    """A 640x480 webcam-like frame: the photo scaled to 480 high, centred, edges replicated."""
    import cv2

    from core.image import load_image

    rgb = load_image(path)
    h, w = rgb.shape[:2]
    nw = min(640, round(w * 480 / h))
    rgb = cv2.resize(rgb, (nw, 480), interpolation=cv2.INTER_AREA)
    left = (640 - nw) // 2
    return cv2.copyMakeBorder(rgb, 0, 0, left, 640 - nw - left, cv2.BORDER_REPLICATE)


def _fps(step, seconds: float = 4.0, warmup: int = 3) -> float:
    for _ in range(warmup):
        step()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        n += 1
    return n / (time.perf_counter() - start)


def _live_step(jpeg: bytes, tracker):
    from PIL import Image

    from core import render
    from core.image import load_image
    from core.segmentation.instance import instance

    def step():
        rgb = load_image(jpeg)
        seg = instance(rgb, model="blazepose-multi", min_score=0.5, tracker=tracker, tiles=True)
        out = render.overlay(rgb, seg, opacity=0.45)
        Image.fromarray(out).save(io.BytesIO(), format="JPEG", quality=85)
        return seg

    return step


def stream_fps(path: str, name: str) -> dict:
    from core.segmentation.instance import IouTracker

    jpeg = _jpeg(load_frame(path))
    tracker = IouTracker()
    seg = _live_step(jpeg, tracker)()
    fps = _fps(_live_step(jpeg, tracker))
    base = _fps(_live_step(jpeg, None), seconds=3.0)
    return {"name": name, "value": round(fps, 1), "unit": "fps", "baseline": round(base, 1),
            "ratio": round(fps / base, 3),
            "notes": f"decode 640x480 JPEG + blazepose-multi (tracked, detector + 2 tiles every "
                     f"{tracker.redetect_every}th frame) + overlay + JPEG encode; {len(seg)} person(s); baseline = same with the detector "
                     f"on every frame; goal >= {GOAL_FPS:.0f} fps: {'met' if fps >= GOAL_FPS else 'NOT met'} "
                     f"({fps / GOAL_FPS:.2f}x the goal)"}


def rcnn_latency() -> list[dict]:
    from core.segmentation.catalog.instance import build_torchvision
    from core.segmentation.instance import instance

    frame = load_frame(PHOTO)
    base = median_ms(lambda: instance(frame, model="blazepose-multi"), reps=5)
    out = []
    for name in ("maskrcnn-resnet50-fpn-v2", "maskrcnn-resnet50-fpn", "keypointrcnn-resnet50-fpn"):
        model = build_torchvision(name, None)  # random weights: timing only, never shown
        ms = median_ms(lambda m=model: m(frame, 0.5), reps=1)
        out.append({"name": f"instance.latency.{name}", "value": round(ms, 0), "unit": "ms",
                    "baseline": round(base, 1), "ratio": round(ms / base, 1),
                    "notes": "one forward at the default size (640x480 photo -> 1067x800), random weights, "
                             "CPU; baseline = bundled blazepose-multi on the same photo"})
        del model
    return out


STREET = "assets/eval/street_bus.jpg"
PEDESTRIANS = "assets/eval/pedestrians.jpg"
PHOTO_GOAL_MS = 400.0
DETECTOR_GOAL_FPS = 10.0


def _street_640x480(path: str = PEDESTRIANS) -> np.ndarray:
    import cv2

    from core.image import load_image

    return cv2.resize(load_image(path), (640, 480), interpolation=cv2.INTER_AREA)


def offline_photo_ms() -> dict:
    """``instance.offline.photo_ms``: the whole objects-offline pipeline (NanoDet + BlazePose
    detector, landmarks + mask per person, GrabCut per other object) on a 640x480 street photo
    (the OpenCV pedestrian frame of assets/eval: six walkers, cars, a van); baseline: today's
    blazepose-multi pipeline on the same photo, same run."""
    from core.segmentation.instance import instance

    frame = _street_640x480()
    seg = instance(frame, model="objects-offline")
    ms = median_ms(lambda: instance(frame, model="objects-offline"), reps=5)
    base_seg = instance(frame, model="blazepose-multi")
    base = median_ms(lambda: instance(frame, model="blazepose-multi"), reps=5)
    return {"name": "instance.offline.photo_ms", "value": round(ms, 0), "unit": "ms", "baseline": round(base, 0),
            "ratio": round(ms / base, 2),
            "notes": f"objects-offline on a 640x480 street photo ({len(seg)} instances: "
                     f"{', '.join(sorted(set(seg.class_names)))}); baseline blazepose-multi found {len(base_seg)}; "
                     f"goal <= {PHOTO_GOAL_MS:.0f} ms: {'met' if ms <= PHOTO_GOAL_MS else 'NOT met'}"}


def detector_stream_fps(frame: np.ndarray, name: str, what: str) -> dict:
    """``instance.stream_fps.detector``: the Instance tab's live path with objects-offline at
    640x480 (decode, detectors every 4th frame, people followed by the landmark model in between,
    other objects as boxes, overlay, encode) against blazepose-multi's live path, same frame, same run."""
    from PIL import Image

    from core import render
    from core.image import load_image
    from core.segmentation.instance import IouTracker, instance

    jpeg = _jpeg(frame)

    def step_for(model, tracker):
        def step():
            rgb = load_image(jpeg)
            seg = instance(rgb, model=model, min_score=0.5, tracker=tracker, tiles=True)
            Image.fromarray(render.overlay(rgb, seg, opacity=0.45)).save(io.BytesIO(), format="JPEG", quality=85)
            return seg
        return step

    tracker = IouTracker()
    seg = step_for("objects-offline", tracker)()
    fps = _fps(step_for("objects-offline", tracker))
    base = _fps(step_for("blazepose-multi", IouTracker()), seconds=3.0)
    return {"name": name, "value": round(fps, 1), "unit": "fps", "baseline": round(base, 1),
            "ratio": round(fps / base, 2),
            "notes": f"objects-offline live path (detectors every 4th frame) on {what} ({len(seg)} instances: "
                     f"{', '.join(sorted(set(seg.class_names)))}); baseline = blazepose-multi live path, same frame; "
                     f"goal >= {DETECTOR_GOAL_FPS:.0f} fps: {'met' if fps >= DETECTOR_GOAL_FPS else 'NOT met'}"}


def run() -> list[dict]:
    out = [stream_fps(PHOTO, "instance.stream_fps"),
           stream_fps(TWO, "instance.stream_fps.two_people")]
    from core import models

    if models.registry().status("objects-offline") in ("ready", "loaded"):
        out += [offline_photo_ms(),
                detector_stream_fps(load_frame(PHOTO), "instance.stream_fps.detector",
                                    "a 640x480 webcam-like frame with one person (astronaut.png, as instance.stream_fps)"),
                detector_stream_fps(_street_640x480(), "instance.stream_fps.detector.street",
                                    "the 640x480 pedestrian-camera frame (six walkers)")]
    return out + rcnn_latency()


if __name__ == "__main__":
    for entry in run():
        print(entry)
