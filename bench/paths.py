"""Where the benchmarks find the repository. Every file in bench/ runs as part of the ``bench``
package from the repository root (``python -m bench`` for all of them, ``python -m bench.<name>``
for one), so ``core``, ``demos``, ``tests`` and ``bench`` import without touching ``sys.path``."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the folder holding app.py): the working folder for subprocesses."""
ASSETS = ROOT / "assets"
"""Bundled photos, faces and styles used as benchmark inputs."""
