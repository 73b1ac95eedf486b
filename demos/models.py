"""Models tab: every model the app knows, where its weights come from, and whether it is here."""
from __future__ import annotations

import gradio as gr
import pandas as pd

from core.models import ModelError, registry
from demos.common import idea_box, user_errors

INTRO = """### Models and their weights
**Bundled** models ship inside Python packages this app installs: they work offline, right away.
**Downloadable** ones are the classic torchvision / facenet-pytorch / smp-hub checkpoints: they are used
when they are in your local cache, or downloaded on first use when this machine is online.
Nothing loads until a tab needs it; then it loads once and stays in memory (`loaded`)."""

COLUMNS = ["name", "title", "task", "source", "status", "size_mb", "licence", "metrics", "note"]


def models_table() -> pd.DataFrame:
    """The registry report as a table (one row per model)."""
    rows = registry().report()
    for r in rows:
        r["metrics"] = ", ".join(f"{k} {v}" for k, v in r["metrics"].items())
    return pd.DataFrame(rows, columns=COLUMNS)


def downloadable_names() -> list[str]:
    reg = registry()
    return [s.name for s in reg.specs() if s.source == "downloadable"]


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
    return models_table(), f"✅ {name}: {reg.status_reason(name)}"


def build_models_tab() -> None:
    idea_box(INTRO)
    table = gr.Dataframe(value=models_table, interactive=False, wrap=True, label="Registry",
                         elem_id="models-table")
    with gr.Row():
        choice = gr.Dropdown(choices=downloadable_names(), label="Downloadable model", scale=3)
        download = gr.Button("Download to cache", variant="primary", scale=1)
        refresh = gr.Button("Refresh", scale=1)
    status = gr.Markdown()
    download.click(download_model, inputs=choice, outputs=[table, status], api_name="download_model",
                   concurrency_limit=1)
    refresh.click(models_table, outputs=table, api_name="models")
