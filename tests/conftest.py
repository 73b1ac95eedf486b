"""Shared fixtures: paths of the bundled example photos."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PHOTOS = ROOT / "assets" / "photos"


@pytest.fixture(scope="session")
def photos() -> Path:
    return PHOTOS
