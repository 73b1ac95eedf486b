"""Faces tab: verification, a per-visitor gallery, recognition (photo + live webcam), calibration and
the ideas of one-shot learning (triplet loss, a Siamese binary classifier, a 2-D map of embeddings).

The gallery is plain JSON (embeddings only, no images) kept in ``gr.State`` for this browser tab,
optionally mirrored into the visitor's own browser storage (``gr.BrowserState``). Nothing lives in
module globals, so no two visitors ever see each other's gallery.
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from core import faces as F
from core.faces.gallery import Gallery, GalleryError
from demos.common import idea_box, runnable_choices, unavailable_info
from demos.faces.calibrate import build_calibrate_tab
from demos.faces.gallery import build_gallery_tab
from demos.faces.learn import build_learn_tab, default_pair, default_triplet
from demos.faces.recognize import build_recognize_tab
from demos.faces.shared import (
    INTRO,
    PRIVACY,
    SharedControls,
    embedder_dim,
    gallery_of,
    gallery_summary,
    gallery_table,
    model_note,
    on_model_change,
    threshold_slider_update,
)
from demos.faces.verify import build_verify_tab


def refresh_views(doc: Any):
    """Everything that lists the gallery: table, summary and the pickers of every sub-tab."""
    try:
        gallery = gallery_of(doc)
    except GalleryError:
        gallery = Gallery.empty(F.DEFAULT_EMBEDDER, embedder_dim(F.DEFAULT_EMBEDDER))
    names = gallery.names
    photos = gallery.photo_labels()
    person = gr.Dropdown(choices=names, value=names[0] if names else None)
    photo = gr.Dropdown(choices=photos, value=photos[0][1] if photos else None)
    a, p, n = default_triplet(gallery)
    pair_a, pair_b = default_pair(gallery)
    return (gallery_table(gallery), gallery_summary(gallery), person, person, photo,
            gr.Dropdown(choices=photos, value=a), gr.Dropdown(choices=photos, value=p),
            gr.Dropdown(choices=photos, value=n), gr.Dropdown(choices=photos, value=pair_a),
            gr.Dropdown(choices=photos, value=pair_b))


def build_faces_tab() -> None:
    idea_box(INTRO)
    gallery_state = gr.State(None)
    # settings and notes fold away: each sub-tab's inputs and its answer come first on screen
    with gr.Accordion("Settings: face detector, embedding model, decision threshold · privacy", open=False,
                      elem_id="faces-settings"):
        with gr.Row():
            detector = gr.Dropdown(choices=[("YuNet (fast)", "yunet"), ("MTCNN", "mtcnn")], value="yunet",
                                   label="Face detector", scale=1, min_width=140)
            embedder = gr.Dropdown(choices=runnable_choices(list(F.EMBEDDERS)), value=F.DEFAULT_EMBEDDER,
                                   label="Embedding model", info=unavailable_info(list(F.EMBEDDERS)), scale=2,
                                   min_width=200)
            threshold = threshold_slider_update(F.DEFAULT_EMBEDDER)
        model_md = gr.Markdown(model_note(F.DEFAULT_EMBEDDER))
        gr.Markdown(PRIVACY)

    controls = SharedControls(gallery_state, detector, embedder, threshold)
    with gr.Tabs():
        verify = build_verify_tab(controls)
        gallery = build_gallery_tab(controls)
        build_recognize_tab(controls)
        build_calibrate_tab(controls)
        learn = build_learn_tab(controls)

    embedder.change(on_model_change, [embedder, gallery_state], [threshold, model_md], api_name=False)
    gallery_outputs = [gallery["table"], gallery["summary_md"], verify["verify_person"], gallery["manage_person"],
                       gallery["manage_photo"], learn["t_anchor"], learn["t_pos"], learn["t_neg"], learn["pair_a"],
                       learn["pair_b"]]
    gallery_state.change(refresh_views, [gallery_state], gallery_outputs, api_name=False, show_progress="hidden")
