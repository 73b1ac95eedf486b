"""One visitor cannot block everyone (issue 21.4): a client that floods the queue with Gatys runs
(six sessions, one address: 66 jobs against a queue of 64) gets at most its own share, with a clear
message, while an honest visitor on another address keeps getting its Semantic results."""
from __future__ import annotations

import concurrent.futures as cf

import pytest

from tests.app_server import running_app
from tests.security.visitor_client import Visitor, gatys_data, new_session, semantic_data

pytestmark = pytest.mark.slow

ATTACKER, HONEST = "127.0.0.2", "127.0.0.1"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("flood") / "app.log", "--gatys-budget", "20") as server:
        yield server


def test_a_gatys_flood_gets_its_own_share_and_the_honest_visitor_is_served(app):
    url, proc = app
    attacker, honest = Visitor(url, ATTACKER), Visitor(url, HONEST)
    try:
        photo = attacker.upload()
        gatys = attacker.fn_index("style_gatys")
        answers = [attacker.join(gatys, gatys_data(photo), s) for s in [new_session() for _ in range(6)]
                   for _ in range(11)]
        accepted = [r for r in answers if r.status_code == 200]
        refused = [r for r in answers if r.status_code != 200]
        assert 1 <= len(accepted) <= 2, [r.status_code for r in answers]
        assert len(refused) == 66 - len(accepted)
        assert all(r.status_code == 400 and "You already have" in r.json()["detail"] and "style optimisation"
                   in r.json()["detail"] for r in refused), refused[0].text

        # a forged X-Forwarded-For does not make the attacker someone else (no --trust-forwarded)
        forged = attacker.http.post(f"{url}gradio_api/queue/join", headers={"X-Forwarded-For": "10.9.9.9"},
                                    json={"data": gatys_data(photo), "fn_index": gatys, "session_hash": new_session(),
                                          "event_data": None, "trigger_id": None})
        assert forged.status_code == 400

        # meanwhile an honest visitor's five Semantic calls are all answered
        semantic = honest.fn_index("segment_semantic")
        mine = honest.upload()
        session = new_session()
        for _ in range(5):
            done = honest.call(semantic, semantic_data(mine), session, timeout=240)
            assert done["success"], done
            assert done["output"]["data"][1]["path"].endswith(".webp")  # the overlay
    finally:
        attacker.close()
        honest.close()
    assert proc.poll() is None


def test_light_jobs_are_capped_per_address_and_per_session(app):
    url, _ = app
    attacker = Visitor(url, ATTACKER)
    try:
        photo = attacker.upload()
        semantic = attacker.fn_index("segment_semantic")
        one = new_session()
        with cf.ThreadPoolExecutor(8) as pool:
            same = list(pool.map(lambda _: attacker.join(semantic, semantic_data(photo), one), range(12)))
        assert sum(r.status_code == 200 for r in same) <= 8
        assert any("You already have" in r.text for r in same if r.status_code != 200)
        with cf.ThreadPoolExecutor(8) as pool:
            many = list(pool.map(lambda _: attacker.join(semantic, semantic_data(photo), new_session()), range(40)))
        assert sum(r.status_code == 200 for r in many) <= 24
    finally:
        attacker.close()
