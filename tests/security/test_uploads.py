"""Attack 1: a request must not make the server read its files through an image input.

Every file reference that is not an upload received by this server (or a shipped example) gets one and
the same refusal, whatever is (or is not) at that path: no file contents, no file-system oracle. Sent
as raw JSON to the simple /call/ routes from 127.0.0.2, while an honest visitor on 127.0.0.1 is served.
"""
from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest

from demos.uploads import UPLOAD_REFUSED
from tests.security.conftest import call, honest_semantic, photo_path

META = {"_type": "gradio.FileData"}


def _data_url(path: Path) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()


def _hostile_refs(tmp_path: Path) -> dict[str, dict]:
    """name -> image payload a stranger can write; none of them is an upload this server received."""
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(photo_path("two_people.jpg").read_bytes())  # a real photo, but not uploaded
    upload_dir = Path(os.environ.get("GRADIO_TEMP_DIR") or "/tmp/gradio")
    upload_dir.mkdir(parents=True, exist_ok=True)
    link = upload_dir / f"cvlab-sec-link-{os.getpid()}.jpg"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(outside)  # inside the upload folder, leading out of it
    return {
        "etc_passwd_no_marker": {"path": "/etc/passwd"},
        "etc_passwd_with_marker": {"path": "/etc/passwd", "meta": META},
        "server_photo_outside_roots": {"path": str(outside)},
        "dotdot_escape": {"path": str(upload_dir / ".." / ".." / "etc" / "hostname")},
        "symlink_in_upload_dir": {"path": str(link)},
        "missing_file": {"path": str(upload_dir / "no-such-dir" / "missing.jpg")},
        "data_url": {"url": _data_url(photo_path("two_people.jpg")), "path": None},
        "data_url_as_path": {"path": _data_url(photo_path("two_people.jpg"))},
        "http_url": {"url": "http://127.0.0.1:1/x.jpg", "path": None},
        "no_path": {"orig_name": "x.jpg"},
    }


def _semantic(image) -> list:
    return [image, "auto", 0.5, True]


def _style_fast(image) -> list:
    return [image, "painting: starry_night", None, "none", 0.5, 256, False, 1.0]


def _recognize(image) -> list:
    return [image, None, "yunet", "sface", 0.363, "nearest"]


def _verify(image) -> list:
    return [image, {"path": str(photo_path("astronaut.png")), "meta": META}, "photo", None, "largest", "largest",
            None, "yunet", "sface", 0.363]


def _enrol_snapshot(image) -> list:
    return ["Mallory", None, image, "largest", None, "yunet", "sface", 0.363]


def _enrol_files(image) -> list:
    return ["Mallory", [image], None, "largest", None, "yunet", "sface", 0.363]


ENDPOINTS = {"segment_semantic": _semantic, "style_fast": _style_fast, "faces_recognize": _recognize,
             "faces_verify": _verify, "faces_enrol": _enrol_snapshot}


def _message(value) -> str:
    return str(value.get("error") if isinstance(value, dict) else value)


def test_every_file_reference_gets_the_same_refusal(sec_app, attacker, tmp_path):
    url, _ = sec_app
    refs = _hostile_refs(tmp_path)
    seen = {}
    for api_name, build in ENDPOINTS.items():
        for ref_name, ref in refs.items():
            ok, value = call(attacker, api_name, build(ref))
            assert not ok, f"{api_name} accepted {ref_name}: {str(value)[:200]}"
            seen[(api_name, ref_name)] = _message(value)
    # Gradio itself refuses a marked FileData outside its cache before our code runs; every other
    # reference reaches our guard, and all of those get the one sentence
    ours = {k: v for k, v in seen.items() if k[1] != "etc_passwd_with_marker"}
    assert {UPLOAD_REFUSED} == set(ours.values()), ours
    for (api_name, ref_name), msg in seen.items():
        assert "root:" not in msg and "No such file" not in msg and "does not exist" not in msg, (api_name, msg)
    assert honest_semantic(url)  # meanwhile, the honest visitor is served


def test_enrol_photo_files_refused_the_same_way(sec_app, attacker, tmp_path):
    """gr.File photos: refused before our callback (Gradio) or by it; nothing is enrolled or leaked."""
    refs = _hostile_refs(tmp_path)
    for ref_name in ("etc_passwd_no_marker", "etc_passwd_with_marker", "server_photo_outside_roots",
                     "missing_file", "symlink_in_upload_dir"):
        for ref in (refs[ref_name], {**refs[ref_name], "meta": META}):
            ok, value = call(attacker, "faces_enrol", _enrol_files(ref))
            assert not ok or "enrolled" not in str(value[1]), (ref_name, value)
            assert "root:" not in str(value)


def test_gallery_import_reads_only_uploads(sec_app, attacker, tmp_path):
    """gr.File inputs: Gradio refuses the reference before our callback (which checks it again); the
    answer is the same whether the file exists, is a gallery-looking JSON or is missing."""
    url, _ = sec_app
    outside = tmp_path / "g.json"
    outside.write_text('{"format": "cvlab-face-gallery"}')
    for marker in ({}, {"meta": META}):
        answers = set()
        for path in ("/etc/passwd", str(outside), "/no/such/file.json"):
            ok, value = call(attacker, "faces_import", [{"path": path, **marker}, None, "sface", False])
            assert not ok and "root:" not in _message(value)
            answers.add(re.sub(r"input_value=\{[^}]*\}", "", _message(value)).replace(path, "<path>"))
        assert len(answers) == 1, answers
    assert honest_semantic(url)


def test_a_shipped_example_and_a_real_upload_still_work(sec_app, attacker):
    url, _ = sec_app
    ok, value = call(attacker, "segment_semantic", _semantic({"path": str(photo_path("astronaut.png"))}))
    assert ok, value
    assert honest_semantic(url)[1] is not None


@pytest.mark.parametrize("name", ["clip.mp4"])
def test_a_clip_on_a_photo_input_is_called_a_video(sec_app, tmp_path, name):
    from gradio_client import Client, handle_file

    url, _ = sec_app
    clip = tmp_path / name
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2000)
    with pytest.raises(Exception) as err:
        Client(url, verbose=False).predict(handle_file(str(clip)), "auto", 0.5, True, api_name="/segment_semantic")
    assert "is a video" in str(err.value) and "Clip" in str(err.value)
