"""Many users at once: 20 Gradio clients hammer the semantic, instance and faces endpoints of the
real app on loopback. Reports throughput and p95 latency; the baseline is one client calling the same
endpoints one after another in the same run (ratio = throughput gain from concurrency)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from tests import api_calls as api
from tests.app_server import running_app
from tests.load import CALLS, hammer

SECONDS = 40


def run() -> list[dict]:
    log = Path(tempfile.mkdtemp(prefix="cvlab_bench_load_")) / "app.log"
    with running_app(log) as (url, _proc):
        warm = api.client(url)
        for _, call in CALLS:
            call(warm)
        single = hammer(url, clients=1, seconds=SECONDS / 2)
        many = hammer(url, clients=20, seconds=SECONDS)
    failures = len(many.failures)
    return [
        {"name": "load.throughput_rps", "value": round(many.throughput_rps, 2), "unit": "requests/s",
         "baseline": round(single.throughput_rps, 2), "ratio": round(many.throughput_rps / single.throughput_rps, 2),
         "notes": f"20 clients x {SECONDS} s on segment_semantic/segment_instance/faces_recognize; "
                  f"{many.answered} answered, {failures} failed; baseline = 1 client in turn"},
        {"name": "load.p95_latency_ms", "value": round(many.percentile_ms(95)), "unit": "ms",
         "baseline": round(single.percentile_ms(95)), "ratio": round(many.percentile_ms(95) /
                                                                     single.percentile_ms(95), 2),
         "notes": f"p95 per request with 20 clients (median {many.percentile_ms(50):.0f} ms); baseline = "
                  f"p95 with 1 client; requests queue (2 at a time per endpoint) instead of failing"},
    ]
