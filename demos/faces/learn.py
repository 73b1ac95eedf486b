"""Faces tab, Learn: the triplet loss with its margin, a Siamese same/different classifier fitted
on the gallery's pairs, and a 2-D map of the embeddings."""
from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from core import faces as F
from core.faces.gallery import Gallery, GalleryError
from core.faces.teaching import pair_probability as classifier_probability
from demos.common import (
    user_errors,
)
from demos.faces import svg as face_svg
from demos.faces.shared import (
    SharedControls,
    gallery_of,
)


# --------------------------------------------------------------------------- Learn
NEEDS = ("_A triplet needs **two photos of one person** (the anchor A and the positive P) and **one photo of "
         "someone else** (the negative N). Enrol a second photo of someone in the Gallery tab (another photo, "
         "or a webcam snapshot from a different angle): with one photo per person there is no positive._")
"""What the triplet view says until the gallery can make a real triplet."""


def _has_positive_pair(gallery: Gallery) -> bool:
    """True when some person has at least two photos (an anchor and a positive)."""
    return any(len(entries) >= 2 for entries in gallery.people.values())


def _embedding(gallery: Gallery, photo_id: str | None, what: str) -> np.ndarray:
    if not photo_id:
        raise gr.Error(f"Choose the {what} photo.")
    return gallery.find(photo_id)[1].embedding


@user_errors
def triplet_view(doc: Any, anchor: str | None, positive: str | None, negative: str | None, margin: float):
    """d(A,P), d(A,N), the triplet loss and whether the triplet is easy, semi-hard or hard."""
    gallery = gallery_of(doc)
    if gallery.n_photos < 3 or not _has_positive_pair(gallery) or len(gallery) < 2:
        return "", NEEDS
    if not (anchor and positive and negative):
        return "", "_Pick an anchor, a positive and a negative photo._"
    a, p, n = (_embedding(gallery, i, w) for i, w in ((anchor, "anchor"), (positive, "positive"),
                                                     (negative, "negative")))
    names = {w: gallery.find(i)[0] for i, w in ((anchor, "A"), (positive, "P"), (negative, "N"))}
    t = F.triplet(a, p, n, margin)
    warn = ""
    if names["A"] != names["P"]:
        warn += "  \n**Not a triplet:** the positive should be another photo of the anchor's person."
    if names["A"] == names["N"]:
        warn += "  \n**Not a triplet:** the negative should be someone else."
    if anchor == positive:
        warn += "  \n**Not a triplet:** anchor and positive are the same photo, so d(A,P) = 0."
    md = (f"d(A,P) = **{t.d_ap:.3f}** ({names['A']} vs {names['P']}) · d(A,N) = **{t.d_an:.3f}** "
          f"({names['A']} vs {names['N']}) · margin = {t.margin:.2f}  \n"
          f"loss = max(d(A,P) − d(A,N) + margin, 0) = max({t.d_ap:.3f} − {t.d_an:.3f} + {t.margin:.2f}, 0) = "
          f"**{t.loss:.3f}**  \n**{t.kind}**: {t.explain()}{warn}")
    return face_svg.triplet_line(t.d_ap, t.d_an, t.margin, t.kind), md


@user_errors
def fit_pairs(doc: Any, l2: float):
    """Fit p(same) = sigmoid(w·|f(a) − f(b)| + b) on every pair of gallery photos."""
    gallery = gallery_of(doc)
    try:
        clf = F.fit_gallery_classifier(gallery, l2=float(l2))
    except GalleryError as exc:
        return f"_{exc}_", None
    top = np.argsort(-np.abs(clf.weights))[:5]
    md = (f"Fitted on **{clf.n_same} same** and **{clf.n_diff} different** pairs (classes weighted equally), "
          f"{clf.iterations} Newton steps, loss {clf.losses[0]:.3f} → {clf.losses[-1]:.3f}, training accuracy "
          f"**{clf.train_accuracy:.0%}**.  \nIt learned {len(clf.weights)} weights, one per embedding "
          f"dimension; mostly negative ones mean 'a big difference here says different people'. "
          f"Largest |w|: " + ", ".join(f"dim {int(k)} ({clf.weights[k]:+.2f})" for k in top) + ".")
    return md, {"weights": clf.weights.tolist(), "bias": clf.bias, "model": gallery.model}


@user_errors
def pair_probability(doc: Any, clf: dict | None, a: str | None, b: str | None):
    gallery = gallery_of(doc)
    if not clf:
        return "_Fit the classifier first._"
    if clf.get("model") != gallery.model or len(clf["weights"]) != gallery.dim:
        return "_The gallery changed model; fit the classifier again._"
    ea, eb = _embedding(gallery, a, "first"), _embedding(gallery, b, "second")
    p = classifier_probability(clf["weights"], clf["bias"], ea, eb)
    na, nb = gallery.find(a)[0], gallery.find(b)[0]
    truth = "same person" if na == nb else "different people"
    sim = float(ea @ eb)
    return (f"p(same person) = **{p:.3f}** → {'same' if p >= 0.5 else 'different'} "
            f"(truth: {truth}; cosine similarity {sim:.3f}).")


