"""Models tab: every model the app knows, where its weights come from, and whether it is here."""
from __future__ import annotations

import gradio as gr
import pandas as pd

from core.config import SETTINGS
from core.models import ModelError, registry
from demos.common import idea_box, user_errors

INTRO = """### Models and their weights
**Bundled** models ship inside Python packages this app installs: they work offline, right away.
**Downloadable** ones are the classic torchvision / facenet-pytorch / smp-hub checkpoints: they are used
when they are in your local cache, or downloaded on first use when this machine is online.
Nothing loads until a tab needs it; then it loads once and stays in memory (`loaded`)."""

COLUMNS = ["name", "task", "source", "status", "size_mb", "licence", "metrics", "note"]
WIDTHS = ["175px", "105px", "85px", "105px", "65px", "140px", "165px", "340px"]
"""Fixed column widths, 1180 px in all (the tab's width on a desktop screen): each column stays readable on
any screen; where the screen is narrower (a phone), the table scrolls sideways instead of squeezing its
columns to one letter."""


def models_table() -> pd.DataFrame:
    """The registry report as a table (one row per model), with the live status."""
    rows = registry().report()
    for r in rows:
        r["metrics"] = ", ".join(f"{k} {v}" for k, v in r["metrics"].items())
        if r["status"] == "unavailable":
            r["status"] = "not available here"
    return pd.DataFrame(rows, columns=COLUMNS)


def downloadable_names() -> list[str]:
    """Models that can be downloaded from here now (not in the cache, downloads allowed)."""
    reg = registry()
    return [s.name for s in reg.specs() if reg.status(s.name) == "downloadable"]


def download_note() -> str:
    """Why nothing can be downloaded here, and how to get the missing models (empty when something can)."""
    reg = registry()
    missing = [s.name for s in reg.specs() if reg.status(s.name) == "unavailable"]
    if downloadable_names() or not missing:
        return ""
    why = ("This app runs **offline** (`--offline`): it never downloads." if SETTINGS.offline
           else "Nothing here can be downloaded.")
    return (f"{why} **Not available here:** {', '.join(f'`{n}`' for n in missing)}. To get them, run "
            f"`cvlab prefetch NAME` on a machine with internet access and copy its torch / Hugging Face cache "
            f"here (or start the app without `--offline` where it is online). Each row's note names the files.")


def download_controls():
    """The download picker and button: offered only for models that can be downloaded from here."""
    names = downloadable_names()
    return (gr.Dropdown(choices=names, value=None, interactive=bool(names),
                        label="Downloadable model" if names else "Downloadable model (none can be downloaded here)"),
            gr.Button(interactive=bool(names)), download_note())


@user_errors
def download_model(name: str, progress=gr.Progress(track_tqdm=True)):
    """Fetch one downloadable model's weights into the local cache (with progress)."""
    if not name:
        raise gr.Error("Choose a model to download.")
    reg = registry()
    progress(0, desc=f"Downloading {name}")
    try:
        reg.fetch(name, progress=True)
    except ModelError as exc:
        raise gr.Error(str(exc)) from None
    return models_table(), f"**Downloaded** {name}: {reg.status_reason(name)}"


def refresh():
    return (models_table(), *download_controls())


def build_models_tab() -> None:
    idea_box(INTRO)
    table = gr.Dataframe(value=models_table, interactive=False, wrap=True, label="Registry",
                         column_widths=WIDTHS, elem_id="models-table")
    names = downloadable_names()
    with gr.Row():
        choice = gr.Dropdown(choices=names, label="Downloadable model", interactive=bool(names), scale=3,
                             elem_id="models-download-choice")
        download = gr.Button("Download to cache", variant="primary", interactive=bool(names), scale=1,
                             elem_id="models-download")
        refresh_btn = gr.Button("Refresh", scale=1)
    note = gr.Markdown(download_note(), elem_id="models-download-note")
    status = gr.Markdown()
    download.click(download_model, inputs=choice, outputs=[table, status], api_name="download_model",
                   concurrency_limit=1)
    refresh_btn.click(models_table, outputs=table, api_name="models")
    refresh_btn.click(download_controls, outputs=[choice, download, note], api_name=False)
    # the statuses change as tabs load models: show them fresh whenever this tab is opened
    tab = gr.context.Context.block
    if isinstance(tab, gr.Tab):
        tab.select(refresh, None, [table, choice, download, note], api_name=False, show_progress="hidden")
