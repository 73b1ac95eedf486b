"""Faces tab, shared pieces: the intro texts, the per-visitor gallery kept as JSON in ``gr.State``
(helpers to read it and list it), and the model / threshold controls every sub-tab uses."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from core import faces as F
from core import models
from core.faces.gallery import Gallery
from demos.common import (
    ASSETS,
)
from demos.faces import svg as face_svg

FACES_DIR = ASSETS / "faces"
PEOPLE_DIR = FACES_DIR / "people"

INTRO = """### Faces: one photo is enough to recognise someone
A face **detector** finds each face and 5 landmarks (eyes, nose, mouth corners); the face is **aligned**
(rotated and scaled so the landmarks sit in fixed places) and an **embedding network** turns it into a
short vector: 128 numbers for SFace. It was trained so that photos of the same person land close together
and photos of different people far apart. So recognising someone new needs no retraining: enrol one photo,
then compare vectors against a **threshold**. Each tab below shows one piece of that idea."""

PRIVACY = """**Your gallery stays yours.** It holds only embeddings (lists of numbers, no photos), lives in
this browser tab's session (private to you, dropped when you close the tab) and, only if you tick the box,
in your own browser's storage. Photos and webcam frames are processed in memory for the request and not
kept by this app (Gradio's temporary display files are deleted automatically). Nothing is shared
between visitors."""

FACE_CHOICES = ["largest"] + [str(i) for i in range(1, 11)]
MATCH_MODES = [("nearest enrolled photo", "nearest"), ("person's mean embedding", "mean")]



# --------------------------------------------------------------------------- gallery state helpers
def embedder_dim(embedder: str) -> int:
    return int(F.embedder_meta(embedder)["dim"])


def known_models() -> dict[str, int]:
    """Embedding models a gallery may come from: name -> embedding length."""
    return {name: embedder_dim(name) for name in F.EMBEDDERS}


def gallery_of(doc: Any, embedder: str | None = None) -> Gallery:
    """The session's gallery (a JSON dict in gr.State) as a Gallery; None -> empty for ``embedder``.
    Validated like an import (a document from a browser is a stranger's)."""
    if not doc:
        name = embedder or F.DEFAULT_EMBEDDER
        return Gallery.empty(name, embedder_dim(name))
    return Gallery.from_dict(doc, known=known_models())


def doc_of(gallery: Gallery) -> dict | None:
    return gallery.to_dict() if len(gallery) else None


def gallery_table(gallery: Gallery) -> pd.DataFrame:
    rows = [{"person": name, "photos": len(es), "from": ", ".join(e.source or "?" for e in es)}
            for name, es in gallery.people.items()]
    return pd.DataFrame(rows, columns=["person", "photos", "from"])


def gallery_summary(gallery: Gallery) -> str:
    if not len(gallery):
        return "_The gallery is empty: enrol someone, or load the example gallery._"
    return (f"**{len(gallery)} people, {gallery.n_photos} photos** · model `{gallery.model}` "
            f"({gallery.dim} numbers per photo)")


def face_index(choice: str | None) -> int | None:
    """The face a "Face" dropdown picked: None for the largest, else its 0-based index."""
    if not choice or choice == "largest":
        return None
    return int(choice) - 1


def threshold_for(embedder: str, threshold: float | None) -> float:
    """The decision threshold: the one given, else the embedder's own (model metadata)."""
    meta = F.embedder_meta(embedder)
    return float(meta["threshold"] if threshold is None else threshold)


# --------------------------------------------------------------------------- model / threshold
def threshold_slider_update(embedder: str):
    """The threshold slider for ``embedder``: its range follows the model's measure, value = default."""
    meta = F.embedder_meta(embedder)
    lo, hi = face_svg.axis_range(meta["metric"])
    what = "cosine similarity ≥" if meta["metric"] == "cosine" else "distance ≤"
    return gr.Slider(minimum=max(lo, 0.0), maximum=hi, value=float(meta["threshold"]), step=0.005,
                     label=f"Decision threshold (same person when {what} this)",
                     info=f"The model's default is {meta['threshold']} (source below).", scale=3)


def model_note(embedder: str) -> str:
    reg = models.registry()
    spec = models.get(embedder)
    status = reg.status(embedder)
    meta = spec.meta
    text = (f"`{embedder}`: {spec.description} Compared by **{meta['metric']}**, default threshold "
            f"**{meta['threshold']}** ({meta['threshold_source']}).")
    if status not in ("loaded", "ready", "cached"):
        text += f"  \n**Warning:** {reg.status_reason(embedder)}"
    return text


def on_model_change(embedder: str, doc: Any):
    note = model_note(embedder)
    if doc and doc.get("model") != embedder:
        note += (f"  \n**Warning:** your gallery holds `{doc.get('model')}` embeddings: recognition and enrolment need "
                 f"that model (embeddings of different models cannot be compared). Forget the gallery to start over.")
    return threshold_slider_update(embedder), note




def example_path(path: Path) -> list[str]:
    """``[str(path)]`` when the example file exists (so a missing asset drops the example, not the tab)."""
    return [str(path)] if path.is_file() else []


@dataclass
class SharedControls:
    """Components every sub-tab reads: the visitor's gallery (JSON in ``gr.State``), detector, embedder
    and decision threshold."""

    gallery_state: Any
    detector: Any
    embedder: Any
    threshold: Any
