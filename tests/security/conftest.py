"""The real app on loopback, an attacker client on 127.0.0.2 and an honest visitor on 127.0.0.1.

``call(http, api_name, data)`` posts raw JSON to Gradio's simple ``/call/`` route (what any script
can send, with no client library to tidy it) and returns ``(ok, value_or_message)``.
"""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from tests.api_calls import PHOTOS, client, segment_semantic

ATTACKER = "127.0.0.2"
HONEST = "127.0.0.1"


@pytest.fixture(scope="session")
def sec_app(tmp_path_factory):
    """(base URL, process) of the real app for the security tests, started once."""
    from tests.app_server import running_app

    with running_app(tmp_path_factory.mktemp("sec_app") / "app.log") as server:
        yield server


def http_from(address: str, base_url: str) -> httpx.Client:
    """An HTTP client whose connections come from ``address`` (another loopback address = another host)."""
    return httpx.Client(base_url=base_url, transport=httpx.HTTPTransport(local_address=address), timeout=120)


@pytest.fixture
def attacker(sec_app):
    with http_from(ATTACKER, sec_app[0]) as http:
        yield http


def call(http: httpx.Client, api_name: str, data: list, session: str | None = None) -> tuple[bool, object]:
    """POST ``data`` to /gradio_api/call/<api_name> (in session ``session``: its gr.State carries over
    between calls), read the event stream: (True, outputs) or (False, the error message the visitor sees)."""
    body = {"data": data} if session is None else {"data": data, "session_hash": session}
    r = http.post(f"gradio_api/call/{api_name}", json=body)
    if r.status_code != 200:
        return False, f"HTTP {r.status_code}: {r.text[:300]}"
    event_id = r.json()["event_id"]
    event, payload = None, None
    with http.stream("GET", f"gradio_api/call/{api_name}/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                payload = line.split(":", 1)[1].strip()
                break
    value = json.loads(payload) if payload not in (None, "", "null") else None
    if event == "error" and isinstance(value, dict):
        value = value.get("error")
    return event == "complete", value


def honest_semantic(url: str) -> list:
    """An honest visitor's Semantic call from 127.0.0.1 through the Gradio client: its outputs."""
    return segment_semantic(client(url), PHOTOS / "two_people.jpg")


def rss_mb(proc) -> float:
    """Resident memory of the app process and its children, MB."""
    p = psutil.Process(proc.pid)
    return (p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))) / 2**20


def photo_path(name: str = "two_people.jpg") -> Path:
    return PHOTOS / name


def upload(http: httpx.Client, path: Path) -> dict:
    """Send one file through Gradio's upload route, as a page does: the FileData payload naming it."""
    with open(path, "rb") as f:
        r = http.post("gradio_api/upload", files={"files": (path.name, f)})
    r.raise_for_status()
    return {"path": r.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


class PeakRss:
    """Samples the app's resident memory every 20 ms while in the ``with`` block; ``growth_mb`` is the
    peak over the value at entry."""

    def __init__(self, proc):
        self.proc, self.peak, self.start = proc, 0.0, 0.0

    def __enter__(self):
        import threading

        self.start = self.peak = rss_mb(self.proc)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.02):
            try:
                self.peak = max(self.peak, rss_mb(self.proc))
            except psutil.Error:
                return

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb(self.proc))

    @property
    def growth_mb(self) -> float:
        return self.peak - self.start


class OpenPage:
    """A page's heartbeat connection for ``session``, held open on a raw socket from the attacker's
    address (what an open browser tab keeps); ``close()`` is the page closing (the server notices
    within its 10 s check)."""

    def __init__(self, url: str, session: str) -> None:
        u = urlsplit(url)
        self.sock = socket.create_connection((u.hostname, u.port), source_address=(ATTACKER, 0))
        path = u.path.rstrip("/") + f"/gradio_api/heartbeat/{session}"
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nAccept: text/event-stream\r\n\r\n".encode())
        time.sleep(1)

    def close(self) -> None:
        self.sock.close()


def still_there(paths: list[Path], timeout: float) -> list[Path]:
    """The paths that still exist after waiting up to ``timeout`` seconds for all to go."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and any(p.exists() for p in paths):
        time.sleep(0.5)
    return [p for p in paths if p.exists()]
