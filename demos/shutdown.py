"""Stop the app promptly on SIGTERM, also when it runs as PID 1 in a container.

The kernel gives PID 1 no default signal actions, so without a handler a container's `stop` waits
its whole grace period and then kills the app. The handler turns SIGTERM into the KeyboardInterrupt
that Gradio's ``Blocks.block_thread()`` already handles (it closes the server and returns); then
:func:`exit_now` runs the exit handlers and ends the process without the interpreter's teardown of
every loaded module (seconds on a busy machine, during which no other thread may run). A watchdog
ends the process if anything still holds it GRACE_S seconds after the signal (a start-up still
importing, say), so a stop takes at most about GRACE_S whatever runs the image.
"""
from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading

GRACE_S = 1.5
"""Seconds between SIGTERM and a forced exit (container hosts allow 2 s or more before SIGKILL)."""


def _on_sigterm(signum: int, frame) -> None:
    # the time stamp of this line is when the app got the signal (scripts/space_check.sh reads it)
    logging.getLogger("cvlab").warning("SIGTERM received: closing the server")
    watchdog = threading.Timer(GRACE_S, os._exit, args=(0,))
    watchdog.daemon = True
    watchdog.start()
    raise KeyboardInterrupt("SIGTERM")


def stop_on_sigterm() -> None:
    """Install the SIGTERM handler (from the main thread; app.py does it before its heavy imports, so a
    stop during start-up is prompt too: the KeyboardInterrupt then ends the start-up)."""
    signal.signal(signal.SIGTERM, _on_sigterm)


def exit_now(code: int = 0) -> None:
    """Run the ``atexit`` handlers, flush the logs and output, and end the process at once."""
    atexit._run_exitfuncs()  # noqa: SLF001 - the standard library's own exit path, run before os._exit
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
