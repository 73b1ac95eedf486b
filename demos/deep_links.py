"""Gradio's deep-link route, closed: ``GET /gradio_api/deep_link?session_hash=<id>`` answers 404.

Gradio 6 serves that route to anyone: for any session the server holds it writes the whole app's
config with that session's component values (about 600 kB here: result tables, summaries, a face
gallery's names) to ``<upload folder>/deep_links/<hash>/state.json`` and returns the hash, and
``/?deep_link=<hash>`` then shows those values to whoever has the link. The files belong to no
session and no cache set, so neither the session's end nor ``delete_cache`` ever removes them: a
client that changes its own session's state between calls grows the disk by ~0.6 MB a request,
without bound. The app has no "share this result" button that needs the route, so it is replaced
by a 404 (pages served with ``?deep_link=`` still load, with nothing to restore), and the files an
earlier run of the server left are removed when the app is created.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from starlette.responses import JSONResponse
from starlette.routing import Route

PATH = "/gradio_api/deep_link"


async def _not_found(request) -> JSONResponse:
    return JSONResponse({"detail": "Not Found"}, status_code=404)


def refuse(app) -> int:
    """Replace the deep-link route(s) of ``app`` (a Starlette/FastAPI app) by a 404 and remove the
    deep-link files already on disk; returns how many routes were replaced."""
    from gradio.utils import get_upload_folder

    shutil.rmtree(Path(get_upload_folder()) / "deep_links", ignore_errors=True)
    routes = app.router.routes
    replaced = 0
    for i, route in enumerate(routes):
        if getattr(route, "path", None) == PATH:
            routes[i] = Route(PATH, _not_found, methods=["GET", "HEAD"])
            replaced += 1
    return replaced


def install() -> None:
    """Make every Gradio app this process creates refuse the route (Gradio builds its app at launch;
    ``routes.App.create_app`` is wrapped once, process-wide)."""
    from gradio import routes

    create = routes.App.create_app
    if getattr(create, "cvlab_deep_links", False):
        return

    def create_app(*args, **kwargs):
        app = create(*args, **kwargs)
        refuse(app)
        return app

    create_app.cvlab_deep_links = True
    routes.App.create_app = staticmethod(create_app)
