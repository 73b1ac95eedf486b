"""One visitor floods, another is served: a normal visitor's Semantic latency while another client
(another address, many sessions) submits as many Gatys runs as the server takes, against the same
visitor's latency with no flood, measured in the same run on the real app (loopback)."""
from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from tests.app_server import running_app
from tests.security.visitor_client import Visitor, gatys_data, new_session, semantic_data

CALLS = 15
"""Semantic calls of the measured visitor, each way."""


def _p95_ms(visitor: Visitor, fn: int, photo: dict) -> tuple[float, int]:
    """p95 (ms) of CALLS Semantic calls one after another, and how many failed."""
    times, failed, session = [], 0, new_session()
    for _ in range(CALLS):
        t = time.perf_counter()
        done = visitor.call(fn, semantic_data(photo), session, timeout=600)
        times.append((time.perf_counter() - t) * 1000)
        failed += not done.get("success")
    return float(np.percentile(times, 95)), failed


def _flood(url: str, stop: threading.Event, counts: dict) -> None:
    """Submit Gatys runs from 127.0.0.2 in fresh sessions as fast as the server answers."""
    attacker = Visitor(url, "127.0.0.2")
    try:
        photo, fn = attacker.upload(), attacker.fn_index("style_gatys")
        while not stop.is_set():
            r = attacker.join(fn, gatys_data(photo), new_session())
            counts["accepted" if r.status_code == 200 else "refused"] += 1
    finally:
        attacker.close()


def run() -> list[dict]:
    log = Path(tempfile.mkdtemp(prefix="cvlab_bench_flood_")) / "app.log"
    with running_app(log) as (url, _proc):
        honest = Visitor(url, "127.0.0.1")
        fn, photo = honest.fn_index("segment_semantic"), honest.upload()
        honest.call(fn, semantic_data(photo))  # load the model once
        baseline, failed0 = _p95_ms(honest, fn, photo)
        stop, counts = threading.Event(), {"accepted": 0, "refused": 0}
        flooders = [threading.Thread(target=_flood, args=(url, stop, counts)) for _ in range(2)]
        for t in flooders:
            t.start()
        time.sleep(3)  # the flood is on and a Gatys run has started
        flooded, failed1 = _p95_ms(honest, fn, photo)
        stop.set()
        for t in flooders:
            t.join()
        honest.close()
    load = os.getloadavg()[0]
    return [{"name": "load.flood.other_visitor_p95_ms", "value": round(flooded), "unit": "ms",
             "baseline": round(baseline), "ratio": round(flooded / baseline, 2),
             "notes": f"p95 of {CALLS} Semantic calls (127.0.0.1) while 2 threads on 127.0.0.2 submit Gatys runs "
                      f"(384 px, 500 steps) in fresh sessions: {counts['accepted']} accepted, {counts['refused']} "
                      f"refused; failed calls {failed0} / {failed1}; baseline = no flood, same run; goal <= 3000 ms "
                      f"on 2 cores; load average {load:.1f} at the end"}]
