"""Where the app's shipped files are."""
from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
"""The shipped example photos, clips, styles and faces (read-only)."""