@user_errors
def project(doc: Any):
    """PCA of every gallery embedding to 2-D, coloured by person."""
    gallery = gallery_of(doc)
    mat, owners, _ = gallery.matrix()
    if len(mat) < 2:
        return pd.DataFrame(columns=["pc1", "pc2", "person", "photo"]), "_Enrol at least two photos._"
    xy, ratio = F.pca_2d(mat)
    labels = dict((pid, lab) for lab, pid in gallery.photo_labels())
    ids = gallery.matrix()[2]
    df = pd.DataFrame({"pc1": xy[:, 0].round(4), "pc2": xy[:, 1].round(4), "person": owners,
                       "photo": [labels[i] for i in ids]})
    md = (f"{len(mat)} embeddings of {gallery.dim} numbers squeezed onto the 2 directions along which they vary "
          f"most (PCA): these show {ratio[0]:.0%} + {ratio[1]:.0%} of the variance. Photos of one person should "
          f"cluster; the rest of the differences live in the other {gallery.dim - 2} dimensions.")
    return df, md


def default_triplet(gallery: Gallery) -> tuple[str | None, str | None, str | None]:
    """(anchor, positive, negative) photo ids: two photos of the first person who has two, and one of
    someone else; no positive (None) when nobody has two photos, rather than a wrong one."""
    multi = [n for n, es in gallery.people.items() if len(es) >= 2]
    if not multi or len(gallery) < 2:
        firsts = [es[0].id for es in gallery.people.values() if es]
        anchor = firsts[0] if firsts else None
        negative = firsts[1] if len(firsts) > 1 else None
        return anchor, None, negative
    person = multi[0]
    other = next(n for n in gallery.names if n != person)
    return gallery.people[person][0].id, gallery.people[person][1].id, gallery.people[other][0].id


def default_pair(gallery: Gallery) -> tuple[str | None, str | None]:
    ids = [e.id for _, e in gallery.entries()]
    return (ids + [None, None])[0], (ids + [None, None])[1]


def build_learn_tab(c: SharedControls) -> dict[str, Any]:
    """The Learn sub-tab; returns its photo pickers (refreshed when the gallery changes)."""
    gallery_state = c.gallery_state
    with gr.Tab("Learn"):
        clf_state = gr.State(None)
        gr.Markdown("#### Triplet loss (FaceNet)\nTraining pulls an anchor A towards a positive P (same "
                    "person) and pushes a negative N (someone else) until N is farther than P by a margin.")
        with gr.Row():
            t_anchor = gr.Dropdown(choices=[], label="Anchor A")
            t_pos = gr.Dropdown(choices=[], label="Positive P (same person)")
            t_neg = gr.Dropdown(choices=[], label="Negative N (someone else)")
        margin = gr.Slider(0.0, 1.0, value=0.2, step=0.01, label="Margin (FaceNet used 0.2)",
                           elem_id="faces-triplet-margin")
        t_html = gr.HTML(elem_id="faces-triplet-svg")
        t_md = gr.Markdown(elem_id="faces-triplet-md")
        gr.Markdown("#### The Siamese / binary view\nAnother way to train: show the network two faces and ask "
                    "'same person?'. Here a logistic regression is fitted live on |f(a) − f(b)| for every pair "
                    "of your gallery's photos (the embedding network stays frozen).")
        with gr.Row():
            l2 = gr.Slider(0.01, 10.0, value=1.0, step=0.01, label="L2 penalty (larger = simpler model)")
            fit_btn = gr.Button("Fit on my gallery's pairs", variant="primary")
        fit_md = gr.Markdown()
        with gr.Row():
            pair_a = gr.Dropdown(choices=[], label="Photo a")
            pair_b = gr.Dropdown(choices=[], label="Photo b")
            pair_btn = gr.Button("p(same person)?")
        pair_md = gr.Markdown()
        gr.Markdown("#### A map of your gallery\nEach dot is one enrolled photo's embedding, projected to 2-D.")
        proj_btn = gr.Button("Project the gallery")
        scatter = gr.ScatterPlot(x="pc1", y="pc2", color="person", tooltip=["person", "photo"], height=360,
                                 x_title="principal component 1", y_title="principal component 2")
        proj_md = gr.Markdown()
    for trigger in (t_anchor.change, t_pos.change, t_neg.change, margin.release):
        trigger(triplet_view, [gallery_state, t_anchor, t_pos, t_neg, margin], [t_html, t_md], api_name=False,
                show_progress="hidden")
    margin.change(triplet_view, [gallery_state, t_anchor, t_pos, t_neg, margin], [t_html, t_md],
                  api_name="faces_triplet", show_progress="hidden", trigger_mode="always_last")
    fit_btn.click(fit_pairs, [gallery_state, l2], [fit_md, clf_state], api_name="faces_fit_pairs")
    pair_btn.click(pair_probability, [gallery_state, clf_state, pair_a, pair_b], [pair_md], api_name="faces_pair")
    proj_btn.click(project, [gallery_state], [scatter, proj_md], api_name="faces_project")

    return {"t_anchor": t_anchor, "t_pos": t_pos, "t_neg": t_neg, "pair_a": pair_a, "pair_b": pair_b}
