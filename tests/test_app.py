"""The app builds with every tab, loads no model while building, and its flags parse."""
from __future__ import annotations

import app
from core.models import registry


def test_app_builds_all_tabs_without_loading_models():
    before = set(registry().loaded_names())  # other tests in this process may have loaded some
    demo = app.build_app()
    assert app.FAILED_TABS == {}, app.FAILED_TABS
    assert set(registry().loaded_names()) == before
    api_names = {dep.get("api_name") for dep in demo.config["dependencies"]}
    assert "models" in api_names and "download_model" in api_names


def test_flags():
    args = app.parse_args(["--host", "0.0.0.0", "--port", "9000", "--share", "--offline", "--device", "cpu",
                           "--max-side", "640"])
    assert (args.host, args.port, args.share, args.offline, args.device, args.max_side) == (
        "0.0.0.0", 9000, True, True, "cpu", 640)
    assert app.parse_args([]).port == 7860
    assert app.parse_args([]).max_sessions == app.MAX_SESSIONS < 10_000  # Gradio's own default grew without end
    assert app.parse_args(["--max-sessions", "20"]).max_sessions == 20


def test_every_tabs_holds_only_tabs():
    """A component (even a gr.State) placed in a gr.Tabs between two gr.Tab shifts the tab labels in the
    page (seen: the Faces sub-tabs read "Verify, Verify, Recognize", the Gallery tab unreachable)."""
    import gradio as gr

    demo = app.build_app()

    def walk(block):
        for child in getattr(block, "children", []):
            if isinstance(child, gr.Tabs):
                strays = [type(c).__name__ for c in child.children if not isinstance(c, gr.Tab)]
                assert not strays, f"non-Tab children in a gr.Tabs: {strays}"
            walk(child)

    walk(demo)
