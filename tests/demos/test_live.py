"""The live-webcam WebSocket (demos/live/) end to end in-process: the token as the first message,
binary JPEG frames through a view's callback, newest frame wins, bad frames and unknown tokens
answered, one socket per token, idle sockets closed, no crash. Through public functions only."""
from __future__ import annotations

import struct
import threading
import time

import cv2
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from demos import live
from demos.live import transport
from demos.live.frames import encode_jpeg, unpack

ADDRESS = "testclient"  # Starlette's TestClient peer address


def _frame_msg(seq: int, rgb: np.ndarray) -> bytes:
    return struct.pack("<I", seq) + encode_jpeg(rgb)


@pytest.fixture
def client():
    calls = []

    def invert(frame, level, state):
        """A stand-in view: inverts the frame, counts frames in its state, echoes a setting."""
        state = (state or 0) + 1
        calls.append(frame.shape)
        return 255 - frame, f"level {level} · frame {state} · {frame.shape[1]}x{frame.shape[0]}", state

    live.add_view(live.LiveSpec("test", invert, time_limit=60))
    app = FastAPI()
    live.install_routes(app)
    live.install_routes(app)  # idempotent
    assert sum(getattr(r, "path", None) == live.ROUTE for r in app.router.routes) == 1
    with TestClient(app) as c:
        c.calls = calls
        yield c
    live.remove_view("test")


def _open(client, view: str, token: str):
    ws = client.websocket_connect(f"/cvlab/live/{view}")
    ws.__enter__()
    ws.send_text(token)
    return ws


def test_frames_go_through_the_callback_with_the_registered_settings(client):
    token = "a" * 32
    assert live.register("test", token, [3], ADDRESS) is None
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[:, :32] = (200, 30, 30)
    ws = _open(client, "test", token)
    try:
        ws.send_bytes(_frame_msg(7, rgb))
        seq, meta, jpeg = unpack(ws.receive_bytes())
        assert seq == 7 and meta["text"] == "level 3 · frame 1 · 64x48" and meta["ms"] >= 0
        back = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
        assert back.shape == rgb.shape
        assert abs(int(back[10, 5, 0]) - 55) < 12 and abs(int(back[10, 50, 0]) - 255) < 12  # inverted, RGB kept
        live.update("test", token, [5])  # a control changed in the visitor's session
        ws.send_bytes(_frame_msg(8, rgb))
        seq, meta, _ = unpack(ws.receive_bytes())
        assert seq == 8 and meta["text"].startswith("level 5 · frame 2")
        ws.send_bytes(struct.pack("<I", 9) + b"not a jpeg")
        seq, meta, jpeg = unpack(ws.receive_bytes())
        assert seq == 9 and "not a JPEG" in meta["text"] and jpeg == b""
    finally:
        ws.__exit__(None, None, None)
    time.sleep(0.2)
    assert not live.REGISTRY.registered(token)  # forgotten when the socket closes


def test_prepare_runs_once_per_registration_not_per_frame(client):
    prepared = []

    def prepare(values):
        prepared.append(values)
        return [f"parsed {values[0]}"]

    live.add_view(live.LiveSpec("prep", lambda frame, level, state: (frame, level, state), 60, prepare))
    try:
        token = "p" * 32
        live.register("prep", token, ["gallery"], ADDRESS)
        ws = _open(client, "prep", token)
        try:
            for seq in range(1, 4):
                ws.send_bytes(_frame_msg(seq, np.zeros((16, 16, 3), np.uint8)))
                assert unpack(ws.receive_bytes())[1]["text"] == "parsed gallery"
        finally:
            ws.__exit__(None, None, None)
        assert prepared == [["gallery"]]
    finally:
        live.remove_view("prep")


def test_newest_frame_wins_and_the_dropped_ones_are_reported(client):
    token = "b" * 32
    live.register("test", token, [1], ADDRESS)
    rgb = np.full((32, 32, 3), 90, np.uint8)
    ws = _open(client, "test", token)
    try:
        for seq in range(1, 6):
            ws.send_bytes(_frame_msg(seq, rgb))
        answered, dropped = [], []
        while len(answered) + len(dropped) < 5:
            seq, meta, _ = unpack(ws.receive_bytes())
            answered.append(seq)
            dropped += meta.get("dropped", [])
        assert sorted(answered + dropped) == [1, 2, 3, 4, 5] and answered[-1] == 5
        assert answered == sorted(answered)
    finally:
        ws.__exit__(None, None, None)


