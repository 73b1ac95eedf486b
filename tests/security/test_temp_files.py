"""Attack 6: a visitor's export files (segmentation exports, style downloads, the gallery export with its
embeddings) must not outlive the session on the server: removed when the page closes (Gradio's unload,
fired when the page's heartbeat connection ends), and after --session-file-ttl seconds for clients that
never close (API scripts). Gradio's download copies of those files go with them."""
from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest

from demos.session_files import session_folder
from tests.security.conftest import ATTACKER, call, honest_semantic, http_from, photo_path, upload

TTL_S = 20


@pytest.fixture(scope="module")
def ttl_app(tmp_path_factory):
    from tests.app_server import running_app

    with running_app(tmp_path_factory.mktemp("ttl_app") / "app.log", "--session-file-ttl", str(TTL_S)) as server:
        yield server


def _exports(http, session: str) -> list[Path]:
    """A semantic export, two fast styles and a gallery export in ``session``: the files handed out."""
    image = upload(http, photo_path("astronaut.png"))
    files = []
    ok, value = call(http, "segment_semantic", [image, "auto", 0.5, True], session)
    assert ok, value
    ok, value = call(http, "export_semantic", [None, 0.5, [], True], session)
    assert ok, value
    files += [Path(f["path"]) for f in value[0]]
    for strength in (0.5, 0.8):
        ok, value = call(http, "style_fast", [image, "painting: starry_night", None, "none", 0.5, 256, False,
                                              strength], session)
        assert ok, value
        files += [Path(f["path"]) for f in value[3]]
    ok, value = call(http, "faces_example_gallery", [None, "yunet", "sface"], session)
    assert ok, value
    ok, value = call(http, "faces_export", [None], session)
    assert ok, value
    files.append(Path(value[0]["path"]))
    return files


def _wait_gone(paths: list[Path], timeout: float) -> list[Path]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        left = [p for p in paths if p.exists()]
        if not left:
            return []
        time.sleep(0.5)
    return [p for p in paths if p.exists()]


def test_files_go_when_the_page_closes(ttl_app):
    url, _ = ttl_app
    session = uuid.uuid4().hex
    with http_from(ATTACKER, url) as http:
        closed = threading.Event()

        def heartbeat():  # what an open page keeps: its heartbeat stream
            with http_from(ATTACKER, url) as hb, hb.stream("GET", f"gradio_api/heartbeat/{session}") as r:
                for _ in r.iter_lines():
                    if closed.is_set():
                        return

        beat = threading.Thread(target=heartbeat, daemon=True)
        beat.start()
        time.sleep(1)
        files = _exports(http, session)
        folder = session_folder(session)
        assert folder.is_dir() and len(list(folder.rglob("*.json"))) >= 3
        assert any("gallery" in p.name for p in files) and all(p.exists() for p in files)
        started = time.monotonic()
        closed.set()  # the page closes: its heartbeat connection ends
        beat.join(timeout=30)
        left = _wait_gone([folder, *files], timeout=TTL_S - 2 - (time.monotonic() - started))
        assert not left, left  # gone before the ttl could have removed them
    assert honest_semantic(url)


def test_files_of_a_session_that_never_closes_go_after_the_ttl(ttl_app):
    url, _ = ttl_app
    session = uuid.uuid4().hex
    with http_from(ATTACKER, url) as http:
        files = _exports(http, session)
    folder = session_folder(session)
    assert folder.is_dir()
    assert not _wait_gone([folder, *files], timeout=TTL_S * 3)
