"""Faces tab, Recognize: name every face of a photo or of the live webcam from the gallery (or
say unknown)."""
from __future__ import annotations

import time
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from core import faces as F
from core.faces.gallery import Gallery
from demos.common import (
    ImageInput,
    read_upload,
    timings_table,
    user_errors,
)
from demos.faces.shared import (
    FACES_DIR,
    MATCH_MODES,
    PEOPLE_DIR,
    SharedControls,
    threshold_for,
    embedder_dim,
    gallery_of,
)
from demos.live import live_view
from demos.video import clip_panel, faces_clip


# --------------------------------------------------------------------------- Recognize
def _matches_table(rec) -> pd.DataFrame:
    rows = []
    for i, m in enumerate(rec.matches, 1):
        value = m.similarity if rec.metric == "cosine" else m.distance
        rows.append({"face": i, "name": m.name or "unknown", "closest": m.best_name or "-",
                     ("similarity" if rec.metric == "cosine" else "distance"): None if m.best_name is None
                     else round(float(value), 3),
                     "box": ", ".join(f"{v:.0f}" for v in m.box), "note": "small face" if m.small else ""})
    return pd.DataFrame(rows, columns=["face", "name", "closest",
                                       "similarity" if rec.metric == "cosine" else "distance", "box", "note"])


@user_errors
def recognize_photo(img, doc: Any, detector: str, embedder: str, threshold: float | None, mode: str):
    """Box and name every face of a photo (unknown below the threshold)."""
    rgb = read_upload(img)
    gallery = gallery_of(doc, embedder)
    if len(gallery) and gallery.model != embedder:
        raise gr.Error(f"Your gallery holds '{gallery.model}' embeddings; select that model to recognise.")
    rec = F.recognize(rgb, gallery, embedder=embedder, detector=detector, threshold=threshold_for(embedder, threshold),
                      mode=mode)
    drawn = F.draw_recognition(rgb, rec, gallery.names, show_best=True)
    notes = list(rec.faces.notes)
    if not rec.matches:
        notes.insert(0, "**No face found.** Try a photo where faces are larger, well lit and looking at the camera.")
    elif not len(gallery):
        notes.insert(0, "The gallery is empty, so every face is unknown: enrol people in the Gallery tab.")
    return drawn, _matches_table(rec), "  \n".join(notes), timings_table(rec.timings_ms)


def live_frame(frame, doc: Any, detector: str, embedder: str, threshold: float | None, mode: str,
               clock: dict | None):
    """One webcam frame -> the frame with names, a status line, and the tracking memory.

    The frame rate is not measured here: the page counts the frames it shows (demos/live.py).
    Never raises: a problem is shown in the status line so the stream keeps going."""
    now = time.perf_counter()
    clock = dict(clock or {})
    if frame is None:
        return None, "Waiting for the camera…", clock
    try:
        rgb = np.ascontiguousarray(np.asarray(frame)[:, :, :3])
        gallery = doc if isinstance(doc, Gallery) else gallery_of(doc, embedder)  # parsed once: live_gallery
        warn = ""
        if len(gallery) and gallery.model != embedder:
            warn = f" · **Warning:** gallery holds `{gallery.model}` embeddings: select that model"
            gallery = Gallery.empty(embedder, embedder_dim(embedder))
        rec, memory = F.recognize_tracked(rgb, gallery, clock.get("memory"), embedder=embedder, detector=detector,
                                          threshold=threshold_for(embedder, threshold), mode=mode)
        clock["memory"] = memory
        out = F.draw_recognition(rgb, rec, gallery.names)
    except Exception as exc:  # noqa: BLE001 - keep the stream alive, say what happened
        return frame, f"**Error:** {type(exc).__name__}: {str(exc)[:160]}", clock
    proc = (time.perf_counter() - now) * 1000
    names = ", ".join(m.name or "unknown" for m in rec.matches) or "no face"
    empty = " · gallery empty: enrol someone first" if not len(gallery) and not warn else ""
    reused = len(rec.matches) - clock["memory"]["embedded"]
    track = f" · {reused} face(s) followed from the last frame" if reused else ""
    text = (f"{proc:.0f} ms per frame on the server "
            f"({', '.join(f'{k} {v:.0f}' for k, v in rec.timings_ms.items() if k != 'load')} ms) · "
            f"{rgb.shape[1]}x{rgb.shape[0]} · {names}{empty}{warn}{track}")
    return out, text, clock


def live_gallery(values: list) -> list:
    """The live view's settings with the gallery parsed once per registration or change, not per frame:
    [gallery doc, detector, embedder, threshold, mode] -> [Gallery, detector, embedder, threshold, mode]."""
    doc, detector, embedder, *rest = values
    return [gallery_of(doc, embedder), detector, embedder, *rest]


def build_recognize_tab(c: SharedControls) -> None:
    """The Recognize sub-tab (photo and live webcam)."""
    gallery_state, detector, embedder, threshold = c.gallery_state, c.detector, c.embedder, c.threshold
    with gr.Tab("Recognize"):
        mode = gr.Radio(MATCH_MODES, value="nearest", label="Match each face against")
        with gr.Tab("Photo"):
            with gr.Row():
                rec_in = ImageInput(label="Photo", sources=["upload", "webcam", "clipboard"], type="numpy",
                                    height=360)
                rec_out = gr.Image(label="Who is who", interactive=False, height=360)
            rec_btn = gr.Button("Recognize", variant="primary")
            gr.Examples([[str(FACES_DIR / "obama_and_biden.jpg")], [str(PEOPLE_DIR / "Barack_Obama/3.jpg")],
                         [str(PEOPLE_DIR / "Grace_Hopper/1.jpg")]], inputs=[rec_in],
                        label="Try (load the example gallery first)")
            rec_table = gr.Dataframe(value=pd.DataFrame(columns=["face", "name", "closest", "similarity", "box",
                                                                 "note"]), interactive=False, label="Faces")
            rec_notes = gr.Markdown()
            rec_timings = gr.Markdown()
        with gr.Tab("Live webcam"):
            gr.Markdown("Click the camera, allow access, then press **Record**: every frame is detected, "
                        "matched against your gallery on the server. For speed the detector looks at the "
                        "frame at 320 px wide (faces under about 40 px across may be missed), and a face that "
                        "stays in place keeps its name and is re-embedded every third frame.")
            live_view("faces", live_frame, [gallery_state, detector, embedder, threshold, mode],
                      cam_id="faces-live-cam", out_id="faces-live-out", info_id="faces-live-fps",
                      out_label="Recognized", height=360, time_limit=600, prepare=live_gallery)
        with gr.Tab("Clip"):
            clip_panel("faces", [gallery_state, detector, embedder, threshold, mode], faces_clip)
    rec_btn.click(recognize_photo, [rec_in, gallery_state, detector, embedder, threshold, mode],
                  [rec_out, rec_table, rec_notes, rec_timings], api_name="faces_recognize")

