"""Work-arounds for Gradio bugs that affect this app; each with the reason and how it is tested.

Gradio 6.31's ``processing_utils.save_pil_to_cache`` / ``save_bytes_to_cache`` write an output to
``<cache>/<hash of its bytes>/<name>`` with ``Path.write_bytes``, which first truncates the file. When
two visitors get the same output at the same time (the same example photo, the same settings), one
request truncates the file while the other's browser is downloading it, and that download comes back
empty ("peer closed connection ... received 0 bytes"; seen in tests/test_load.py with 20 clients).
``save_file_to_cache`` in the same module already writes to a temporary name and renames into place;
``install()`` makes the other two do the same. The rename is atomic, so a reader sees the old complete
file or the new complete file, never a partial one.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradio import processing_utils

_INSTALLED = False


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    path = (folder / f"{name}.{format}").resolve()
    _write_atomically(path, data)
    return str(path)


_original_save_bytes = processing_utils.save_bytes_to_cache


def _save_bytes_to_cache(data: bytes, file_name: str, cache_dir: str) -> str:
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    if not Path(file_name).suffix:  # keep Gradio's own naming (audio format detection)
        return _original_save_bytes(data, file_name, cache_dir)
    path = (folder / Path(file_name).name).resolve()
    _write_atomically(path, data)
    return str(path)


def install() -> None:
    """Patch the two cache writers (idempotent)."""
    global _INSTALLED
    if not _INSTALLED:
        processing_utils.save_pil_to_cache = _save_pil_to_cache
        processing_utils.save_bytes_to_cache = _save_bytes_to_cache
        _INSTALLED = True
