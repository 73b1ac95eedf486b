"""Attack 6: a visitor's export files (segmentation exports, style downloads, the gallery export with its
embeddings) must not outlive the session on the server: removed when the page closes (Gradio's unload,
fired when the page's heartbeat connection ends), and after --session-file-ttl seconds for clients that
never close (API scripts). Gradio's download copies of those files go with them."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from demos.session_files import session_folder
from tests.security.conftest import (ATTACKER, OpenPage, call, honest_semantic, http_from, photo_path, still_there,
                                     upload)

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


def test_files_go_when_the_page_closes(ttl_app):
    url, _ = ttl_app
    session = uuid.uuid4().hex
    with http_from(ATTACKER, url) as http:
        page = OpenPage(url, session)
        files = _exports(http, session)
        folder = session_folder(session)
        assert folder.is_dir() and len(list(folder.rglob("*.json"))) >= 3
        assert any("gallery" in p.name for p in files) and all(p.exists() for p in files)
        started = time.monotonic()
        page.close()  # the page closes: its heartbeat connection ends
        left = still_there([folder, *files], timeout=TTL_S - 2 - (time.monotonic() - started))
        assert not left, left  # gone before the ttl could have removed them
    assert honest_semantic(url)


def test_files_of_a_session_that_never_closes_go_after_the_ttl(ttl_app):
    url, _ = ttl_app
    session = uuid.uuid4().hex
    with http_from(ATTACKER, url) as http:
        files = _exports(http, session)
    folder = session_folder(session)
    assert folder.is_dir()
    assert not still_there([folder, *files], timeout=TTL_S * 3)


def _private_photo(tmp_path: Path, name: str) -> Path:
    """A real photo with bytes no other file has (a visitor's own picture)."""
    from PIL import Image

    img = Image.open(photo_path("two_people.jpg")).convert("RGB")
    img.putpixel((0, 0), tuple(int(b) for b in uuid.uuid4().bytes[:3]))
    out = tmp_path / name
    img.save(out, quality=92)
    return out



@pytest.fixture(scope="module")
def long_ttl_app(tmp_path_factory):
    """The app with a ttl far longer than any wait here: only a page's closing removes files."""
    from tests.app_server import running_app

    with running_app(tmp_path_factory.mktemp("long_ttl_app") / "app.log", "--session-file-ttl", "900") as server:
        yield server

def test_a_visitors_uploads_go_with_their_session_but_not_anothers(long_ttl_app, tmp_path):
    """The photo a visitor uploaded and used is deleted when their page closes; the same bytes used by a
    second, still open page stay until that one closes too; a shipped example's copy is never deleted."""
    url, _ = long_ttl_app
    mine = _private_photo(tmp_path, "my_face.jpg")
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    with http_from(ATTACKER, url) as http:
        pages = {s: OpenPage(url, s) for s in (first, second)}
        image = upload(http, mine)
        example = upload(http, photo_path("astronaut.png"))
        stored = Path(image["path"])
        for session in (first, second):
            ok, value = call(http, "segment_semantic", [image, "auto", 0.5, True], session)
            assert ok, value
        ok, value = call(http, "segment_semantic", [example, "auto", 0.5, True], first)
        assert ok, value
        assert stored.is_file() and Path(example["path"]).is_file()
        pages[first].close()  # the first page closes: the second still uses the photo
        assert still_there([session_folder(first)], timeout=60) == []
        assert stored.is_file()
        ok, value = call(http, "segment_semantic", [image, "auto", 0.5, True], second)
        assert ok, value
        pages[second].close()
        assert still_there([stored, session_folder(second)], timeout=60) == []
        assert Path(example["path"]).is_file()  # an example's bytes: not the visitor's, shared by all
    assert honest_semantic(url)
