"""Faces tab, Calibrate: same-person and different-people scores of the gallery's pairs, their
ROC curve and a suggested threshold."""
from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np

from core import faces as F
from core.faces.gallery import GalleryError
from demos.common import (
    user_errors,
)
from demos.faces import svg as face_svg
from demos.faces.shared import (
    SharedControls,
    threshold_for,
    gallery_of,
)


# --------------------------------------------------------------------------- Calibrate
@user_errors
def calibrate_gallery(doc: Any, embedder: str, threshold: float | None):
    """Histograms of same/different pair scores, ROC, EER and a suggested threshold."""
    gallery = gallery_of(doc, embedder)
    if not len(gallery):
        return "", "", "_The gallery is empty: enrol at least two people, one of them with two or more photos._", None
    metric = F.embedder_meta(gallery.model)["metric"]
    try:
        cal = F.calibrate(gallery, metric)
    except GalleryError as exc:
        return "", "", f"_{exc}_", None
    thr = threshold_for(gallery.model, threshold) if gallery.model == embedder else \
        float(F.embedder_meta(gallery.model)["threshold"])
    thr_sim = F.threshold_as_similarity(thr, metric)
    to_m = (lambda s: np.asarray(s)) if metric == "cosine" else (lambda s: F.cosine_to_distance(s))
    hist = face_svg.histograms(to_m(cal.same), to_m(cal.diff), thr, cal.suggested, metric)
    far, frr = cal.rates_at(thr_sim)
    tar = 1 - frr
    roc = face_svg.roc_curve(cal.fpr, cal.tpr, cal.eer, current=(far, tar))
    measure = "similarity" if metric == "cosine" else "distance"
    md = (f"**{len(cal.same)} same-person pairs, {len(cal.diff)} different-person pairs** from your gallery.  \n"
          f"Equal-error rate **{cal.eer:.1%}** at {measure} **{cal.suggested:.3f}** → suggested threshold.  \n"
          f"Area under the ROC curve **{cal.auc:.3f}** (1 = the two groups never overlap).  \n"
          f"At the current threshold {thr:.3f}: {far:.0%} of different-people pairs would be accepted, "
          f"{frr:.0%} of same-person pairs rejected.")
    if len(cal.same) < 10:
        md += ("  \n_With so few pairs this is a rough estimate: enrol more photos per person (webcam snapshots "
               "from different angles and lighting) for a trustworthy threshold._")
    return hist, roc, md, {"suggested": cal.suggested, "model": gallery.model}


def use_suggested(cal: dict | None, embedder: str, current: float):
    if not cal or cal.get("model") != embedder:
        return current
    return round(float(cal["suggested"]), 3)


def build_calibrate_tab(c: SharedControls) -> None:
    """The Calibrate sub-tab."""
    gallery_state, embedder, threshold = c.gallery_state, c.embedder, c.threshold
    with gr.Tab("Calibrate"):
        cal_state = gr.State(None)
        gr.Markdown("Every pair of photos in your gallery is either the same person or different people. "
                    "Their scores form two histograms; a good threshold separates them. The ROC curve shows "
                    "every possible threshold at once; the equal-error rate is where false accepts and false "
                    "rejects are equally frequent.")
        cal_btn = gr.Button("Compute from my gallery", variant="primary")
        cal_md = gr.Markdown()
        with gr.Row():
            hist_html = gr.HTML()
            roc_html = gr.HTML()
        use_btn = gr.Button("Use the suggested threshold")
    cal_btn.click(calibrate_gallery, [gallery_state, embedder, threshold], [hist_html, roc_html, cal_md, cal_state],
                  api_name="faces_calibrate")
    use_btn.click(use_suggested, [cal_state, embedder, threshold], [threshold], api_name=False)

