"""The key Gradio's ``gr.BrowserState`` encrypts a visitor's kept values with, stable across restarts.

Gradio's default is a new random key per launch, so every restart made every visitor's kept gallery
unreadable. The key is sent to every page (the browser encrypts with it), so it protects nothing against
the visitor: whatever comes back from a browser is validated like an upload (``demos.faces.shared``).
Source, in order: ``$CVLAB_BROWSER_SECRET``; else the file ``browser-state-secret`` in CV Lab's cache
folder (``core.models.cache_dir()``), created once with mode 0600; else (read-only disk) one key for this
process, with a warning in the log.
"""
from __future__ import annotations

import functools
import logging
import os
import secrets

from core.models import cache_dir

ENV = "CVLAB_BROWSER_SECRET"
FILE_NAME = "browser-state-secret"

log = logging.getLogger("cvlab")


def _read(path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


@functools.lru_cache(maxsize=1)
def browser_state_secret() -> str:
    """The BrowserState key (see the module docstring for where it comes from)."""
    if os.environ.get(ENV):
        return os.environ[ENV]
    path = cache_dir() / FILE_NAME
    existing = _read(path)
    if existing:
        return existing
    key = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(key)
        return key
    except FileExistsError:  # another process made it first: use theirs
        return _read(path) or key
    except OSError as exc:
        log.warning("cannot keep the browser-state key in %s (%s): kept galleries will not survive a restart",
                    path, exc)
        return key
