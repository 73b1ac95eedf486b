"""Faces tab, Verify: two photos (or a photo and a gallery person), the distance between their
embeddings, the threshold and the decision."""
from __future__ import annotations

from typing import Any

import gradio as gr

from core import faces as F
from core.faces.gallery import person_scores
from core.render import side_by_side
from demos.common import (
    ImageInput,
    read_upload,
    timings_table,
    user_errors,
)
from demos.faces import svg as face_svg
from demos.faces.shared import (
    FACES_DIR,
    PEOPLE_DIR,
    SharedControls,
    face_index,
    threshold_for,
    gallery_of,
)


# --------------------------------------------------------------------------- Verify
def _verdict(similarity: float, metric: str, threshold: float) -> str:
    same = bool(F.accepts(similarity, threshold, metric))
    value = similarity if metric == "cosine" else float(F.cosine_to_distance(similarity))
    rel = ("≥" if same else "<") if metric == "cosine" else ("≤" if same else ">")
    measure = "similarity" if metric == "cosine" else "distance"
    head = "## Same person: accepted" if same else "## Different people: rejected"
    return f"{head}\n{measure} **{value:.3f}** {rel} threshold **{threshold:.3f}**"


def render_verification(cache: dict | None, threshold: float):
    """Axis + verdict from a cached comparison (the slider never re-runs the models)."""
    if not cache:
        return "", ""
    metric = cache["metric"]
    value = cache["similarity"] if metric == "cosine" else float(F.cosine_to_distance(cache["similarity"]))
    axis = face_svg.score_axis(value, threshold, cache["default"], metric, label=cache.get("label", "this pair"),
                               others=[tuple(o) for o in cache.get("others", [])])
    return axis, _verdict(cache["similarity"], metric, threshold) + "\n\n" + cache.get("notes", "")


def _faces_dropdown(n: int, current: str | None) -> Any:
    choices = ["largest"] + [str(i) for i in range(1, n + 1)] if n > 1 else ["largest"]
    value = current if current in choices else "largest"
    return gr.Dropdown(choices=choices, value=value, interactive=n > 1)


@user_errors
def verify_photos(img_a, img_b, against: str, person: str | None, face_a: str, face_b: str, doc: Any,
                  detector: str, embedder: str, threshold: float | None):
    """Compare the face in photo A with photo B, or with a person of the gallery.

    Returns annotated A, annotated B, the aligned crops, the score axis (HTML), the verdict,
    the cached comparison (for the slider), face pickers for A and B, and the timings."""
    thr = threshold_for(embedder, threshold)
    meta = F.embedder_meta(embedder)
    rgb_a = read_upload(img_a, what="image A")
    fa = F.analyze(rgb_a, detector, embedder)
    if not len(fa):
        msg = ("### No face found in photo A\nTry a photo where the face is larger, well lit and looking at the "
               "camera (turned or covered faces are often missed).")
        return (rgb_a, None, None, "", msg, None, _faces_dropdown(0, face_a), gr.Dropdown(), "")
    ia = F.pick_face(fa, face_index(face_a) if face_index(face_a) is not None and
                     face_index(face_a) < len(fa) else None, "photo A")
    notes = [f"Photo A has {len(fa)} faces; face {ia + 1} is used (pick another above)."] if len(fa) > 1 else []
    notes += [f"A: {n}" for n in fa.notes]
    ann_a = F.draw_faces(rgb_a, fa, highlight=ia)
    if against == "gallery":
        gallery = gallery_of(doc, embedder)
        if not len(gallery):
            return (ann_a, None, fa.crops[ia], "", "### The gallery is empty\nEnrol someone in the Gallery tab "
                    "first, or compare with a second photo.", None, _faces_dropdown(len(fa), face_a),
                    gr.Dropdown(), "")
        if gallery.model != embedder:
            raise gr.Error(f"The gallery holds '{gallery.model}' embeddings; select that model to compare with it.")
        if person not in gallery.people:
            raise gr.Error("Choose a person from the gallery.")
        names, sims = person_scores(gallery, fa.embeddings[ia:ia + 1], "nearest")
        sim = float(sims[0, names.index(person)])
        label = f"A vs {person} (best of {len(gallery.people[person])} photo(s))"
        others = [(n, float(s) if meta["metric"] == "cosine" else float(F.cosine_to_distance(s)))
                  for n, s in zip(names, sims[0]) if n != person]
        cache = {"similarity": sim, "metric": meta["metric"], "default": float(meta["threshold"]), "label": label,
                 "notes": "  \n".join(notes + ["Grey dots: the other people in your gallery."] if others else notes)}
        cache["others"] = others
        axis, verdict = render_verification(cache, thr)
        timings = dict(fa.timings_ms)
        return (ann_a, None, fa.crops[ia], axis, verdict, cache, _faces_dropdown(len(fa), face_a),
                gr.Dropdown(), timings_table(timings))
    rgb_b = read_upload(img_b, what="image B")
    fb = F.analyze(rgb_b, detector, embedder)
    if not len(fb):
        msg = "### No face found in photo B\nTry a photo where the face is larger, well lit and looking at the camera."
        return (ann_a, rgb_b, fa.crops[ia], "", msg, None, _faces_dropdown(len(fa), face_a),
                _faces_dropdown(0, face_b), "")
    ib_choice = face_index(face_b)
    ib = F.pick_face(fb, ib_choice if ib_choice is not None and ib_choice < len(fb) else None, "photo B")
    if len(fb) > 1:
        notes.append(f"Photo B has {len(fb)} faces; face {ib + 1} is used (pick another above).")
    notes += [f"B: {n}" for n in fb.notes]
    v = F.compare(fa.embeddings[ia], fb.embeddings[ib], embedder=embedder, threshold=thr)
    cache = {"similarity": v.similarity, "metric": v.metric, "default": float(meta["threshold"]),
             "label": "A vs B", "notes": "  \n".join(notes)}
    axis, verdict = render_verification(cache, thr)
    crops = side_by_side(fa.crops[ia], fb.crops[ib])
    timings = {k: fa.timings_ms.get(k, 0) + fb.timings_ms.get(k, 0) for k in fa.timings_ms}
    return (ann_a, F.draw_faces(rgb_b, fb, highlight=ib), crops, axis, verdict, cache,
            _faces_dropdown(len(fa), face_a), _faces_dropdown(len(fb), face_b), timings_table(timings))


