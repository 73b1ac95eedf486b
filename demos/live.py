"""Live webcam views over a WebSocket, with Gradio's own webcam stream kept as the fallback.

Why not Gradio's stream: with ``gr.Image(streaming=True)`` every frame is a base64 JPEG inside a JSON
POST, goes through the queue, is written to Gradio's file cache as a new file and fetched back by the
browser with a second HTTP request; the browser only sends the next frame at its next ``stream_every``
tick after the previous answer arrived, and an output image still loading is cancelled by the next one
(in the page about half the frames that arrived were never shown). Measured in Chromium
(bench/bench_live_browser.py), that showed 11-12 frames a second where the server managed 25-40.

Here one WebSocket per live view carries binary JPEG frames both ways, with two frames in flight (the
browser captures the next frame while the server works on the current one; the server keeps only the
newest waiting frame, and takes it only once a worker is free, so a slow or busy server drops frames
instead of building a queue). The page measures what the visitor sees: frames shown per second and
the delay from capture to display.

Settings (the tab's controls, the visitor's face gallery) stay in the visitor's Gradio session: pressing
Record fires a Gradio event with the view's inputs, which registers them under a random token that only
this page knows; every later change of those inputs updates the registration; the WebSocket presents the
token, and the registration is dropped when the socket closes (nothing is shared between visitors).
Each frame then runs the same callback as the Gradio stream:
``fn(frame, *settings, state) -> (image, status markdown, state)``.

When the WebSocket cannot be opened (a proxy that blocks WebSockets), the page says so and opens the
Gradio stream below the fast view, which works as before. WebSockets need no TURN server (unlike WebRTC):
they travel over the same HTTPS connection as the page, on a Hugging Face Space too.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import struct
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import cv2
import gradio as gr
import numpy as np
from fastapi import WebSocket, WebSocketDisconnect

from demos.common import webcam_stream

log = logging.getLogger("cvlab.live")

ROUTE = "/cvlab/live/{view}/{token}"
JPEG_QUALITY = 80
WORKERS = 2
"""Frames processed at once over all live sockets (like a Gradio concurrency_limit of 2). Even on one
core two beat one: with three visitors streaming, the measured view showed 14.3-14.9 fps against
12.6-14.5 with one worker (the event loop's work overlaps a frame's model calls), and the OS shares the
core between the two frames running, so a cheap view's frames finish first and it shows more of them
(faces 14.7 fps beside two style streams at 10.2). A scheduler handing the workers out by least CPU
time used (as Linux's CFS does) was tried and measured no better (faces 14.4-14.7, style 10-11.5)."""
REGISTER_WAIT_S = 15.0
_POOL = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="cvlab-live")
_FREE: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = weakref.WeakKeyDictionary()


def _worker_free() -> asyncio.Semaphore:
    """A socket holds this while its frame is in a worker. It waits for a free worker *before* taking
    its newest frame, so a busy server drops the stale frames instead of working on them: frames handed
    to the pool at once waited in its queue while newer ones arrived (three visitors streaming: 190-220 ms
    from camera to screen and 12.9-13.4 fps shown; waiting first: 117-133 ms and 14.3-14.9 fps).
    Waiters are served first come, first served. One semaphore per event loop (tests run several)."""
    loop = asyncio.get_running_loop()
    if loop not in _FREE:
        _FREE[loop] = asyncio.Semaphore(WORKERS)
    return _FREE[loop]


@dataclass
class _Session:
    values: list
    created: float = field(default_factory=time.monotonic)


@dataclass
class LiveSpec:
    """One live view: its callback, the settings it reads and its time limit (seconds)."""
    name: str
    fn: Callable[..., tuple[Any, str, Any]]
    time_limit: float


_VIEWS: dict[str, LiveSpec] = {}
_SESSIONS: dict[str, _Session] = {}
_LOCK = threading.Lock()


_OPEN = [0]
"""Live sockets open right now (all views, all visitors)."""


def streams_open() -> int:
    """Live webcam sockets streaming right now, over all views and visitors."""
    return _OPEN[0]


BACKGROUND_NICE = 10
"""OS priority (Linux nice, per thread) of a long batch job's thread while it runs (see run_politely)."""


