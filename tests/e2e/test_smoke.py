"""The app opens in a real browser and shows every tab."""
from __future__ import annotations

from tests.e2e.conftest import open_tab, shoot

TABS = ["Semantic", "Instance", "Panoptic", "Faces", "Style", "Models"]


def test_all_tabs_present_and_models_table(page):
    for name in TABS:
        assert page.get_by_role("tab", name=name, exact=True).count() >= 1, name
    open_tab(page, "Models")
    page.get_by_text("Models and their weights").wait_for()
    table = page.locator("#models-table")
    table.get_by_text("blazepose-multi").first.wait_for()
    assert table.get_by_text("ready").count() >= 1 and table.get_by_text("bundled").count() >= 1
    shoot(page, "models_tab")
    assert "unavailable here" not in page.content()  # no tab failed to build
