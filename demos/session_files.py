"""Files a visitor's session makes on the server (exports, style downloads), and their removal.

Every such folder lives under ``ROOT/<session>/``: ``session_dir(prefix)`` makes one for the running
event's session (read from Gradio's request context, so callbacks need no extra parameter). They go:
* when the session ends: a browser tab's page closes (``demo.unload``, installed by ``install``), with
  the copies Gradio made of them in its cache for download;
* after ``ttl_s`` seconds whatever happens (API clients' sessions never "close"): ``start_sweeper``'s
  daemon thread sweeps every ``ttl_s / 4`` seconds.
So a visitor's exported embeddings never outlive their session on the server by more than the ttl.

The visitor's own uploads (photos, faces, clips in Gradio's upload folder) that a request of the session
used are listed in its folder (``note_uploads``) and go with it, unless another live session used the same
file (Gradio stores equal bytes once) or the bytes are a shipped example's. An upload no request ever used
is left to Gradio's cache sweep (the app's ``delete_cache``).
"""
from __future__ import annotations

import filecmp
import functools
import logging
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
from gradio.context import LocalContext

from demos.paths import ASSETS
from demos.uploads import real_path, upload_roots

log = logging.getLogger("cvlab")

ROOT = Path(tempfile.gettempdir()) / "cvlab-sessions"
"""Parent folder of every session's files."""

DEFAULT_TTL_S = 3600
"""Seconds a session's files are kept at most (the app's ``--session-file-ttl``)."""

_ANONYMOUS = "no-session"

UPLOADS_LIST = "uploads.list"
"""In a session's folder: the uploaded files its requests used, one real path a line."""

_UPLOADS_LOCK = threading.Lock()


def _session_key(session_hash: str | None) -> str:
    """A folder name for a session hash (a client-chosen string: only [A-Za-z0-9_-] kept, 64 at most)."""
    key = re.sub(r"[^A-Za-z0-9_-]", "", session_hash or "")[:64]
    return key or _ANONYMOUS


def _current_session() -> str | None:
    request = LocalContext.request.get(None)
    return getattr(request, "session_hash", None) if request is not None else None


def session_folder(session_hash: str | None) -> Path:
    """The folder holding one session's files (it may not exist)."""
    return ROOT / _session_key(session_hash)


def session_dir(prefix: str) -> Path:
    """A new, empty folder for one export of the current event's session (ROOT/<session>/<prefix>XXXX)."""
    base = session_folder(_current_session())
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


def _gradio_copy(path: Path) -> Path | None:
    """Where Gradio keeps its download copy of ``path`` (its cache is content-addressed)."""
    from gradio import processing_utils
    from gradio.utils import get_upload_folder
    from gradio_client import utils as client_utils

    try:
        digest = processing_utils.hash_file(path)
    except OSError:
        return None
    return Path(get_upload_folder()) / digest / client_utils.strip_invalid_filename_characters(path.name)


def _held_elsewhere(path: Path, copy: Path, folder: Path) -> bool:
    """Whether a file of another session has the same name and bytes as ``path`` (whose Gradio copy is
    ``copy``, named by its content hash): that session was handed the same copy (two visitors who ran the
    same example with the same settings), and its download must keep working."""
    from gradio import processing_utils

    size = path.stat().st_size
    for other in ROOT.rglob(path.name):
        try:
            if folder in other.parents or not other.is_file() or other.stat().st_size != size:
                continue
            if processing_utils.hash_file(other) == copy.parent.name:
                return True
        except OSError:
            continue
    return False


def note_uploads(session_hash: str | None, data) -> int:
    """Note every file of Gradio's upload folder that a queued job's ``data`` (its raw payload: lists
    and FileData dicts, as the client sent them) names, in that session's list, so that the files go
    when the session ends; returns how many. Called for each accepted job (``demos/visitors.py``),
    before anything reads the files. Paths outside the upload folder are ignored here (the job itself
    refuses them)."""
    if not session_hash:
        return 0
    root = upload_roots()[0]
    found = []
    for path in _payload_paths(data):
        real = real_path(path)
        if real is not None and real.is_relative_to(root) and real.is_file():
            found.append(str(real))
    if not found:
        return 0
    folder = session_folder(session_hash)
    with _UPLOADS_LOCK:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        listed = folder / UPLOADS_LIST
        known = set(listed.read_text().splitlines()) if listed.is_file() else set()
        new = [p for p in dict.fromkeys(found) if p not in known]
        if new:
            with listed.open("a") as f:
                f.writelines(f"{p}\n" for p in new)
        else:
            listed.touch()  # in use: the ttl counts from now
    return len(found)


