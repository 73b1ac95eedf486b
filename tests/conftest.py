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


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """(base URL, process) of the real app, started once for the API and load tests."""
    from tests.app_server import running_app

    with running_app(tmp_path_factory.mktemp("api_app") / "app.log") as server:
        yield server


@pytest.fixture(autouse=True)
def settings_restored():
    """Each test starts with the settings the one before it found: an in-process `cvlab --offline ...`
    (core.cli.main) calls configure(), which would otherwise leak into every later test."""
    from core.config import SETTINGS

    saved = dict(vars(SETTINGS))
    yield
    vars(SETTINGS).update(saved)
