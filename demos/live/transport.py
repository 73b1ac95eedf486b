"""The live views' WebSocket: binary JPEG frames both ways, two in flight, the newest frame wins.

One socket per live view: the page opens ``/cvlab/live/<view>``, sends its token as the first (text)
message, then ``uint32 seq + JPEG`` frames; each answer is ``frames.pack(seq, meta, JPEG)``. The
token (made by the page, registered through a Gradio event with the view's settings) never appears
in a URL, so no access log or proxy keeps it. The server keeps only the newest waiting frame and
takes it only once a worker is free, so a slow or busy server drops frames instead of building a
queue; the dropped frames' numbers go back in ``meta["dropped"]``.

Limits (each answered with a close code and a reason the page shows): the token must arrive within
``REGISTER_WAIT_S`` and be registered (4403); one socket per token, and the registry's per-address and
global socket caps (4429); no frame for ``IDLE_S`` seconds ends the stream, as does the view's time
limit; a message over ``WS_MAX_BYTES`` closes the socket (uvicorn, code 1009); a frame that is not a
small enough JPEG is skipped with a reason (frames.decode_frame).
"""
from __future__ import annotations

import asyncio
import logging
import struct
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from fastapi import WebSocket, WebSocketDisconnect

from demos.live.frames import FrameRefused, decode_frame, encode_jpeg, pack
from demos.live.registry import LiveRegistry
from demos.visitors import address_of

log = logging.getLogger("cvlab.live")

ROUTE = "/cvlab/live/{view}"
WS_MAX_BYTES = 1 << 20
"""Largest WebSocket message the server reads (1 MiB); a bigger one closes that socket."""
WORKERS = 2
"""Frames processed at once over all live sockets (like a Gradio concurrency_limit of 2): two beat one
even on one core, as the event loop's work overlaps a frame's model calls (docs/decisions.md)."""
REGISTER_WAIT_S = 15.0
IDLE_S = 30.0
"""A socket that sends no frame for this long (seconds) is closed: a page left open in the background
must not hold one of the server's live slots."""

_POOL = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="cvlab-live")
_FREE: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = weakref.WeakKeyDictionary()


@dataclass
class LiveSpec:
    """One live view: its callback ``fn(frame, *settings, state) -> (image, status, state)``, its time
    limit (seconds), and ``prepare(settings) -> settings`` run once per registration or settings
    change (not per frame), e.g. to parse a face gallery."""
    name: str
    fn: Callable[..., tuple[Any, str, Any]]
    time_limit: float
    prepare: Callable[[list], list] | None = None


VIEWS: dict[str, LiveSpec] = {}
"""The live views the socket serves, by name (live_view adds each; tests add their own)."""
REGISTRY = LiveRegistry()
"""Registrations and open sockets of every live view."""


def add_view(spec: LiveSpec) -> None:
    VIEWS[spec.name] = spec


def remove_view(name: str) -> None:
    VIEWS.pop(name, None)


def streams_open() -> int:
    """Live webcam sockets streaming right now, over all views and visitors."""
    return REGISTRY.streaming()


def register(view: str, token, values: list, address: str) -> str | None:
    """Record pressed: the view's settings under ``token`` (prepared once); None, or why refused."""
    spec = VIEWS.get(view)
    if spec is not None and spec.prepare is not None:
        values = spec.prepare(list(values))
    return REGISTRY.register(token, values, address)


def update(view: str, token, values: list) -> None:
    """A setting changed in the visitor's session: the socket's next frame uses it."""
    spec = VIEWS.get(view)
    if spec is not None and spec.prepare is not None and REGISTRY.registered(token):
        values = spec.prepare(list(values))
    REGISTRY.update(token, values)


def _worker_free() -> asyncio.Semaphore:
    """A socket holds this while its frame is in a worker. It waits for a free worker *before* taking
    its newest frame, so a busy server drops the stale frames instead of working on them. Waiters are
    served first come, first served. One semaphore per event loop (tests run several)."""
    loop = asyncio.get_running_loop()
    if loop not in _FREE:
        _FREE[loop] = asyncio.Semaphore(WORKERS)
    return _FREE[loop]


def process_frame(spec: LiveSpec, data: bytes, values: list, state: Any) -> tuple[bytes | None, str, Any, float]:
    """One frame through the view's callback: (JPEG or None, status text, new state, server ms)."""
    t = time.perf_counter()
    try:
        frame = decode_frame(data)
    except FrameRefused as exc:
        return None, f"frame skipped: {exc}", state, 0.0
    image, text, state = spec.fn(frame, *values, state)
    payload = encode_jpeg(image) if hasattr(image, "shape") else None  # gr.skip() / None: keep the last one
    text = text if isinstance(text, str) else ""
    return payload, text, state, (time.perf_counter() - t) * 1000