def _payload_paths(data, depth: int = 0):
    """The ``path`` values of the file references in a raw payload (nested lists and dicts, 8 levels)."""
    if depth > 8:
        return
    if isinstance(data, dict):
        if "path" in data:
            yield data["path"]
        for value in data.values():
            if isinstance(value, (dict, list)):
                yield from _payload_paths(value, depth + 1)
    elif isinstance(data, list):
        for value in data:
            yield from _payload_paths(value, depth + 1)


@functools.lru_cache(maxsize=1)
def _shipped_by_size() -> dict[int, list[Path]]:
    sizes: dict[int, list[Path]] = {}
    for p in ASSETS.rglob("*"):
        if p.is_file():
            sizes.setdefault(p.stat().st_size, []).append(p)
    return sizes


def _is_shipped(path: Path) -> bool:
    """Whether ``path`` has the bytes of a shipped asset (Gradio's copy of an example: never private)."""
    return any(filecmp.cmp(path, p, shallow=False) for p in _shipped_by_size().get(path.stat().st_size, []))


def _release_uploads(folder: Path) -> int:
    """Delete the uploads listed in ``folder`` that no other session lists and that are not a shipped
    example's bytes; returns files deleted."""
    listed = folder / UPLOADS_LIST
    if not listed.is_file():
        return 0
    root = upload_roots()[0]
    removed = 0
    with _UPLOADS_LOCK:
        others = {line for other in ROOT.glob(f"*/{UPLOADS_LIST}") if other.parent != folder
                  for line in other.read_text().splitlines()}
        for line in listed.read_text().splitlines():
            path = real_path(line)
            if line in others or path is None or not path.is_relative_to(root) or not path.is_file() or _is_shipped(path):
                continue
            path.unlink(missing_ok=True)
            removed += 1
            try:
                path.parent.rmdir()  # Gradio's per-file folder
            except OSError:
                pass
    return removed


def remove_session(session_hash: str | None) -> int:
    """Delete one session's folder, Gradio's cached copies of its files and the uploads it used (those no
    other session holds too); returns files removed."""
    folder = session_folder(session_hash)
    if not folder.is_dir():
        return 0
    _release_uploads(folder)
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != UPLOADS_LIST]
    for path in files:
        copy = _gradio_copy(path)
        if copy is not None and copy.is_file() and not _held_elsewhere(path, copy, folder):
            copy.unlink(missing_ok=True)
            try:
                copy.parent.rmdir()
            except OSError:
                pass
    shutil.rmtree(folder, ignore_errors=True)
    return len(files)


def end_session(request: gr.Request) -> None:
    """``demo.unload`` listener: the page closed, its session's files go."""
    remove_session(getattr(request, "session_hash", None))


def sweep(ttl_s: float, now: float | None = None) -> int:
    """Remove every session folder untouched for ``ttl_s`` seconds; returns folders removed."""
    now = time.time() if now is None else now
    removed = 0
    if not ROOT.is_dir():
        return 0
    for folder in ROOT.iterdir():
        try:
            newest = max([folder.stat().st_mtime] + [p.stat().st_mtime for p in folder.rglob("*")])
        except OSError:
            continue
        if now - newest > ttl_s:
            remove_session(folder.name)
            removed += 1
    return removed


def install(demo: gr.Blocks) -> None:
    """Remove a session's files when its page closes (call inside the ``with demo:`` block), and close
    Gradio's deep-link route, which would write files of a session that nothing removes
    (``demos/deep_links.py``)."""
    from demos.deep_links import install as close_deep_links

    demo.unload(end_session)
    close_deep_links()


def start_sweeper(ttl_s: float = DEFAULT_TTL_S) -> threading.Thread:
    """Remove every session's files ``ttl_s`` seconds after they were last touched, from a daemon thread
    (started once by the app at launch)."""

    def loop() -> None:
        while True:
            time.sleep(max(5.0, ttl_s / 4))
            try:
                sweep(ttl_s)
            except Exception:  # noqa: BLE001 - the sweeper must keep running
                log.exception("session file sweep failed")

    thread = threading.Thread(target=loop, name="cvlab-session-sweep", daemon=True)
    thread.start()
    return thread
