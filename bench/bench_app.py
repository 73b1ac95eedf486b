"""App-level benchmarks: time from launch to the page being served, and memory with every
bundled model loaded."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from tests.app_server import free_port as _free_port
from tests.app_server import wait_for_http

from bench.paths import ROOT


def _time_to_200(cmd: list[str], url: str, timeout: float = 120) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process) from starting ``cmd`` until ``url`` answers HTTP 200.

    The CPU seconds (user + system, all threads) hardly depend on what else the machine runs; the wall
    seconds do, a lot, on a shared 2-core machine."""
    import psutil

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, GRADIO_ANALYTICS_ENABLED="False"))
    try:
        wait_for_http(url, timeout=timeout, proc=proc)
        wall = time.perf_counter() - start
        cpu = psutil.Process(proc.pid).cpu_times()
        return wall, cpu.user + cpu.system
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def page_served(rounds: int = 3) -> list[dict]:
    """Launch-to-first-200 of app.py against a bare gr.Interface, alternated ``rounds`` times after one
    uncounted warm-up round (file caches); medians of wall and of CPU seconds."""
    hello = ("import gradio as gr, sys; gr.Interface(lambda x: x, 'text', 'text')"
             ".launch(server_port=int(sys.argv[1]))")
    runs: dict[str, list[tuple[float, float]]] = {"app": [], "base": []}
    for i in range(rounds + 1):
        port = _free_port()
        base = _time_to_200([sys.executable, "-c", hello, str(port)], f"http://127.0.0.1:{port}/")
        port = _free_port()
        app = _time_to_200([sys.executable, "app.py", "--port", str(port), "--offline"], f"http://127.0.0.1:{port}/")
        if i:
            runs["app"].append(app)
            runs["base"].append(base)
    out = []
    for k, (name, what) in enumerate((("app.page_served_s", "wall"), ("app.page_served_cpu_s", "CPU"))):
        app_s = statistics.median(r[k] for r in runs["app"])
        base_s = statistics.median(r[k] for r in runs["base"])
        out.append({"name": name, "value": round(app_s, 2), "unit": "s", "baseline": round(base_s, 2),
                    "ratio": round(app_s / base_s, 2),
                    "notes": f"launch of app.py to first HTTP 200, {what} seconds, median of {rounds} alternated "
                             f"with the baseline (a one-textbox gr.Interface); goal: ratio <= 1.3"})
    return out


_RSS_CODE = """
import json, os, psutil
proc = psutil.Process()
base = proc.memory_info().rss
import app  # noqa: F401  (what a real server imports)
from core.models import registry
reg = registry()
after_import = proc.memory_info().rss
names = [s.name for s in reg.specs() if s.source == "bundled"]
for n in names:
    reg.load(n)
print(json.dumps({"base": base, "import": after_import, "loaded": proc.memory_info().rss, "names": names}))
"""


def bundled_memory() -> dict:
    import json

    out = subprocess.run([sys.executable, "-c", _RSS_CODE], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    loaded, imported = r["loaded"] / 1e6, r["import"] / 1e6
    return {"name": "memory.all_bundled_rss_mb", "value": round(loaded), "unit": "MB",
            "baseline": round(imported), "ratio": round(loaded / imported, 2),
            "notes": f"RSS after loading all {len(r['names'])} bundled models; baseline = RSS after "
                     f"importing the app with nothing loaded"}


def run() -> list[dict]:
    return [*page_served(), bundled_memory()]
