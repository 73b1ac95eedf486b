"""No emoji in what the app shows: where no emoji font is installed (a headless server, many Linux
desktops) they render as empty boxes. Verdicts and warnings are words (or SVG) instead."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# pictographs, dingbats, misc symbols and the emoji variation selector (which turns e.g. U+26A0 into an emoji)
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2139\uFE0F]")


def test_no_emoji_in_the_app_sources():
    found = []
    for path in [ROOT / "app.py", *sorted((ROOT / "demos").rglob("*.py")), *sorted((ROOT / "demos").rglob("*.css"))]:
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if EMOJI.search(line):
                found.append(f"{path.relative_to(ROOT)}:{no}: {line.strip()[:80]}")
    assert not found, "\n".join(found)