async def _token_of(websocket: WebSocket) -> str | None:
    """The token: the socket's first message (text), once registered; None after REGISTER_WAIT_S."""
    deadline = time.monotonic() + REGISTER_WAIT_S
    try:
        token = await asyncio.wait_for(websocket.receive_text(), REGISTER_WAIT_S)
    except (asyncio.TimeoutError, WebSocketDisconnect, KeyError, RuntimeError):
        return None
    while not REGISTRY.registered(token) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)  # the page registers through Gradio while its socket opens
    return token if REGISTRY.registered(token) else None


async def _reader(websocket: WebSocket, latest: list, dropped: list, ready: asyncio.Event,
                  closed: asyncio.Event, idle: list) -> None:
    """Keep only the newest frame in ``latest[0]``; note the numbers of the ones it replaced; set
    ``closed`` when the socket ends, with ``idle[0] = True`` when no frame came for IDLE_S."""
    try:
        while True:
            msg = await asyncio.wait_for(websocket.receive_bytes(), IDLE_S)
            if len(msg) < 4:
                continue
            if latest[0] is not None:
                dropped.append(struct.unpack("<I", latest[0][:4])[0])
            latest[0] = msg
            ready.set()
    except asyncio.TimeoutError:
        idle[0] = True
    except (WebSocketDisconnect, RuntimeError, KeyError):
        pass
    finally:
        closed.set()
        ready.set()


async def _stream(websocket: WebSocket, spec: LiveSpec, token: str) -> None:
    """Answer frames until the socket closes, idles, or the view's time limit passes."""
    latest: list[bytes | None] = [None]
    dropped: list[int] = []
    ready, closed, idle = asyncio.Event(), asyncio.Event(), [False]
    task = asyncio.create_task(_reader(websocket, latest, dropped, ready, closed, idle))
    loop = asyncio.get_running_loop()
    state, started = None, time.monotonic()
    try:
        while not closed.is_set():
            await ready.wait()
            ready.clear()
            if latest[0] is None:
                continue
            if time.monotonic() - started > spec.time_limit:
                await websocket.send_bytes(pack(0, {"end": f"time limit of {spec.time_limit:.0f} s reached: "
                                                           "press Record again"}, None))
                return
            async with _worker_free():
                msg, latest[0] = latest[0], None  # the newest frame that arrived while this socket waited
                seq = struct.unpack("<I", msg[:4])[0]
                values = REGISTRY.values(token) or []
                try:
                    jpeg, text, state, ms = await loop.run_in_executor(_POOL, process_frame, spec, msg[4:], values,
                                                                       state)
                except Exception as exc:  # noqa: BLE001 - a bad frame must not end the stream
                    log.exception("live frame failed")
                    jpeg, text, ms = None, f"frame skipped ({type(exc).__name__})", 0.0
            meta = {"text": text, "ms": round(ms, 1)}
            if dropped:
                meta["dropped"], dropped[:] = list(dropped), []
            await websocket.send_bytes(pack(seq, meta, jpeg))
        if idle[0]:
            await websocket.send_bytes(pack(0, {"end": f"no frame for {IDLE_S:.0f} s: press Record again"}, None))
    finally:
        task.cancel()


async def _socket(websocket: WebSocket, view: str) -> None:
    await websocket.accept()
    spec = VIEWS.get(view)
    if spec is None:
        await websocket.close(code=4404, reason="unknown live view")
        return
    token = await _token_of(websocket)
    if token is None:
        await websocket.close(code=4403, reason="not registered")
        return
    refused = REGISTRY.claim(token, address_of(websocket))
    if refused:
        await websocket.close(code=4429, reason=refused)
        return
    try:
        await _stream(websocket, spec, token)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        REGISTRY.release(token)
        try:
            await websocket.close()
        except Exception:  # noqa: BLE001 - already closed
            pass


def install_routes(app, server=None) -> None:
    """Add the live WebSocket route to the app Gradio serves (a FastAPI app), after launch.

    ``server``: Gradio's uvicorn server (``demo.server``), whose settings for the connections opened
    from now on get: no per-message compression (the frames are JPEGs already, and deflating them
    both ways cost CPU in the app and in the browser for nothing), and WS_MAX_BYTES as the largest
    message (uvicorn's default is 16 MiB)."""
    config = getattr(server, "config", None)
    if config is not None and hasattr(config, "ws_per_message_deflate"):
        config.ws_per_message_deflate = False
        config.ws_max_size = WS_MAX_BYTES
    if any(getattr(r, "path", None) == ROUTE for r in app.router.routes):
        return
    app.add_api_websocket_route(ROUTE, _socket)
    app.router.routes.insert(0, app.router.routes.pop())
