"""Another visitor streaming a live view, as the server meets them, at a fraction of a browser's cost.

The benchmark's "under load" entry needs two other visitors streaming while one is measured. Their
browsers run on their own machines, so on this 2-core machine they must load the server as real
visitors do but must not take the measured browser's core (three pages in one Chromium made that
core the bottleneck: the measured page showed 9-11 fps whatever the server did). This client speaks
the page's own protocol (demos/live/transport.py) on a token that a real page registered: the token
as the first (text) message, then binary frames
``uint32 seq + JPEG`` of the same fake-camera video at the size the page sends (480x360, mirrored,
quality 80, encoded once up front), two frames in flight, the dropped ones counted back as the page
does. Every second it prints a JSON line ``{"t": time.monotonic(), "answered": frames so far}`` (the
clock is the machine's, shared with the benchmark), and a last one when it stops (SIGTERM or
``--seconds``): frames answered, per second, dropped, and why it stopped if it was not asked to.

    python bench/live_visitor.py ws://127.0.0.1:PORT/cvlab/live/semantic TOKEN FRAMES_FOLDER [--seconds S]
"""
from __future__ import annotations

import json
import signal
import struct
import sys
import time
from pathlib import Path

import cv2
import numpy as np

SEND_WIDTH = 480
INFLIGHT = 2


def write_frames(frames_rgb, folder: Path, width: int = SEND_WIDTH) -> Path:
    """Camera frames (RGB uint8, H x W x 3) as the page would send them: mirrored, ``width`` px wide,
    JPEG quality 80, into ``folder``/NNNN.jpg."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, rgb in enumerate(frames_rgb):
        h, w = rgb.shape[:2]
        bgr = cv2.flip(np.ascontiguousarray(rgb[:, :, ::-1]), 1)
        bgr = cv2.resize(bgr, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)
        (folder / f"{k:04d}.jpg").write_bytes(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    return folder


def stream(url: str, token: str, frames: list[bytes], seconds: float) -> dict:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    answered = dropped = 0
    ended, error, seq, inflight = None, None, 0, 0
    start = last = time.monotonic()
    try:
        with connect(url, max_size=None, compression=None, open_timeout=30, proxy=None) as ws:
            ws.send(token)
            while not stop[0] and time.monotonic() - start < seconds:
                if time.monotonic() - last >= 1.0:
                    last = time.monotonic()
                    print(json.dumps({"t": last, "answered": answered}), flush=True)
                while inflight < INFLIGHT:
                    seq += 1
                    ws.send(struct.pack("<I", seq) + frames[seq % len(frames)])
                    inflight += 1
                try:
                    msg = ws.recv(timeout=1.0)
                except TimeoutError:
                    continue
                n = struct.unpack("<I", msg[4:8])[0]
                meta = json.loads(msg[8:8 + n])
                if "end" in meta:
                    ended = meta["end"]
                    break
                lost = len(meta.get("dropped", []))
                dropped += lost
                inflight = max(0, inflight - 1 - lost)
                answered += len(msg) > 8 + n
    except (ConnectionClosed, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    wall = time.monotonic() - start
    return {"answered": answered, "fps": round(answered / wall, 2) if wall else 0.0, "dropped": dropped,
            "seconds": round(wall, 1), "ended": ended, "error": error}


if __name__ == "__main__":
    args = sys.argv[1:]
    seconds = float(args[args.index("--seconds") + 1]) if "--seconds" in args else 3600.0
    frames = [p.read_bytes() for p in sorted(Path(args[2]).glob("*.jpg"))]
    print(json.dumps(stream(args[0], args[1], frames, seconds)), flush=True)