def build_verify_tab(c: SharedControls) -> dict[str, Any]:
    """The Verify sub-tab; returns the components other sub-tabs update (``verify_person``)."""
    gallery_state, detector, embedder, threshold = c.gallery_state, c.detector, c.embedder, c.threshold
    with gr.Tab("Verify"):
        verify_cache = gr.State(None)
        gr.Markdown("Two photos, or a photo against someone in your gallery: the distance between the two "
                    "embeddings, the model's threshold, and the decision. Move the threshold: nothing is "
                    "recomputed, only the decision changes.")
        with gr.Row():
            with gr.Column(scale=2, min_width=220):
                img_a = ImageInput(label="Photo A", elem_id="faces-verify-a", sources=["upload", "webcam", "clipboard"],
                                   type="numpy", height=260)
                face_a = gr.Dropdown(choices=["largest"], value="largest", label="Face in A", interactive=False)
            with gr.Column(scale=2, min_width=220):
                against = gr.Radio([("a second photo", "photo"), ("a person in my gallery", "gallery")],
                                   value="photo", label="Compare A with")
                img_b = ImageInput(label="Photo B", elem_id="faces-verify-b", sources=["upload", "webcam", "clipboard"],
                                   type="numpy", height=260)
                face_b = gr.Dropdown(choices=["largest"], value="largest", label="Face in B", interactive=False)
                verify_person = gr.Dropdown(choices=[], label="Person in the gallery", visible=False)
            # the answer sits next to the question, not below the examples
            with gr.Column(scale=2, min_width=220):
                verify_btn = gr.Button("Compare", variant="primary", elem_id="faces-verify-run")
                verdict_md = gr.Markdown(elem_id="faces-verify-verdict")
        # the score axis under the row, as wide as the tab: in a third of a tablet's row (200 px) even the
        # narrow drawing's labels would shrink below 11 px
        axis_html = gr.HTML(elem_id="faces-verify-axis")
        gr.Examples([[str(PEOPLE_DIR / "Barack_Obama/1.jpg"), str(PEOPLE_DIR / "Barack_Obama/3.jpg")],
                     [str(PEOPLE_DIR / "Barack_Obama/2.jpg"), str(PEOPLE_DIR / "Joe_Biden/1.jpg")],
                     [str(FACES_DIR / "obama_and_biden.jpg"), str(PEOPLE_DIR / "Joe_Biden/1.jpg")]],
                    inputs=[img_a, img_b], label="Try (public-domain portraits)")
        with gr.Row():
            ann_a = gr.Image(label="A: faces found", interactive=False, height=260)
            ann_b = gr.Image(label="B: faces found", interactive=False, height=260)
            crops_img = gr.Image(label="Aligned crops the model sees", interactive=False, height=160)
        verify_timings = gr.Markdown()


    against.change(lambda v: (gr.Image(visible=v == "photo"), gr.Dropdown(visible=v == "photo"),
                              gr.Dropdown(visible=v == "gallery")),
                   [against], [img_b, face_b, verify_person], api_name=False)
    verify_btn.click(verify_photos, [img_a, img_b, against, verify_person, face_a, face_b, gallery_state, detector,
                                     embedder, threshold],
                     [ann_a, ann_b, crops_img, axis_html, verdict_md, verify_cache, face_a, face_b, verify_timings],
                     api_name="faces_verify")
    threshold.change(render_verification, [verify_cache, threshold], [axis_html, verdict_md], api_name=False,
                     show_progress="hidden")
    return {"verify_person": verify_person}
