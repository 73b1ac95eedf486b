"""The live-webcam WebSocket (demos/live.py) end to end in-process: registration by token, binary JPEG
frames through a view's callback, newest frame wins, bad frames and unknown tokens answered, no crash."""
from __future__ import annotations

import json
import struct

import cv2
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from demos import live


def _jpeg(rgb: np.ndarray) -> bytes:
    return live.encode_jpeg(rgb)


def _frame_msg(seq: int, rgb: np.ndarray) -> bytes:
    return struct.pack("<I", seq) + _jpeg(rgb)


def _unpack(msg: bytes):
    seq, n = struct.unpack("<II", msg[:8])
    return seq, json.loads(msg[8:8 + n]), msg[8 + n:]


@pytest.fixture
def client():
    calls = []

    def invert(frame, level, state):
        """A stand-in view: inverts the frame, counts frames in its state, echoes a setting."""
        state = (state or 0) + 1
        calls.append(frame.shape)
        return 255 - frame, f"level {level} · frame {state} · {frame.shape[1]}x{frame.shape[0]}", state

    live._VIEWS["test"] = live.LiveSpec("test", invert, time_limit=60)
    app = FastAPI()
    live.install_routes(app)
    live.install_routes(app)  # idempotent
    assert sum(getattr(r, "path", None) == live.ROUTE for r in app.router.routes) == 1
    with TestClient(app) as c:
        c.calls = calls
        yield c
    live._VIEWS.pop("test", None)


def test_frames_go_through_the_callback_with_the_registered_settings(client):
    token = "a" * 32
    live._register(token, [3])
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[:, :32] = (200, 30, 30)
    with client.websocket_connect(f"/cvlab/live/test/{token}") as ws:
        ws.send_bytes(_frame_msg(7, rgb))
        seq, meta, jpeg = _unpack(ws.receive_bytes())
        assert seq == 7 and meta["text"] == "level 3 · frame 1 · 64x48" and meta["ms"] >= 0
        back = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
        assert back.shape == rgb.shape
        assert abs(int(back[10, 5, 0]) - 55) < 12 and abs(int(back[10, 50, 0]) - 255) < 12  # inverted, RGB kept
        live._update(token, [5])  # a control changed in the visitor's session
        ws.send_bytes(_frame_msg(8, rgb))
        seq, meta, _ = _unpack(ws.receive_bytes())
        assert seq == 8 and meta["text"].startswith("level 5 · frame 2")
        ws.send_bytes(struct.pack("<I", 9) + b"not a jpeg")
        seq, meta, jpeg = _unpack(ws.receive_bytes())
        assert seq == 9 and "not a JPEG" in meta["text"] and jpeg == b""
    assert token not in live._SESSIONS  # forgotten when the socket closes


def test_newest_frame_wins_and_the_dropped_ones_are_reported(client):
    token = "b" * 32
    live._register(token, [1])
    rgb = np.full((32, 32, 3), 90, np.uint8)
    with client.websocket_connect(f"/cvlab/live/test/{token}") as ws:
        for seq in range(1, 6):
            ws.send_bytes(_frame_msg(seq, rgb))
        answered, dropped = [], []
        while len(answered) + len(dropped) < 5:
            seq, meta, _ = _unpack(ws.receive_bytes())
            answered.append(seq)
            dropped += meta.get("dropped", [])
        assert sorted(answered + dropped) == [1, 2, 3, 4, 5] and answered[-1] == 5
        assert answered == sorted(answered)


def test_unknown_view_or_token_is_refused(client, monkeypatch):
    from starlette.websockets import WebSocketDisconnect

    monkeypatch.setattr(live, "REGISTER_WAIT_S", 0.2)
    with client.websocket_connect(f"/cvlab/live/test/{'c' * 32}") as ws:
        with pytest.raises(WebSocketDisconnect) as err:
            ws.receive_bytes()
        assert err.value.code == 4403
    with client.websocket_connect(f"/cvlab/live/nope/{'d' * 32}") as ws:
        with pytest.raises(WebSocketDisconnect) as err:
            ws.receive_bytes()
        assert err.value.code == 4404


def test_registration_ignores_bad_tokens():
    live._register(None, [1])
    live._register("short", [1])
    assert None not in live._SESSIONS and "short" not in live._SESSIONS


def test_a_socket_counts_as_open_while_it_streams(client):
    token = "e" * 32
    live._register(token, [1])
    before = live._OPEN[0]
    with client.websocket_connect(f"/cvlab/live/test/{token}") as ws:
        ws.send_bytes(_frame_msg(1, np.zeros((16, 16, 3), np.uint8)))
        ws.receive_bytes()
        assert live._OPEN[0] == before + 1


def test_run_politely_yields_everything_in_a_lower_priority_thread_and_passes_errors():
    import os
    import threading

    from demos.live import run_politely

    seen = []

    def job():
        seen.append((threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        yield from range(5)

    assert list(run_politely(job)) == [0, 1, 2, 3, 4]
    (tid, nice), = seen
    assert tid != threading.get_native_id()
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < nice  # this thread untouched

    def broken():
        yield 1
        raise ValueError("no style image")

    gen = run_politely(broken)
    assert next(gen) == 1
    with pytest.raises(ValueError, match="no style image"):
        next(gen)


def test_closing_run_politely_stops_the_job():
    import threading
    import time

    from demos.live import run_politely

    produced = []

    def endless():
        for i in range(10_000):
            produced.append(i)
            yield i

    gen = run_politely(endless)
    assert next(gen) == 0
    gen.close()
    time.sleep(0.5)
    n = len(produced)
    time.sleep(0.3)
    assert len(produced) == n <= 3  # stopped at its next item, not run to the end
    assert not any(t.name == "cvlab-background" and t.is_alive() for t in threading.enumerate())


def test_a_socket_waiting_for_a_busy_worker_takes_its_newest_frame_not_its_first(client):
    """Frames that arrive while every worker is busy are dropped: only the newest is worked on when a
    worker frees (taking the first one, as the pool's own queue did, showed stale frames)."""
    import threading
    import time

    gate = threading.Event()

    def held(frame, state):
        gate.wait(10)
        return frame, "held", state

    live._VIEWS["held"] = live.LiveSpec("held", held, time_limit=60)
    rgb = np.full((16, 16, 3), 50, np.uint8)
    tokens = [f"{i}" * 32 for i in range(live.WORKERS + 1)]
    for t in tokens:
        live._register(t, [])
    live._register(tokens[-1], [1])
    busy = [client.websocket_connect(f"/cvlab/live/held/{t}") for t in tokens[:-1]]
    try:
        for ws in busy:
            ws.__enter__()
            ws.send_bytes(_frame_msg(1, rgb))
        time.sleep(0.5)  # every worker now holds a frame
        with client.websocket_connect(f"/cvlab/live/test/{tokens[-1]}") as ws:
            for seq in range(1, 6):
                ws.send_bytes(_frame_msg(seq, rgb))
            time.sleep(0.5)
            gate.set()
            answered, dropped = [], []
            while len(answered) + len(dropped) < 5:
                seq, meta, _ = _unpack(ws.receive_bytes())
                answered.append(seq)
                dropped += meta.get("dropped", [])
            assert answered == [5] and dropped == [1, 2, 3, 4]
        for ws in busy:
            assert _unpack(ws.receive_bytes())[1]["text"] == "held"
    finally:
        gate.set()
        for ws in busy:
            ws.__exit__(None, None, None)
        live._VIEWS.pop("held", None)
