"""SIGTERM stops the real app cleanly (the container's `stop`; PID 1 has no default signal action)."""
from __future__ import annotations

import signal
import time
import urllib.request

import pytest

from tests.app_server import running_app

pytestmark = pytest.mark.slow


def test_sigterm_closes_the_server_and_exits_with_code_0(tmp_path):
    log = tmp_path / "app.log"
    with running_app(log) as (url, proc):
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.status == 200
        # the page answers while launch() still checks it; signal once the app is serving for good
        deadline = time.monotonic() + 60
        while "To create a public link" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    # 0 is the handler's clean exit; without it the process dies of the signal (-15) or, as a
    # container's PID 1, ignores it until the container engine kills it.
    assert code == 0, log.read_text()[-2000:]
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=5)
