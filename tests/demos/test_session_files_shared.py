"""demos/session_files.py: when two sessions were handed the same file (the same example, the same
settings: the same bytes, so Gradio's content-addressed cache gives both one copy), the first session
to end must not take the other's download away; the last one removes it."""
from __future__ import annotations

from pathlib import Path

import pytest

from demos import session_files


@pytest.fixture
def roots(tmp_path, monkeypatch):
    cache = tmp_path / "gradio"
    monkeypatch.setattr(session_files, "ROOT", tmp_path / "sessions")
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    return cache


def test_a_copy_two_sessions_hold_goes_with_the_last(roots):
    from gradio import processing_utils

    data = b"the same overlay bytes" * 100
    paths = []
    for session in ("alice", "bob"):
        folder = session_files.session_folder(session) / "clipXYZ"
        folder.mkdir(parents=True)
        (folder / "two_people_pan_out.mp4").write_bytes(data)
        paths.append(folder / "two_people_pan_out.mp4")
    copy = Path(processing_utils.save_file_to_cache(paths[0], cache_dir=str(roots)))
    assert copy.is_file() and copy.name == "two_people_pan_out.mp4"
    other = Path(processing_utils.save_file_to_cache(paths[1], cache_dir=str(roots)))
    assert other == copy  # one copy for both

    session_files.remove_session("alice")
    assert not paths[0].exists() and copy.is_file()  # bob's download still works
    session_files.remove_session("bob")
    assert not paths[1].exists() and not copy.exists()


def test_a_copy_of_one_session_goes_with_it(roots):
    from gradio import processing_utils

    folder = session_files.session_folder("carol") / "clipXYZ"
    folder.mkdir(parents=True)
    (folder / "a.json").write_text("{}")
    (session_files.session_folder("dave") / "x").mkdir(parents=True)
    (session_files.session_folder("dave") / "x" / "a.json").write_text('{"other": 1}')  # same name, other bytes
    copy = Path(processing_utils.save_file_to_cache(folder / "a.json", cache_dir=str(roots)))
    session_files.remove_session("carol")
    assert not copy.exists()


def test_uploads_a_job_names_go_with_its_session_and_hostile_paths_are_ignored(roots, tmp_path):
    """note_uploads lists only real files inside the upload folder; the session's end deletes them unless
    another session listed the same file."""
    roots.mkdir()
    upload = roots / ("a" * 64) / "face.jpg"
    upload.parent.mkdir()
    upload.write_bytes(b"a visitor's own photo")
    outside = tmp_path / "secret.txt"
    outside.write_text("server file")
    escape = str(roots / ".." / "secret.txt")
    data = [{"path": str(upload), "meta": {"_type": "gradio.FileData"}}, {"path": str(outside)},
            {"video": {"path": escape}}, "plain", {"path": "data:image/png;base64,AAAA"}, None]
    assert session_files.note_uploads("alice", data) == 1
    assert session_files.note_uploads("bob", [[{"path": str(upload)}]]) == 1
    assert session_files.note_uploads(None, data) == 0

    session_files.remove_session("alice")
    assert upload.is_file() and outside.is_file()  # bob still uses it; the server file was never listed
    session_files.remove_session("bob")
    assert not upload.exists() and not upload.parent.exists() and outside.is_file()
