"""The live webcam socket shared by strangers (issues 21.2, 21.5, 21.7): a registration flood does
not break another visitor's stream, one socket per token, per-address and global socket caps, JPEG
frames only with byte and pixel caps, messages over about 1 MB refused, the token never in the URL."""
from __future__ import annotations

import io
import secrets
import struct

import numpy as np
import pytest
from PIL import Image
from websockets.exceptions import ConnectionClosed, InvalidStatus

from demos.live.frames import encode_jpeg, unpack
from tests.app_server import running_app
from tests.security.visitor_client import PHOTO, Visitor, frame_message, live_register, live_socket

pytestmark = pytest.mark.slow

VIEW = "semantic"
HONEST, ATTACKER = "127.0.0.1", "127.0.0.2"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("live") / "app.log") as server:
        yield server


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    return encode_jpeg(np.asarray(Image.open(PHOTO).convert("RGB").resize((480, 360))))


def _token() -> str:
    return secrets.token_hex(16)


def _stream(url, address=HONEST):
    visitor = Visitor(url, address)
    token = _token()
    assert live_register(visitor, VIEW, token).status_code == 200
    return visitor, token, live_socket(url, VIEW, token, address)


def _answer(ws, seq, data) -> dict:
    ws.send(frame_message(seq, data))
    got, meta, _ = unpack(ws.recv(timeout=120))
    assert got == seq, meta
    return meta


def _closed(ws) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as err:
        ws.recv(timeout=30)
    return err.value.rcvd.code, err.value.rcvd.reason


def test_a_registration_flood_does_not_break_another_visitors_stream(app, jpeg):
    url, proc = app
    honest, token, ws = _stream(url)
    attacker = Visitor(url, ATTACKER)
    try:
        assert "frame skipped" not in _answer(ws, 1, jpeg)["text"]
        flood = [_token() for _ in range(600)]
        for k, t in enumerate(flood):
            live_register(attacker, VIEW, t)
            if k % 50 == 49:  # the honest stream goes on meanwhile, with its own settings
                meta = _answer(ws, 2 + k // 50, jpeg)
                assert meta["text"] and "frame skipped" not in meta["text"] and "⚠️" not in meta["text"]
        late = live_socket(url, VIEW, flood[0], ATTACKER)  # the flooder's own oldest were pushed out
        assert _closed(late)[0] == 4403
        fresh = live_socket(url, VIEW, flood[-1], ATTACKER)  # its newest still work
        assert "frame skipped" not in _answer(fresh, 1, jpeg)["text"]
        fresh.close()
    finally:
        ws.close()
        honest.close()
        attacker.close()
    assert proc.poll() is None


def test_one_socket_per_token_and_a_cap_on_one_addresses_sockets(app, jpeg):
    url, _ = app
    honest, token, ws = _stream(url)
    attacker = Visitor(url, ATTACKER)
    opened = []
    try:
        _answer(ws, 1, jpeg)
        second = live_socket(url, VIEW, token, ATTACKER)  # a stolen or replayed token
        code, reason = _closed(second)
        assert code == 4429 and "another connection" in reason
        for _ in range(6):
            t = _token()
            live_register(attacker, VIEW, t)
            opened.append(live_socket(url, VIEW, t, ATTACKER))
        codes = []
        for k, sock in enumerate(opened):
            try:
                _answer(sock, k + 1, jpeg)
                codes.append("ok")
            except ConnectionClosed as exc:
                codes.append(exc.rcvd.code)
        assert codes.count("ok") == 4 and codes.count(4429) == 2, codes
        assert "frame skipped" not in _answer(ws, 2, jpeg)["text"]  # the honest stream is untouched
    finally:
        for sock in opened:
            sock.close()
        ws.close()
        honest.close()
        attacker.close()


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


def _forged_huge_jpeg(jpeg: bytes) -> bytes:
    data = bytearray(jpeg)
    i = next(k for k in range(2, len(data) - 1) if data[k] == 0xFF and data[k + 1] in (0xC0, 0xC2))
    data[i + 5:i + 9] = struct.pack(">HH", 10000, 10000)
    return bytes(data)


def test_only_small_jpeg_frames_are_decoded(app, jpeg):
    url, proc = app
    honest, _, ws = _stream(url)
    try:
        assert "JPEG only" in _answer(ws, 1, _png())["text"]
        assert "MP limit" in _answer(ws, 2, _forged_huge_jpeg(jpeg))["text"]
        assert "frame skipped" not in _answer(ws, 3, jpeg)["text"]  # the stream goes on
        ws.send(frame_message(4, b"\xff\xd8\xff" + bytes(2_000_000)))  # over the socket's 1 MiB
        assert _closed(ws)[0] == 1009
    finally:
        ws.close()
        honest.close()
    again, _, ws2 = _stream(url)  # the server still serves others
    try:
        assert "frame skipped" not in _answer(ws2, 1, jpeg)["text"]
    finally:
        ws2.close()
        again.close()
    assert proc.poll() is None


def test_the_token_is_not_taken_from_the_url_path(app):
    url, _ = app
    visitor = Visitor(url)
    token = _token()
    try:
        live_register(visitor, VIEW, token)
        from websockets.sync.client import connect

        with pytest.raises((InvalidStatus, ConnectionClosed)):
            with connect(url.replace("http://", "ws://") + f"cvlab/live/{VIEW}/{token}", proxy=None,
                         open_timeout=30) as ws:
                ws.send(frame_message(1, b"\xff\xd8\xff"))
                ws.recv(timeout=10)
    finally:
        visitor.close()
