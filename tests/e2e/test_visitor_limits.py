"""A visitor over its job cap reads why in the page (demos/visitors.py), and the page keeps working:
here an app that allows one job per address, a Gatys run going, then a Segment click."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.app_server import running_app
from tests.e2e.conftest import SHOTS, launch, open_tab
from tests.security.visitor_client import PHOTO


@pytest.fixture(scope="module")
def strict_url(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("strict") / "app.log", "--jobs-per-address", "1") as (url, _):
        yield url


def test_a_job_over_the_cap_says_why(playwright_instance, strict_url):
    browser = launch(playwright_instance)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(strict_url)
        open_tab(page, "Style")
        page.locator("#style-examples img").first.click()
        page.locator("#style-content img").first.wait_for(timeout=60_000)
        page.get_by_role("tab", name="Quality (Gatys)").click()
        page.locator("#style-gatys-steps input[type=number]").fill("500")
        page.locator("#style-gatys-steps input[type=number]").press("Enter")
        started = page.locator("#style-gatys-status").get_by_text(re.compile(r"Starting|Step")).first
        for _ in range(12):
            # the page's own load jobs (the Models table, the saved gallery) count against this app's
            # one-job cap until they finish; the refusal then says to try again, which is what we do
            page.locator("#style-gatys-run").click()
            try:
                started.wait_for(timeout=20_000)
                break
            except PlaywrightTimeout:
                continue
        started.wait_for(timeout=1_000)
        open_tab(page, "Semantic")
        page.locator("#semantic-input input[type=file]").set_input_files(str(PHOTO))
        page.locator("#semantic-input img").first.wait_for(timeout=30_000)
        page.locator("#semantic-run").click()
        toast = page.get_by_text(re.compile("You already have 1 job running or queued: wait for it"))
        toast.first.wait_for(timeout=30_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "visitor_cap.png"))
        open_tab(page, "Style")
        page.locator("#style-gatys-stop").click()
        page.locator("#style-gatys-status").get_by_text("Stopped").first.wait_for(timeout=120_000)
    finally:
        browser.close()
