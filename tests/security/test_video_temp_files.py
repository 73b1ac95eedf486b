"""The clip endpoints under attack (4): nothing stays. A clip run's outputs (the overlaid clip, its
JSON, Gradio's download copies of both) live in the session's folder and go when the page closes
(its heartbeat ends), or after ``--session-file-ttl`` for a client that never closes; also for a run
stopped mid-way (by the time budget, the same path as the Stop button; an app whose budget runs out at
the first frame makes that deterministic) and for a run that failed after it started."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from demos.session_files import session_folder
from tests.security import hostile_clips as H
from tests.security.conftest import ATTACKER, OpenPage, call, http_from, still_there, upload

pytestmark = pytest.mark.slow

TTL_S = 30


@pytest.fixture(scope="module")
def ttl_app(tmp_path_factory):
    from tests.app_server import running_app

    with running_app(tmp_path_factory.mktemp("clip_ttl") / "app.log", "--session-file-ttl", str(TTL_S),
                     "--clip-budget", "15") as server:
        yield server


def _clip_runs(http, session: str, folder: Path) -> list[Path]:
    """A complete run and a run that fails after it started: the files handed out."""
    files = []
    ok, value = call(http, "video_semantic", [upload(http, H.CLIP), 5, "auto", 0.5], session)
    assert ok and "Done" in value[2], value
    files += [Path(value[0]["path"]), Path(value[1]["path"])]
    ok, value = call(http, "video_semantic", [upload(http, H.header_only_clip(folder / "hollow.mp4")), 1, "auto", 0.5],
                     session)
    assert not ok and "no decodable frames" in str(value), value
    return files


@pytest.fixture(scope="module")
def budget_app(tmp_path_factory):
    """Every clip run stops on its time budget at its first check (10 ms: a frame takes longer)."""
    from tests.app_server import running_app

    with running_app(tmp_path_factory.mktemp("clip_budget") / "app.log", "--session-file-ttl", str(TTL_S),
                     "--clip-budget", "0.01") as server:
        yield server


def test_a_run_stopped_by_its_budget_leaves_nothing_after_the_page_closes(budget_app, tmp_path):
    """Stopped mid-way (the budget takes the Stop button's path): the partial clip and its JSON go too."""
    url, _ = budget_app
    session = uuid.uuid4().hex
    page = OpenPage(url, session)
    with http_from(ATTACKER, url) as http:
        long = H.h264_clip(tmp_path / "long.mp4", 320, 240, 600)
        ok, value = call(http, "video_semantic", [upload(http, long), 1, "auto", 0.5], session)
    assert ok and "Stopped" in value[2] and "time budget" in value[2], value
    # the partial clip, if a frame was done before the first check (there is then no clip: None), and the JSON
    files = [Path(v["path"]) for v in value[:2] if v is not None]
    folder = session_folder(session)
    assert folder.is_dir() and files and all(p.exists() for p in files), value
    started = time.monotonic()
    page.close()
    left = still_there([folder, *files], timeout=TTL_S - 2 - (time.monotonic() - started))
    assert not left, left


def test_clip_files_go_when_the_page_closes(ttl_app, tmp_path):
    url, _ = ttl_app
    session = uuid.uuid4().hex
    page = OpenPage(url, session)
    with http_from(ATTACKER, url) as http:
        files = _clip_runs(http, session, tmp_path)
    folder = session_folder(session)
    assert folder.is_dir() and len(list(folder.rglob("*.mp4"))) >= 1 and all(p.exists() for p in files)
    started = time.monotonic()
    page.close()  # the page closes
    left = still_there([folder, *files], timeout=TTL_S - 2 - (time.monotonic() - started))
    assert not left, left  # gone before the ttl could have removed them


def test_clip_files_of_a_session_that_never_closes_go_after_the_ttl(ttl_app, tmp_path):
    url, _ = ttl_app
    session = uuid.uuid4().hex
    with http_from(ATTACKER, url) as http:
        files = _clip_runs(http, session, tmp_path)
    assert session_folder(session).is_dir()
    assert not still_there([session_folder(session), *files], timeout=TTL_S * 3)


def test_a_page_closed_mid_run_leaves_nothing(ttl_app, tmp_path):
    """The page closes while its clip is being processed: the session's folder goes at once, and the run
    (which goes on until its budget) puts nothing back, nor a download copy in Gradio's cache."""
    url, _ = ttl_app
    session = uuid.uuid4().hex
    page = OpenPage(url, session)
    folder = session_folder(session)
    with http_from(ATTACKER, url) as http:
        long = H.h264_clip(tmp_path / "walk_away.mp4", 320, 240, 600, fps=30)  # 600 frames: still running
        r = http.post("gradio_api/call/video_semantic",
                      json={"data": [upload(http, long), 1, "auto", 0.5], "session_hash": session})
        assert r.status_code == 200, r.text
        event_id = r.json()["event_id"]
        end = time.monotonic() + 60
        while time.monotonic() < end and not list(folder.rglob("*.mp4")):
            time.sleep(0.3)
        assert list(folder.rglob("*.mp4")), "the run never started"
        page.close()  # the page closes mid-run
        assert not still_there([folder], timeout=TTL_S - 5)
        with http.stream("GET", f"gradio_api/call/video_semantic/{event_id}") as stream:  # until the run ends
            ends = [line for line in stream.iter_lines() if line.startswith("event:") and ("complete" in line
                                                                                       or "error" in line)]
        assert ends, "the run did not end"
    assert not folder.exists()
    cache = Path(os.environ.get("GRADIO_TEMP_DIR") or "/tmp/gradio")
    assert not list(cache.glob("*/walk_away_out.mp4")) and not list(cache.glob("*/walk_away.json"))
