"""Gradio's ``GET /gradio_api/deep_link?session_hash=<id>`` (demos/deep_links.py): for any session the
server holds, it wrote the app's whole config with that session's values (about 600 kB; a face
gallery's names included) to ``<upload folder>/deep_links/<hash>/state.json``, which nothing ever
removed, and ``/?deep_link=<hash>`` showed those values to anyone with the link. Now the route answers
404 and writes nothing, the files an earlier run left are gone, and the page still loads with a
``deep_link`` parameter."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

from tests.security.conftest import ATTACKER, HONEST, call, honest_semantic, http_from

DEEP_LINKS = Path(os.environ.get("GRADIO_TEMP_DIR") or "/tmp/gradio") / "deep_links"


def _files() -> set[Path]:
    return set(DEEP_LINKS.glob("*/state.json")) if DEEP_LINKS.is_dir() else set()


def test_deep_link_route_writes_nothing_and_shows_no_session(sec_app):
    url, proc = sec_app
    session = uuid.uuid4().hex
    with http_from(HONEST, url) as honest, http_from(ATTACKER, url) as attacker:
        ok, value = call(honest, "faces_example_gallery", [None, "yunet", "sface"], session)
        assert ok, value  # the session holds a gallery of named people
        for http in (honest, attacker):
            for _ in range(3):
                r = http.get("gradio_api/deep_link", params={"session_hash": session})
                assert r.status_code == 404, (r.status_code, r.text[:200])
                assert "Obama" not in r.text
        assert not _files()  # not one file written; none left from before the app started
        assert attacker.get("/", params={"deep_link": "bS46FS8SelQ"}).status_code == 200
    assert proc.poll() is None and honest_semantic(url)