def run_politely(make: Callable[[], Iterator[Any]], nice: int = BACKGROUND_NICE) -> Iterator[Any]:
    """Iterate ``make()`` in a thread of its own at a lower OS priority, and yield what it yields.

    A long batch job (a Gatys run) then takes the CPU only when the live frames, which a visitor
    watches, leave it free: with the app on one core, three streams and a Gatys run, the measured
    view showed 5.7 fps against 4.5 at equal priority, the other two 5.0-5.2 against 3.4-4.4
    (bench/bench_live_browser.py). The thread is new for each job, so no pooled thread of the
    server stays slowed (an unprivileged process cannot raise a thread's priority again). Where
    per-thread priorities do not exist (macOS, Windows) the job runs at normal priority. Closing
    this generator (the visitor left) stops the job at its next item; an exception comes back here.

    The priority alone is enough: a job that also slept half of each step's time while someone
    streamed (the old ``make_room``) left the live views no faster under load (14.2-14.45 fps either
    way, Gatys finishing 0-1 steps in the 20 s), and only slowed the job where a core was free."""
    items: queue.Queue = queue.Queue(maxsize=1)
    closed = threading.Event()

    def put(entry) -> bool:
        while not closed.is_set():
            try:
                items.put(entry, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        except (AttributeError, OSError):
            pass
        try:
            for item in make():
                if not put(("item", item)):
                    return
            put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put(("error", exc))

    threading.Thread(target=produce, name="cvlab-background", daemon=True).start()
    try:
        while True:
            kind, value = items.get()
            if kind == "item":
                yield value
            elif kind == "done":
                return
            else:
                raise value
    finally:
        closed.set()


def _register(token: str, values: list) -> None:
    if not isinstance(token, str) or not (16 <= len(token) <= 64):
        return
    with _LOCK:
        _SESSIONS[token] = _Session(list(values))
        if len(_SESSIONS) > 500:  # forgotten registrations (a page closed before its socket opened)
            old = sorted(_SESSIONS, key=lambda t: _SESSIONS[t].created)[:100]
            for t in old:
                _SESSIONS.pop(t, None)


def _update(token: str | None, values: list) -> None:
    with _LOCK:
        if token and token in _SESSIONS:
            _SESSIONS[token].values = list(values)


# ----------------------------------------------------------------------------- per-frame work
def decode_jpeg(data: bytes) -> np.ndarray | None:
    """JPEG bytes -> RGB uint8 (H, W, 3), or None when they are not an image."""
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return None if arr is None else np.ascontiguousarray(arr[:, :, ::-1])


def encode_jpeg(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """RGB (or grey / RGBA) uint8 image -> JPEG bytes."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    if rgb.ndim == 3 and rgb.shape[2] == 4:
        rgb = rgb[:, :, :3]
    bgr = rgb[:, :, ::-1] if rgb.ndim == 3 else rgb
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(bgr), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("frame could not be encoded")
    return buf.tobytes()


def process_frame(spec: LiveSpec, data: bytes, values: list, state: Any) -> tuple[bytes | None, str, Any, float]:
    """One frame through the view's callback: (JPEG or None, status text, new state, server ms)."""
    t = time.perf_counter()
    frame = decode_jpeg(data)
    if frame is None:
        return None, "frame skipped: not a JPEG", state, 0.0
    image, text, state = spec.fn(frame, *values, state)
    if isinstance(image, np.ndarray):
        payload = encode_jpeg(image)
    else:  # gr.skip() or None: keep the last shown frame
        payload = None
    text = text if isinstance(text, str) else ""
    return payload, text, state, (time.perf_counter() - t) * 1000


def pack(seq: int, meta: dict, jpeg: bytes | None) -> bytes:
    """One server message: uint32 seq, uint32 JSON length, JSON, JPEG (possibly empty)."""
    body = json.dumps(meta).encode()
    return struct.pack("<II", seq, len(body)) + body + (jpeg or b"")


# ----------------------------------------------------------------------------- the socket
async def _socket(websocket: WebSocket, view: str, token: str) -> None:
    await websocket.accept()
    spec = _VIEWS.get(view)
    if spec is None:
        await websocket.close(code=4404, reason="unknown live view")
        return
    deadline = time.monotonic() + REGISTER_WAIT_S
    while token not in _SESSIONS and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    if token not in _SESSIONS:
        await websocket.close(code=4403, reason="not registered")
        return
    latest: list[bytes | None] = [None]
    dropped: list[int] = []
    ready = asyncio.Event()
    closed = asyncio.Event()

    async def reader():
        try:
            while True:
                msg = await websocket.receive_bytes()
                if len(msg) < 4:
                    continue
                if latest[0] is not None:  # a newer frame replaces the one still waiting
                    dropped.append(struct.unpack("<I", latest[0][:4])[0])
                latest[0] = msg
                ready.set()
        except (WebSocketDisconnect, RuntimeError, KeyError):
            pass
        finally:
            closed.set()
            ready.set()

    task = asyncio.create_task(reader())
    loop = asyncio.get_running_loop()
    state, started = None, time.monotonic()
    _OPEN[0] += 1
    try:
        while not closed.is_set():
            await ready.wait()
            ready.clear()
            if latest[0] is None:
                continue
            if time.monotonic() - started > spec.time_limit:
                await websocket.send_bytes(pack(0, {"end": f"time limit of {spec.time_limit:.0f} s reached: "
                                                           "press Record again"}, None))
                break
            async with _worker_free():
                # the newest frame that arrived while this socket waited for a worker
                msg, latest[0] = latest[0], None
                seq = struct.unpack("<I", msg[:4])[0]
                session = _SESSIONS.get(token)
                values = session.values if session else []
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
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        _OPEN[0] -= 1
        task.cancel()
        with _LOCK:
            _SESSIONS.pop(token, None)
        try:
            await websocket.close()
        except Exception:  # noqa: BLE001 - already closed
            pass


def install_routes(app, server=None) -> None:
    """Add the live WebSocket route to the app Gradio serves (a FastAPI app), after launch.

    ``server``: Gradio's uvicorn server (``demo.server``), whose per-message compression is switched off
    for the connections opened from now on: the frames are JPEGs already, and deflating them both ways
    cost CPU in the app and in the browser for nothing."""
    config = getattr(server, "config", None)
    if config is not None and hasattr(config, "ws_per_message_deflate"):
        config.ws_per_message_deflate = False
    if any(getattr(r, "path", None) == ROUTE for r in app.router.routes):
        return
    app.add_api_websocket_route(ROUTE, _socket)
    app.router.routes.insert(0, app.router.routes.pop())


# ----------------------------------------------------------------------------- the UI
LIVE_CSS = """
.cvlab-live-row { display: flex; gap: 12px; flex-wrap: wrap; }
.cvlab-live-pane { flex: 1 1 300px; position: relative; background: var(--background-fill-secondary);
  border: 1px solid var(--border-color-primary); border-radius: 8px; height: 400px; overflow: hidden;
  display: flex; align-items: center; justify-content: center; }
.cvlab-live-pane video, .cvlab-live-pane img { position: absolute; inset: 0; width: 100%; height: 100%;
  object-fit: contain; display: block; }
.cvlab-live-cam video { transform: scaleX(-1); }
.cvlab-live-cam.recording video { visibility: hidden; }
.cvlab-live-paused { position: absolute; inset: auto 12px 56px 12px; text-align: center; font-size: 13px;
  color: var(--body-text-color-subdued); display: none; }
.cvlab-live-cam.recording .cvlab-live-paused { display: block; }
.cvlab-live-label { position: absolute; top: 6px; left: 8px; font-size: 12px; padding: 1px 6px; border-radius: 4px;
  background: var(--block-label-background-fill); color: var(--block-label-text-color); z-index: 2; }
.cvlab-live-btn { position: absolute; bottom: 10px; left: 50%; transform: translateX(-50%); z-index: 3;
  padding: 6px 16px; border-radius: 999px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-primary); color: var(--body-text-color); cursor: pointer; font-size: 14px; }
.cvlab-live-access { position: static; transform: none; }
.cvlab-live-info { margin-top: 6px; min-height: 1.4em; }
.cvlab-live-info code { font-size: 90%; }
"""

LIVE_JS = r"""
const view = element.querySelector('.cvlab-live');
const name = view.dataset.view, height = view.dataset.height;
const cam = view.querySelector('.cvlab-live-cam'), out = view.querySelector('.cvlab-live-out');
const info = view.querySelector('.cvlab-live-info');
const access = view.querySelector('.cvlab-live-access'), record = view.querySelector('.cvlab-live-record');
const video = cam.querySelector('video');
if (height) { cam.style.height = height + 'px'; out.style.height = height + 'px'; }
// Two frames in flight hide the network's round trip; when the server itself is the bottleneck the
// second frame only waits there, doubling the delay: above 300 ms of delay keep one in flight, below
// 200 ms two again. ?live_inflight=1|2 fixes it (for measuring).
const FIXED_INFLIGHT = parseInt(new URLSearchParams(location.search).get('live_inflight')) || 0;
let maxInflight = FIXED_INFLIGHT || 2;
// Frames travel at most SEND_WIDTH px wide (the camera's 640x480 -> 480x360): drawing, encoding,
// decoding and painting each frame cost in proportion to its pixels, on the visitor's side as on the
// server's, and every model here works below that size anyway. ?live_width=640 sends the full frame.
const SEND_WIDTH = parseInt(new URLSearchParams(location.search).get('live_width')) || 480;
function adapt() {
  if (FIXED_INFLIGHT || delays.length < 8) return;
  const d = delays.slice(-8).sort((a, b) => a - b)[4];
  if (d > 300) maxInflight = 1; else if (d < 200) maxInflight = 2;
}
let stream = null, ws = null, running = false, seq = 0, inflight = 0, sentAt = new Map(), img = null;
let fresh = false, frameAt = 0, loopId = 0, urls = [], loading = false, next = null;
// per-frame stage times (ms, page clock) for the benchmark: window.cvlabLive[name].frames
const stats = (window.cvlabLive = window.cvlabLive || {})[name] = {frames: [], pending: new Map()};
function stage(id, key, t) {
  const f = stats.pending.get(id); if (f) f[key] = t === undefined ? performance.now() : t;
}
function finish(id) {
  const f = stats.pending.get(id); if (!f) return;
  stats.pending.delete(id); stats.frames.push(f); if (stats.frames.length > 300) stats.frames.splice(0, 100);
}
let shown = [], delays = [], serverText = '', serverMs = [], lastInfo = 0, gotFrame = false;
const canvas = document.createElement('canvas'), ctx = canvas.getContext('2d');
function md(s) {
  const esc = String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return esc.replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>').replace(/`([^`]+)`/g, '<code>$1</code>');
}
function setInfo(force) {
  const now = performance.now();
  if (!force && now - lastInfo < 250) return;
  lastInfo = now;
  shown = shown.filter(t => now - t < 3000);
  const fps = shown.length > 1 ? (shown.length - 1) * 1000 / (shown[shown.length - 1] - shown[0]) : 0;
  const d = delays.slice(-30).sort((a, b) => a - b), delay = d.length ? d[Math.floor(d.length / 2)] : null;
  const head = running ? (shown.length > 1 ? `<b>${fps.toFixed(1)} fps shown</b> in this browser`
                                          : 'first frame shown, measuring the frame rate…') +
    (delay !== null ? ` · ${Math.round(delay)} ms from camera to screen` : '') : '';
  info.innerHTML = [head, md(serverText)].filter(Boolean).join(' · ');
}
function fallback(reason) {
  running = false;
  cam.classList.remove('recording');
  serverText = `The fast live connection could not be opened here (${reason}); ` +
               "use Gradio's own stream below (slower): click its camera, then Record.";
  setInfo(true);
  const acc = document.getElementById(`${name}-live-fallback`);
  const label = acc && acc.querySelector('.label-wrap, button');
  if (label && !label.classList.contains('open')) label.click();
}
function capture() {
  if (!running || !ws || ws.readyState !== 1) return;
  if (!fresh || inflight >= maxInflight || !video.videoWidth) return;   // each camera frame at most once
  fresh = false;
  const scale = Math.min(1, SEND_WIDTH / video.videoWidth);
  const w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
  const id = ++seq, t = frameAt;
  inflight++;
  stats.pending.set(id, {frame: t, drawn: performance.now()});
  sentAt.set(id, t);
  if (canvas.width !== w) { canvas.width = w; canvas.height = h; }
  ctx.setTransform(-1, 0, 0, 1, w, 0);          // mirrored, like a mirror (and like Gradio's webcam)
  ctx.drawImage(video, 0, 0, w, h);
  // encoded on this thread, as Gradio's webcam does (a worker with OffscreenCanvas was tried: on one
  // busy browser core it was no faster, 2-16 fps against 3-12 in the same run; canvas.toBlob took
  // 72 ms to call back against 12-16 ms for toDataURL, and showed 11 fps against 15-17)
  const b64 = canvas.toDataURL('image/jpeg', 0.8);
  const bin = atob(b64.slice(b64.indexOf(',') + 1));
  const msg = new Uint8Array(4 + bin.length);
  new DataView(msg.buffer).setUint32(0, id, true);
  for (let i = 0; i < bin.length; i++) msg[4 + i] = bin.charCodeAt(i);
  stage(id, 'encoded');
  ws.send(msg);
}
function watchCamera() {
  const id = ++loopId;
  const onFrame = () => {
    if (!running || id !== loopId) return;
    fresh = true; frameAt = performance.now();   // when this camera frame reached the page
    capture();
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}
function show(id, jpeg) {
  // one image decoding at a time: a frame arriving meanwhile waits, and a newer one replaces it
  // (setting a new src while the last one still loads would cancel that one: it would never be seen)
  if (loading) { if (next) { sentAt.delete(next.id); stats.pending.delete(next.id); } next = {id, jpeg}; return; }
  loading = true;
  const url = URL.createObjectURL(new Blob([jpeg], {type: 'image/jpeg'}));
  if (!img) { img = document.createElement('img'); img.alt = 'live result'; out.appendChild(img); }
  const t0 = sentAt.get(id);
  sentAt.delete(id);
  urls.push(url);
  const done = (ok) => {
    const now = performance.now();
    if (ok) {
      shown.push(now);
      if (t0 !== undefined) delays.push(now - t0);
      if (delays.length > 100) delays.splice(0, 50);
      stage(id, 'shown', now); finish(id);
      adapt();
    }
    while (urls.length > 1) URL.revokeObjectURL(urls.shift());   // every frame before this one
    loading = false;
    setInfo(false);
    if (next) { const f = next; next = null; show(f.id, f.jpeg); }
  };
  img.onload = () => done(true);
  img.onerror = () => done(false);
  img.src = url;
}
async function onMessage(ev) {
  const buf = ev.data, dv = new DataView(buf);
  const id = dv.getUint32(0, true), n = dv.getUint32(4, true);
  const meta = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n)));
  stage(id, 'received'); stage(id, 'server', meta.ms);
  (meta.dropped || []).forEach(d => stats.pending.delete(d));
  if (meta.end) { serverText = meta.end; stop(); return; }
  inflight = Math.max(0, inflight - 1 - (meta.dropped ? meta.dropped.length : 0));
  (meta.dropped || []).forEach(d => sentAt.delete(d));
  if (meta.text !== undefined) serverText = meta.text;
  if (buf.byteLength > 8 + n) { gotFrame = true; show(id, new Uint8Array(buf, 8 + n)); }
  else { sentAt.delete(id); setInfo(false); }
  capture();
}
function stop() {
  running = false;
  cam.classList.remove('recording');
  record.textContent = 'Record';
  if (ws) { try { ws.close(); } catch (e) {} ws = null; }
  inflight = 0; sentAt.clear(); next = null;
  setInfo(true);
}
function start() {
  if (new URLSearchParams(location.search).get('live') === 'gradio') { fallback('turned off by ?live=gradio'); return; }
  const token = (crypto.randomUUID ? crypto.randomUUID() : Math.random().toString(36).slice(2) +
                 Math.random().toString(36).slice(2)).replace(/-/g, '');
  trigger('submit', {token});                    // registers this view's settings under the token
  const base = location.pathname.replace(/\/+$/, '');
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${base}/cvlab/live/${name}/${token}`;
  ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  running = true; gotFrame = false; seq = 0; inflight = 0; shown = []; delays = [];
  cam.classList.add('recording');
  serverText = 'Connecting…'; setInfo(true);
  record.textContent = 'Stop';
  const opened = ws;
  ws.onopen = () => { if (ws === opened) { serverText = 'Waiting for the first frame…'; setInfo(true);
                                           watchCamera(); } };
  ws.onmessage = onMessage;
  ws.onerror = () => {};
  ws.onclose = (ev) => {
    if (ws !== opened) return;
    const wasRunning = running;
    ws = null;
    if (wasRunning && !gotFrame) fallback(ev.reason || `WebSocket closed, code ${ev.code}`);
    else if (wasRunning) { serverText = 'The live connection closed: press Record again.'; stop(); }
  };
}
access.addEventListener('click', async () => {
  try {
    stream = await navigator.mediaDevices.getUserMedia({video: {width: 640, height: 480}, audio: false});
  } catch (e) {
    serverText = `The camera could not be opened (${e.name || e}). Allow camera access and try again.`;
    setInfo(true); return;
  }
  video.srcObject = stream;
  video.muted = true;
  await video.play().catch(() => {});
  access.hidden = true;
  record.hidden = false;
});
record.addEventListener('click', () => { running ? stop() : start(); });
"""


def _html(name: str, cam_id: str, out_id: str, info_id: str, cam_label: str, out_label: str,
          height: int | None) -> str:
    return f"""
<div class="cvlab-live" data-view="{name}" data-height="{height or ''}">
  <div class="cvlab-live-row">
    <div id="{cam_id}" class="cvlab-live-pane cvlab-live-cam">
      <span class="cvlab-live-label">{cam_label}</span>
      <video playsinline muted autoplay></video>
      <p class="cvlab-live-paused">Recording: your camera's frames go to the server and come back on the
        right. This preview pauses meanwhile, so your browser spends its time on the result.</p>
      <button class="cvlab-live-btn cvlab-live-access" type="button">Click to Access Webcam</button>
      <button class="cvlab-live-btn cvlab-live-record" type="button" hidden>Record</button>
    </div>
    <div id="{out_id}" class="cvlab-live-pane cvlab-live-out"><span class="cvlab-live-label">{out_label}</span></div>
  </div>
  <div id="{info_id}" class="cvlab-live-info prose"></div>
</div>"""


def live_view(name: str, fn: Callable[..., tuple[Any, str, Any]], inputs: list, *, cam_id: str, out_id: str,
              info_id: str, out_label: str, height: int | None = None, time_limit: float = 600,
              fallback_every: float = 0.05) -> dict:
    """Build one live view in the current Blocks context and wire both transports.

    ``fn(frame, *inputs, state) -> (image, status markdown, state)``: frame RGB uint8 (H, W, 3) from the
    visitor's camera (640x480, mirrored), image RGB uint8 or None/gr.skip() to keep the last one.
    ``inputs``: the components whose values ``fn`` reads (a face gallery State, sliders, ...).
    The fast view carries ``cam_id`` / ``out_id`` / ``info_id``; the Gradio-stream fallback, in a closed
    accordion below it, the same ids with ``-gradio`` appended. Returns the components made."""
    spec = LiveSpec(name, fn, time_limit)
    _VIEWS[name] = spec
    html = gr.HTML(_html(name, cam_id, out_id, info_id, "Webcam", out_label, height), js_on_load=LIVE_JS,
                   css_template=LIVE_CSS, elem_id=f"{name}-live-view", apply_default_css=True)
    token = gr.State(None)
    with gr.Accordion("Not working? Gradio's own webcam stream (slower)", open=False,
                      elem_id=f"{name}-live-fallback"):
        browser_fps = gr.HTML("", elem_id=f"{info_id}-gradio-shown", js_on_load=FALLBACK_JS.replace(
            "__OUT__", f"{out_id}-gradio"), apply_default_css=True)
        with gr.Row():
            cam = webcam_stream(f"{cam_id}-gradio", height=height)
            out = gr.Image(label=out_label, format="jpeg", interactive=False, elem_id=f"{out_id}-gradio",
                           height=height)
        text = gr.Markdown(elem_id=f"{info_id}-gradio")
    state = gr.State(None)

    def register(evt: gr.EventData, *values):
        tok = evt._data.get("token") if isinstance(evt._data, dict) else None
        _register(tok, list(values))
        return tok

    def update(tok, *values):
        _update(tok, list(values))

    html.submit(register, inputs, token, api_visibility="private", show_progress="hidden", queue=False)
    for comp in inputs:
        if hasattr(comp, "change"):
            comp.change(update, [token, *inputs], None, api_visibility="private", show_progress="hidden",
                        queue=False)
    cam.stream(fn, [cam, *inputs, state], [out, text, state], stream_every=fallback_every, time_limit=time_limit,
               concurrency_limit=2, show_progress="hidden", api_name=f"{name}_live")
    cam.clear(lambda: (None, "", None), outputs=[out, text, state], api_visibility="private")
    return {"html": html, "cam": cam, "out": out, "text": text, "state": state, "browser_fps": browser_fps}


FALLBACK_JS = r"""
// frames shown by the fallback stream, counted here in the browser (not the server's rate)
const line = element;
let shown = [], last = null;
function hook() {
  const out = document.getElementById('__OUT__');
  if (!out) { setTimeout(hook, 500); return; }
  out.addEventListener('load', (ev) => {
    if (!(ev.target instanceof HTMLImageElement) || ev.target.src === last) return;
    last = ev.target.src;
    const now = performance.now();
    shown.push(now); shown = shown.filter(t => now - t < 3000);
    if (shown.length > 1) {
      const fps = (shown.length - 1) * 1000 / (now - shown[0]);
      line.innerHTML = `<b>${fps.toFixed(1)} fps shown</b> in this browser (Gradio stream)`;
    }
  }, true);
}
hook();
"""