def test_unknown_view_or_token_is_refused(client, monkeypatch):
    monkeypatch.setattr(transport, "REGISTER_WAIT_S", 0.2)
    ws = _open(client, "test", "c" * 32)
    try:
        with pytest.raises(WebSocketDisconnect) as err:
            ws.receive_bytes()
        assert err.value.code == 4403
    finally:
        ws.__exit__(None, None, None)
    with client.websocket_connect("/cvlab/live/nope") as ws:
        with pytest.raises(WebSocketDisconnect) as err:
            ws.receive_bytes()
        assert err.value.code == 4404


def test_the_token_in_the_url_path_is_not_a_route(client):
    token = "u" * 32
    live.register("test", token, [1], ADDRESS)
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(f"/cvlab/live/test/{token}") as ws:
            ws.receive_bytes()


def test_registration_ignores_bad_tokens():
    assert live.register("test", None, [1], ADDRESS) is not None
    assert live.register("test", "short", [1], ADDRESS) is not None
    assert live.register("test", "x" * 31 + "/", [1], ADDRESS) is not None
    assert not live.REGISTRY.registered(None) and not live.REGISTRY.registered("short")


def test_one_socket_per_token(client):
    token = "o" * 32
    live.register("test", token, [1], ADDRESS)
    first = _open(client, "test", token)
    try:
        first.send_bytes(_frame_msg(1, np.zeros((16, 16, 3), np.uint8)))
        first.receive_bytes()
        second = _open(client, "test", token)
        try:
            with pytest.raises(WebSocketDisconnect) as err:
                second.receive_bytes()
            assert err.value.code == 4429 and "another connection" in err.value.reason
        finally:
            second.__exit__(None, None, None)
        first.send_bytes(_frame_msg(2, np.zeros((16, 16, 3), np.uint8)))
        assert unpack(first.receive_bytes())[0] == 2  # the first one still streams
    finally:
        first.__exit__(None, None, None)


def test_an_idle_socket_is_closed_with_a_reason(client, monkeypatch):
    monkeypatch.setattr(transport, "IDLE_S", 0.3)
    token = "i" * 32
    live.register("test", token, [1], ADDRESS)
    ws = _open(client, "test", token)
    try:
        seq, meta, _ = unpack(ws.receive_bytes())
        assert seq == 0 and "no frame for" in meta["end"]
    finally:
        ws.__exit__(None, None, None)
    time.sleep(0.1)
    assert not live.REGISTRY.registered(token)


def test_a_socket_counts_as_open_while_it_streams(client):
    token = "e" * 32
    live.register("test", token, [1], ADDRESS)
    before = live.streams_open()
    ws = _open(client, "test", token)
    try:
        ws.send_bytes(_frame_msg(1, np.zeros((16, 16, 3), np.uint8)))
        ws.receive_bytes()
        assert live.streams_open() == before + 1
    finally:
        ws.__exit__(None, None, None)


def test_a_socket_waiting_for_a_busy_worker_takes_its_newest_frame_not_its_first(client):
    """Frames that arrive while every worker is busy are dropped: only the newest is worked on when a
    worker frees (taking the first one, as a pool's own queue would, shows stale frames)."""
    gate = threading.Event()

    def held(frame, state):
        gate.wait(10)
        return frame, "held", state

    live.add_view(live.LiveSpec("held", held, time_limit=60))
    rgb = np.full((16, 16, 3), 50, np.uint8)
    tokens = [f"{i}" * 32 for i in range(transport.WORKERS + 1)]
    for t in tokens[:-1]:
        live.register("held", t, [], f"10.0.0.{t[0]}")
    live.register("test", tokens[-1], [1], ADDRESS)
    busy = [_open(client, "held", t) for t in tokens[:-1]]
    try:
        for ws in busy:
            ws.send_bytes(_frame_msg(1, rgb))
        time.sleep(0.5)  # every worker now holds a frame
        ws = _open(client, "test", tokens[-1])
        try:
            for seq in range(1, 6):
                ws.send_bytes(_frame_msg(seq, rgb))
            time.sleep(0.5)
            gate.set()
            answered, dropped = [], []
            while len(answered) + len(dropped) < 5:
                seq, meta, _ = unpack(ws.receive_bytes())
                answered.append(seq)
                dropped += meta.get("dropped", [])
            assert answered == [5] and dropped == [1, 2, 3, 4]
        finally:
            ws.__exit__(None, None, None)
        for ws in busy:
            assert unpack(ws.receive_bytes())[1]["text"] == "held"
    finally:
        gate.set()
        for ws in busy:
            ws.__exit__(None, None, None)
        live.remove_view("held")
