"""A clip dropped on a photo input: the page says it is a video and where clips go (the browser refuses
it before uploading; the server-side refusal is tests/security/test_uploads.py)."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import open_tab

pytestmark = pytest.mark.e2e


def test_a_clip_dropped_on_the_page_says_where_clips_go(page, tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2000)
    open_tab(page, "Semantic")
    page.locator("#semantic-input input[type=file]").set_input_files(str(clip))
    page.get_by_text("clip.mp4 is a video, not a photo").first.wait_for(timeout=30_000)
    assert page.get_by_text('"Clip" input').count() >= 1
