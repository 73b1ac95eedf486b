"""The clip endpoints on the real app: each returns a playable H.264 clip and the clip's JSON; the
per-clip cap (``--clip-seconds``) cuts a clip and says so; a file that is not a clip is one message
and the server keeps serving."""
from __future__ import annotations

import json

import pytest

from core.video.io import probe
from tests import api_calls as A


@pytest.fixture(scope="module")
def video_app(tmp_path_factory):
    from tests.app_server import running_app

    with running_app(tmp_path_factory.mktemp("video_app") / "app.log", "--clip-seconds", "1.5") as server:
        yield server


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(A.VIDEO_ENDPOINTS))
def test_clip_endpoint_returns_clip_and_json(video_app, name):
    url, _ = video_app
    c = A.client(url)
    if name == "video_faces":
        A.faces_enrol(c, "Barack Obama", [A.FACES / "people/Barack_Obama/1.jpg"])
        A.faces_enrol(c, "Joe Biden", [A.FACES / "people/Joe_Biden/1.jpg"])
    clip = A.CLIPS / ("obama_biden_pan.mp4" if name == "video_faces" else "two_people_pan.mp4")
    out_clip, js_path, summary, timeline = A.VIDEO_ENDPOINTS[name](c, clip, every=2)
    info = probe(out_clip if isinstance(out_clip, str) else out_clip["video"])
    assert info.codec == "h264" and info.frame_count == 8  # 1.5 s of 10 fps, every 2nd frame
    js = json.loads(open(js_path).read())
    assert set(js) == {"video", "frames", "tracks"} and js["video"]["frame_count"] == 8
    assert any("clip cut" in n for n in js["video"]["notes"]) and "clip cut" in summary
    if name == "video_faces":
        assert sorted({t["label"] for t in js["tracks"]}) == ["Barack Obama", "Joe Biden"]
    if name in ("video_instance", "video_faces"):
        assert "Timeline" in timeline


@pytest.mark.slow
def test_not_a_clip_is_one_message_and_the_server_goes_on(video_app, tmp_path):
    from gradio_client.exceptions import AppError

    url, proc = video_app
    bad = tmp_path / "holiday.mp4"
    bad.write_text("this is not a video")
    c = A.client(url)
    with pytest.raises(AppError, match="not a video file"):
        A.video_semantic(c, bad)
    assert proc.poll() is None
    out_clip, _, _, _ = A.video_semantic(c, A.CLIPS / "two_people_pan.mp4", every=5)
    assert probe(out_clip if isinstance(out_clip, str) else out_clip["video"]).frame_count == 3
