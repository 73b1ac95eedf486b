"""The clip inputs under attack (1): a request must not make the server read its files, or files and
URLs named inside a clip, through the five ``/video_*`` endpoints; and a file that is not a clip (a
playlist, a concat list, a photo, audio only, nothing, half a clip) is one clear sentence.

Raw JSON to the simple /call/ routes from 127.0.0.2, as any script can send, while an honest visitor
on 127.0.0.1 keeps being served. Every server-file reference gets the photos' one refusal
(``demos.uploads.UPLOAD_REFUSED``), whatever is or is not at that path."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from demos.uploads import UPLOAD_REFUSED
from tests.security import hostile_clips as H
from tests.security.conftest import call, honest_semantic, upload

pytestmark = pytest.mark.slow

VIDEO_DATA = {
    "video_semantic": lambda clip: [clip, 1, "auto", 0.5],
    "video_instance": lambda clip: [clip, 1, "auto"],
    "video_panoptic": lambda clip: [clip, 1, "auto"],
    "video_faces": lambda clip: [clip, 1, "yunet", "sface", 0.363, "nearest"],
    "video_style": lambda clip: [clip, 1, "painting: starry_night", None, 1.0],
}
LEAKS = ("root:", "No such file", "does not exist", "EXTM3U", "ffconcat", "/etc/", "/tmp/", "/work/")


def _message(value) -> str:
    return str(value.get("error") if isinstance(value, dict) else value)


def test_server_files_through_a_clip_input_get_the_one_refusal(sec_app, attacker, tmp_path):
    url, proc = sec_app
    refs = H.server_refs(tmp_path, Path(os.environ.get("GRADIO_TEMP_DIR") or "/tmp/gradio"))
    seen = {}
    for api_name, build in VIDEO_DATA.items():
        for ref_name, ref in refs.items():
            ok, value = call(attacker, api_name, build(ref))
            assert not ok, f"{api_name} accepted {ref_name}: {str(value)[:200]}"
            sent = ref.get("path") if isinstance(ref, dict) else ref
            seen[(api_name, ref_name)] = _message(value).replace(str(sent), "<path>")  # its own words back
    # Gradio refuses a marked FileData outside its cache before our code runs, with one answer for an
    # existing and a missing file; every other reference reaches ClipInput, and gets the one sentence
    ours = {k: v for k, v in seen.items() if not k[1].startswith("marked_")}
    assert {UPLOAD_REFUSED} == set(ours.values()), ours
    assert len({v for k, v in seen.items() if k[1].startswith("marked_")}) == 1
    for key, msg in seen.items():
        assert not any(leak in msg for leak in LEAKS), (key, msg)
    assert proc.poll() is None and honest_semantic(url)


@pytest.fixture(scope="module")
def not_clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("not_clips")
    files = H.playlist_files(folder)
    files["photo.mp4"] = H.photo_named_clip(folder / "photo.mp4")
    files["audio_only.mp4"] = H.audio_only_clip(folder / "audio_only.mp4")
    files["no_frames.mkv"] = H.empty_video_clip(folder / "no_frames.mkv")
    files["empty.mp4"] = folder / "empty.mp4"
    files["empty.mp4"].write_bytes(b"")
    return files


EXPECTED = {  # what the visitor is told, in a few words
    "playlist.m3u8": "is not a video file", "playlist_as.mp4": "is not a video file",
    "concat.mp4": "is not a video file", "concat.txt": "is not a video file",
    "http_playlist.mp4": "is not a video file", "photo.mp4": "is not a video file",
    "audio_only.mp4": "has no video stream", "no_frames.mkv": "is not a video file",
    "empty.mp4": "is not a video file",
}


def test_files_that_are_not_clips_are_one_sentence(sec_app, attacker, not_clips):
    """Playlists and concat lists name other files and URLs: FFmpeg must not follow them (its HLS and
    concat demuxers are never opened), so none of the named clip's frames comes back."""
    url, proc = sec_app
    for name, path in not_clips.items():
        ok, value = call(attacker, "video_semantic", VIDEO_DATA["video_semantic"](upload(attacker, path)))
        msg = _message(value)
        assert not ok, (name, value)
        assert EXPECTED[name] in msg and "\n" not in msg and "Traceback" not in msg, (name, msg)
        assert not any(leak in msg for leak in LEAKS), (name, msg)
    assert proc.poll() is None and honest_semantic(url)


def test_a_clip_on_a_photo_endpoint_is_called_a_video(sec_app, attacker):
    url, _ = sec_app
    ok, value = call(attacker, "segment_semantic", [upload(attacker, H.CLIP), "auto", 0.5, True])
    assert not ok and "is a video" in _message(value) and "Clip" in _message(value), value


def test_a_truncated_clip_gives_the_frames_before_the_damage(sec_app, attacker, tmp_path):
    url, proc = sec_app
    half = H.truncated_clip(tmp_path / "half.mp4")
    ok, value = call(attacker, "video_semantic", VIDEO_DATA["video_semantic"](upload(attacker, half)))
    assert ok, value
    assert "ended after" in value[2] and "Stopped" not in value[2], value[2]
    one = H.h264_clip(tmp_path / "one_frame.mp4", 64, 48, 1)
    ok, value = call(attacker, "video_semantic", VIDEO_DATA["video_semantic"](upload(attacker, one)))
    assert ok and "1 frames" in value[2], value
    assert proc.poll() is None


def test_the_clip_style_image_reads_only_uploads(sec_app, attacker, tmp_path):
    """/video_style's own style image is a photo input: the same refusal, before any frame is done."""
    url, _ = sec_app
    clip = upload(attacker, H.CLIP)
    for ref in ({"path": "/etc/passwd"}, {"path": str(H.CLIP.resolve())[:-4] + ".missing.jpg"},
                {"path": "data:image/png;base64,iVBORw0KGgo="}):
        ok, value = call(attacker, "video_style", [clip, 1, "my own image", ref, 1.0])
        assert not ok and _message(value) == UPLOAD_REFUSED, (ref, value)
    assert honest_semantic(url)


def test_a_style_name_never_opens_a_server_file(sec_app, attacker):
    """/video_style's style choice is a preset name only: a server path in it (an image that exists, a
    text file, a missing file; with or without the painting prefix) is the same "Unknown style", so
    nothing is read and the answer says nothing about the server's files."""
    url, _ = sec_app
    clip = upload(attacker, H.CLIP)
    image = str((H.ROOT / "assets" / "photos" / "two_people.jpg").resolve())
    answers = set()
    for name in (image, "/etc/passwd", "/no/such/file.jpg", "painting: ../../../etc/passwd",
                 f"painting: {image}", "painting: /no/such/file.jpg"):
        ok, value = call(attacker, "video_style", [clip, 1, name, None, 1.0])
        assert not ok, (name, str(value)[:200])
        answers.add(_message(value))
    assert answers == {"Unknown style: pick one of the presets, or upload a style image."}, answers
    ok, value = call(attacker, "video_style", [clip, 5, "stained glass", None, 1.0])  # a built-in style still works
    assert ok, value
    assert honest_semantic(url)
