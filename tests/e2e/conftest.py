"""Browser tests: the real app in a subprocess, driven by Debian's chromium through playwright.

Fixtures:
    app_url      base URL of the app, started once per session with `app.py --offline`.
    browser      a headless chromium (one per session).
    page         a fresh page on the app's front page (new context per test).
    camera_page  factory: camera_page(y4m_path) -> page whose webcam plays that file.
Screenshots go to tests/e2e/screenshots/ (git-ignored) via ``shoot(page, name)``.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.app_server import running_app

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "e2e" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BASE_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def _need_browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CVLAB_REQUIRE_BROWSER"):
            pytest.fail("chromium is required (apt-get install chromium) but not installed")
        pytest.skip("chromium not installed (apt-get install chromium)")


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    _need_browser()
    with running_app(tmp_path_factory.mktemp("app") / "app.log") as (url, _proc):
        yield url


@pytest.fixture(scope="session")
def playwright_instance():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


def launch(pw, extra_args=()):
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=BASE_ARGS + list(extra_args))


@pytest.fixture(scope="session")
def browser(playwright_instance):
    b = launch(playwright_instance)
    yield b
    b.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    p = context.new_page()
    p.set_default_timeout(60_000)
    p.goto(app_url)
    p.wait_for_selector("button[role=tab]", timeout=60_000)
    yield p
    context.close()


@pytest.fixture
def camera_page(playwright_instance, app_url):
    """Factory: camera_page(y4m_path) -> a page whose getUserMedia plays that .y4m file."""
    opened = []

    def make(y4m_path):
        b = launch(playwright_instance, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                         f"--use-file-for-fake-video-capture={y4m_path}"])
        context = b.new_context(viewport={"width": 1400, "height": 1000}, permissions=["camera"])
        p = context.new_page()
        p.set_default_timeout(60_000)
        p.goto(app_url)
        p.wait_for_selector("button[role=tab]", timeout=60_000)
        opened.append(b)
        return p

    yield make
    for b in opened:
        b.close()


def open_tab(page, name: str) -> None:
    """Click the top-level tab called ``name``."""
    page.get_by_role("tab", name=name, exact=True).first.click()


def start_recording(page, cam_selector: str) -> None:
    """Open a streaming gr.Image's webcam ("Click to Access Webcam") and press its Record button."""
    import re

    cam = page.locator(cam_selector)
    cam.get_by_text(re.compile("access webcam", re.I)).first.click()
    # the streaming webcam's button shows "Record" (its aria-label says "capture photo")
    record = cam.locator("button:visible", has_text=re.compile("record", re.I)).first
    record.wait_for(timeout=30_000)
    record.click()


def upload_until_listed(page, selector: str, *paths: Path) -> None:
    """Set a gr.File's input to ``paths`` ONCE and wait until the component lists exactly those files.

    Gradio 6 lists a finished upload as ``<td class="filename" aria-label="1.jpg">`` with the stem and
    the extension in separate spans, so the text "1.jpg" is on screen only while the upload is in
    flight. Waiting for that text missed fast uploads; an older version of this helper then uploaded
    again, and a multiple gr.File appends, so the same photo was listed (and enrolled) twice."""
    names = [Path(p).name for p in paths]
    page.locator(f"{selector} input[type=file]").set_input_files([str(p) for p in paths])
    page.wait_for_function(
        "([sel, names]) => { const cells = [...document.querySelectorAll(sel + ' td.filename')]"
        ".map(c => c.getAttribute('aria-label'));"
        " return cells.length === names.length && names.every(n => cells.includes(n)); }",
        arg=[selector, names], timeout=30_000)


def listed_files(page, selector: str) -> list[str]:
    """Names of the files a gr.File lists now."""
    return page.eval_on_selector_all(f"{selector} td.filename", "cells => cells.map(c => c.getAttribute('aria-label'))")


def shoot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
