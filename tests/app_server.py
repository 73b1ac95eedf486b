"""Start the real app in a subprocess on a free port (for API, load and browser tests)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> float:
    """Seconds until ``url`` answers 200; raises when it does not within ``timeout``."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"app exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextmanager
def running_app(log_path: Path, *extra_args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yield (base URL, process) of `app.py --offline` started on a free port; stop it afterwards."""
    port = free_port()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    with open(log_path, "w") as out:
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--offline", "--device", "cpu",
                                 *extra_args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        try:
            wait_for_http(url, timeout=90, proc=proc)
        except Exception as exc:
            raise RuntimeError(f"app did not start ({exc}):\n" + Path(log_path).read_text()[-3000:]) from exc
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
