"""The Instance tab's API endpoint on the real app: two clients at once get their own right answers
(the shared LiteRT interpreters are locked, per-user results live in gr.State)."""
from __future__ import annotations

import threading

import pytest


@pytest.mark.slow
def test_segment_instance_endpoint_two_clients_at_once(app_server, photos):
    from gradio_client import Client, handle_file

    url, _proc = app_server
    jobs = {"two_people.jpg": 2, "astronaut.png": 1, "chelsea.png": 0}
    results: dict[str, object] = {}

    def call(name):
        client = Client(url, verbose=False)
        try:
            results[name] = client.predict(handle_file(str(photos / name)), "auto", "native", 0.5, 0.5, 0.5,
                                           True, True, True, 800, api_name="/segment_instance")
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[name] = exc

    threads = [threading.Thread(target=call, args=(n,)) for n in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    for name, people in jobs.items():
        out = results[name]
        assert not isinstance(out, Exception), f"{name}: {out!r}"
        overlay, _legend, table, summary = out[:4]
        rows = table["data"]
        assert len(rows) == people and all(r[1] == "person" for r in rows), (name, rows)
        assert f"{people} instance(s)" in summary
        assert overlay
