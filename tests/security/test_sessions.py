"""A flood of fresh sessions from one address pushes out its own sessions, not another visitor's
result (issue 21.5), and the forwarded address is trusted only with --trust-forwarded."""
from __future__ import annotations

import pytest

from tests.app_server import running_app
from tests.security.visitor_client import Visitor, new_session, semantic_data

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    # a small server: 30 sessions kept, 5 per address, so the flood is quick
    with running_app(tmp_path_factory.mktemp("sessions") / "app.log", "--max-sessions", "30",
                     "--sessions-per-address", "5") as server:
        yield server


def test_a_session_flood_evicts_the_flooders_own_sessions_only(app):
    url, proc = app
    honest, attacker = Visitor(url, "127.0.0.1"), Visitor(url, "127.0.0.2")
    try:
        semantic = honest.fn_index("segment_semantic")
        victim = new_session()
        done = honest.call(semantic, semantic_data(honest.upload()), victim)
        assert done["success"]
        flood = [new_session() for _ in range(40)]  # more than the server keeps (30)
        attacker.call(semantic, semantic_data(attacker.upload()), flood[0])  # the flooder's oldest has a result too
        for s in flood[1:]:  # a cheap call each (no photo: a clear error), but every one makes a session
            attacker.call(semantic, semantic_data(None), s, timeout=60)
        export = honest.fn_index("export_semantic")  # succeeds only while the session's result is kept
        held = lambda who, s: who.call(export, [None, 0.5, [], True], s, timeout=60)["success"]  # noqa: E731
        # the victim's session (its cached result) is still on the server; the flooder's oldest are not
        assert held(honest, victim)
        assert not held(attacker, flood[0])
        # fresh sessions through the simple /call/ route count too
        for _ in range(10):
            r = attacker.http.post(f"{url}gradio_api/call/segment_semantic", json={"data": semantic_data(None)})
            assert r.status_code == 200
        assert held(honest, victim)
    finally:
        honest.close()
        attacker.close()
    assert proc.poll() is None


def test_the_forwarded_address_is_trusted_only_when_told():
    from demos import visitors

    headers = {"x-forwarded-for": "6.6.6.6, 10.0.0.7"}
    try:
        visitors.trust_forwarded(False)
        assert visitors.client_address(headers, "127.0.0.1") == "127.0.0.1"
        visitors.trust_forwarded(True)
        assert visitors.client_address(headers, "127.0.0.1") == "10.0.0.7"  # the entry the proxy added
        assert visitors.client_address({}, "127.0.0.1") == "127.0.0.1"
    finally:
        visitors.trust_forwarded(False)
