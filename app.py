"""CV Lab: builds the Gradio app from the tabs in demos/ and launches it.

    python app.py [--host 127.0.0.1] [--port 7860] [--share] [--offline]
                  [--device auto|cpu|cuda|mps] [--max-side 1024] [--trust-forwarded] ...
                  (python app.py --help lists every flag)

Nothing heavy happens here: no model loads at import or start-up; each model
loads on first use (core.models) and is then cached.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
from pathlib import Path

from demos.shutdown import exit_now, stop_on_sigterm

if __name__ == "__main__":
    stop_on_sigterm()  # first: a stop during the seconds of imports below is prompt too (PID 1 in a container)

import gradio as gr  # noqa: E402

from core.config import configure  # noqa: E402
from demos import gradio_fixes, limits, session_files, visitors  # noqa: E402
from demos.common import check_uploads_on_arrival  # noqa: E402
from demos.video import configure_clips  # noqa: E402
from demos.layout import wrap_tab_strips  # noqa: E402

HERE = Path(__file__).resolve().parent

TABS = (
    # (tab title, module, builder)
    ("Semantic", "demos.semantic", "build_semantic_tab"),
    ("Instance", "demos.instance", "build_instance_tab"),
    ("Panoptic", "demos.panoptic", "build_panoptic_tab"),
    ("Faces", "demos.faces", "build_faces_tab"),
    ("Style", "demos.style", "build_style_tab"),
    ("Models", "demos.models", "build_models_tab"),
)

HEADER = """# CV Lab
Modern computer-vision models at work on your own photos and webcam, with the ideas behind them made
visible. Pick a tab; everything runs on this server's CPU with real pretrained weights."""

CSS_FILE = HERE / "demos" / "static" / "app.css"
"""The app's own styles (layout fixes, the phone layout): a real CSS file, passed to Gradio at launch."""


def build_app() -> gr.Blocks:
    """The whole UI as a gr.Blocks (not launched)."""
    gradio_fixes.install()
    with gr.Blocks(title="CV Lab", analytics_enabled=False, delete_cache=(1800, 3600)) as demo:
        gr.Markdown(HEADER)
        with gr.Tabs():
            for title, module, builder in TABS:
                with gr.Tab(title, id=title.lower()):
                    _build_tab(title, module, builder)
        check_uploads_on_arrival(demo)
        session_files.install(demo)  # a session's export folders go when its page closes
    wrap_tab_strips(demo)  # every tab's name visible on a phone (demos/layout.py)
    return demo


FAILED_TABS: dict[str, str] = {}
"""Tabs whose builder raised, with the reason (the app-build test asserts this stays empty)."""


def _build_tab(title: str, module: str, builder: str) -> None:
    """Build one tab; a tab that cannot be built says why instead of taking the app down."""
    try:
        getattr(importlib.import_module(module), builder)()
    except Exception as exc:  # noqa: BLE001 - one broken tab must not break the others
        logging.getLogger("cvlab").exception("tab %s failed to build", title)
        FAILED_TABS[title] = f"{type(exc).__name__}: {exc}"
        gr.Markdown(f"**The {title} tab is unavailable here:** {FAILED_TABS[title]}")


MAX_SESSIONS = 200
"""Sessions whose gr.State values (cached results with their masks, a face gallery) the server keeps,
the least recently used dropped first. Gradio keeps 10,000 by default, and an API client's session
never closes (a browser tab's is dropped an hour after it closes), so scripted calls grew the app by
~100 MB every 12 s of 20 clients (tests/test_load.py's windows) with no end; capped at 20 sessions
the growth fell to 9-44 MB a window by the fifth. At a few MB a session, 200 bound it to about 1 GB."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="CV Lab web app")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    p.add_argument("--share", action="store_true", help="also serve on a public gradio.live link")
    p.add_argument("--offline", action="store_true", help="never try to download weights")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--max-side", type=int, default=1024,
                   help="working resolution cap: longest image side in pixels (default 1024)")
    p.add_argument("--max-sessions", type=int, default=MAX_SESSIONS,
                   help=f"visitor sessions whose results stay in memory (default {MAX_SESSIONS})")
    p.add_argument("--clip-seconds", type=float, default=20.0, help="video: seconds of a visitor's clip used (default 20)")
    p.add_argument("--clip-side", type=int, default=640, help="video: longest side of processed clip frames (default 640)")
    limits.add_flags(p)
    visitors.add_flags(p)  # per-visitor limits (demos/visitors.py)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    configure(offline=args.offline or None, device=args.device, max_side=args.max_side)
    configure_clips(args.clip_seconds, args.clip_side, args.clip_frames, args.clip_budget)  # before the panels say them
    limits.apply(args)
    demo = build_app()
    demo.queue(default_concurrency_limit=2, max_size=64)
    visitors.apply_flags(demo, args)
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        css_paths=[CSS_FILE],
        theme=gr.themes.Soft(),
        max_file_size="25mb",
        allowed_paths=[str(HERE / "assets")],
        show_error=True,
        prevent_thread_lock=True,
        state_session_capacity=args.max_sessions,
    )
    from demos.live import install_routes

    install_routes(demo.app, getattr(demo, "server", None))  # the live webcam views' WebSocket (demos/live/)
    demo.block_thread()  # returns once SIGTERM or Ctrl-C has closed the server
    exit_now()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # SIGTERM or Ctrl-C during start-up: stop now, without the slow teardown
        exit_now()
