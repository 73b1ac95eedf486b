"""Load generator: many Gradio Python clients hammering the app's endpoints at once.

``hammer(url, clients, seconds)`` starts ``clients`` threads, each with its own Client (its own
session), calling the semantic, instance and faces endpoints in turn until the time is up, and
returns counts, failures, throughput and latency percentiles.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from tests import api_calls as api

FACE_PHOTO = next((api.FACES / "people" / "Barack_Obama").glob("*.jpg"))
CALLS = (
    ("segment_semantic", lambda c: api.segment_semantic(c, api.PHOTOS / "astronaut.png")),
    ("segment_instance", lambda c: api.segment_instance(c, api.PHOTOS / "two_people.jpg")),
    ("faces_recognize", lambda c: api.faces_recognize(c, FACE_PHOTO)),
)


@dataclass
class LoadResult:
    seconds: float
    clients: int
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput_rps(self) -> float:
        return self.answered / self.seconds

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


def hammer(url: str, clients: int = 20, seconds: float = 20.0) -> LoadResult:
    """Run the load for ``seconds``; requests in flight at the deadline are waited for and counted."""
    result = LoadResult(seconds=seconds, clients=clients)
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    start_line = threading.Barrier(clients)

    def worker(k: int) -> None:
        try:
            client = api.client(url)
        except Exception as exc:  # noqa: BLE001 - recorded as a failure
            with lock:
                result.failures.append(f"connect: {type(exc).__name__}: {exc}")
            start_line.abort()
            return
        try:
            start_line.wait(timeout=120)
        except threading.BrokenBarrierError:
            pass
        i = k
        while time.perf_counter() < deadline:
            name, call = CALLS[i % len(CALLS)]
            i += 1
            t0 = time.perf_counter()
            try:
                call(client)
            except Exception as exc:  # noqa: BLE001 - recorded as a failure
                with lock:
                    result.failures.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            with lock:
                result.latencies_ms.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(clients)]
    t_start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 300)
    result.seconds = max(seconds, time.perf_counter() - t_start)
    return result
