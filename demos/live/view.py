"""A live view in the page: the fast WebSocket pane (static/live.js, static/live.css) with Gradio's
own webcam stream, in a closed accordion below it, as the fallback.

Pressing Record fires the view's Gradio ``submit`` event with a token the page made; that event
registers the view's settings (its inputs' values in this visitor's session) under the token, and each
later change of those inputs updates the registration (transport.register / transport.update). The
page's socket then presents the token (demos/live/transport.py).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

import gradio as gr

from demos.common import webcam_stream
from demos.live import transport
from demos.visitors import address_of

STATIC = Path(__file__).resolve().parent / "static"


@functools.lru_cache(maxsize=None)
def static_text(name: str) -> str:
    """The text of demos/live/static/<name> (read once)."""
    return (STATIC / name).read_text(encoding="utf-8")


def _html(name: str, cam_id: str, out_id: str, info_id: str, out_label: str, height: int | None) -> str:
    return f"""
<div class="cvlab-live" data-view="{name}" data-height="{height or ''}">
  <div class="cvlab-live-row">
    <div id="{cam_id}" class="cvlab-live-pane cvlab-live-cam">
      <span class="cvlab-live-label">Webcam</span>
      <video playsinline muted autoplay></video>
      <p class="cvlab-live-paused">Recording: your camera's frames go to the server and come back on the
        right. This preview pauses meanwhile, so your browser spends its time on the result.</p>
      <button class="cvlab-live-btn cvlab-live-access" type="button">Click to Access Webcam</button>
      <button class="cvlab-live-btn cvlab-live-record" type="button" hidden>Record</button>
    </div>
    <div id="{out_id}" class="cvlab-live-pane cvlab-live-out"><span class="cvlab-live-label">{out_label}</span></div>
  </div>
  <div id="{info_id}" class="cvlab-live-info prose"></div>
</div>"""


def _wire_registration(name: str, html: gr.HTML, inputs: list) -> None:
    """Record -> register the settings under the page's token; input changes -> update them."""
    token = gr.State(None)

    def register(evt: gr.EventData, request: gr.Request, *values):
        tok = evt._data.get("token") if isinstance(evt._data, dict) else None
        refused = transport.register(name, tok, list(values), address_of(request))
        if refused:
            gr.Warning(f"Live view not started: {refused}")
            return None
        return tok

    def update(tok, *values):
        transport.update(name, tok, list(values))

    html.submit(register, inputs, token, api_visibility="private", show_progress="hidden", queue=False)
    for comp in inputs:
        if hasattr(comp, "change"):
            comp.change(update, [token, *inputs], None, api_visibility="private", show_progress="hidden",
                        queue=False)


def live_view(name: str, fn: Callable[..., tuple[Any, str, Any]], inputs: list, *, cam_id: str, out_id: str,
              info_id: str, out_label: str, height: int | None = None, time_limit: float = 600,
              fallback_every: float = 0.05, prepare: Callable[[list], list] | None = None) -> dict:
    """Build one live view in the current Blocks context and wire both transports.

    ``fn(frame, *inputs, state) -> (image, status markdown, state)``: frame RGB uint8 (H, W, 3) from the
    visitor's camera (640x480, mirrored), image RGB uint8 or None/gr.skip() to keep the last one.
    ``inputs``: the components whose values ``fn`` reads (a face gallery State, sliders, ...).
    ``prepare(values) -> values``: run on the settings once per registration or change, not per frame
    (the socket transport only; the Gradio stream passes the raw values).
    The fast view carries ``cam_id`` / ``out_id`` / ``info_id``; the Gradio-stream fallback, in a closed
    accordion below it, the same ids with ``-gradio`` appended. Returns the components made."""
    transport.add_view(transport.LiveSpec(name, fn, time_limit, prepare))
    html = gr.HTML(_html(name, cam_id, out_id, info_id, out_label, height), js_on_load=static_text("live.js"),
                   css_template=static_text("live.css"), elem_id=f"{name}-live-view", apply_default_css=True)
    with gr.Accordion("Not working? Gradio's own webcam stream (slower)", open=False,
                      elem_id=f"{name}-live-fallback"):
        browser_fps = gr.HTML("", elem_id=f"{info_id}-gradio-shown", js_on_load=static_text("fallback.js").replace(
            "__OUT__", f"{out_id}-gradio"), apply_default_css=True)
        with gr.Row():
            cam = webcam_stream(f"{cam_id}-gradio", height=height)
            out = gr.Image(label=out_label, format="jpeg", interactive=False, elem_id=f"{out_id}-gradio",
                           height=height)
        text = gr.Markdown(elem_id=f"{info_id}-gradio")
    state = gr.State(None)
    _wire_registration(name, html, inputs)
    cam.stream(fn, [cam, *inputs, state], [out, text, state], stream_every=fallback_every, time_limit=time_limit,
               concurrency_limit=2, show_progress="hidden", api_name=f"{name}_live")
    cam.clear(lambda: (None, "", None), outputs=[out, text, state], api_visibility="private")
    return {"html": html, "cam": cam, "out": out, "text": text, "state": state, "browser_fps": browser_fps}
