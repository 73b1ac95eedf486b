"""Live webcam views over a WebSocket, with Gradio's own webcam stream kept as the fallback.

Why not Gradio's stream alone: with ``gr.Image(streaming=True)`` every frame is a base64 JPEG inside a
JSON POST, goes through the queue, is written to Gradio's file cache and fetched back by the browser
with a second request, and an output image still loading is cancelled by the next one; measured in
Chromium (bench/bench_live_browser.py) that showed far fewer frames than the server made. Here one
WebSocket per live view carries binary JPEG frames both ways with two frames in flight.

The parts: ``frames`` (checked JPEG in, JPEG out, the message format), ``registry`` (tokens and
sockets, with per-address quotas), ``transport`` (the socket route and the frame loop), ``view`` (the
page side: gr.HTML with static/live.js and static/live.css, and the Gradio-stream fallback).
Long background jobs (run_politely, the Gatys stop registry) live in core/jobs.py.
"""
from __future__ import annotations

from demos.live.transport import (
    REGISTRY,
    ROUTE,
    LiveSpec,
    add_view,
    install_routes,
    process_frame,
    register,
    remove_view,
    streams_open,
    update,
)
from demos.live.view import live_view

__all__ = ["REGISTRY", "ROUTE", "LiveSpec", "add_view", "install_routes", "live_view", "process_frame",
           "register", "remove_view", "streams_open", "update"]
