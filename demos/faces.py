"""Faces tab: verification, a per-visitor gallery, recognition (photo + live webcam), calibration and
the ideas of one-shot learning (triplet loss, a Siamese binary classifier, a 2-D map of embeddings).

The gallery is plain JSON (embeddings only, no images) kept in ``gr.State`` for this browser tab,
optionally mirrored into the visitor's own browser storage (``gr.BrowserState``). Nothing lives in
module globals, so no two visitors ever see each other's gallery.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from core import faces as F
from core import models
from core.faces.gallery import Gallery, GalleryError, person_scores
from core.faces.gallery import pair_probability as classifier_probability
from core.image import load_image
from core.render import side_by_side
from demos import face_svg
from demos.common import ASSETS, ImageInput, idea_box, read_upload, timings_table, user_errors, webcam_stream

FACES_DIR = ASSETS / "faces"
PEOPLE_DIR = FACES_DIR / "people"

INTRO = """### Faces: one photo is enough to recognise someone
A face **detector** finds each face and 5 landmarks (eyes, nose, mouth corners); the face is **aligned**
(rotated and scaled so the landmarks sit in fixed places) and an **embedding network** turns it into a
short vector: 128 numbers for SFace. It was trained so that photos of the same person land close together
and photos of different people far apart. So recognising someone new needs no retraining: enrol one photo,
then compare vectors against a **threshold**. Each tab below shows one piece of that idea."""

PRIVACY = """🔒 **Your gallery stays yours.** It holds only embeddings (lists of numbers, no photos), lives in
this browser tab's session (private to you, dropped when you close the tab) and, only if you tick the box,
in your own browser's storage. Photos and webcam frames are processed in memory for the request and not
kept by this app (Gradio's temporary display files are deleted automatically). Nothing is shared
between visitors."""

FACE_CHOICES = ["largest"] + [str(i) for i in range(1, 11)]
MATCH_MODES = [("nearest enrolled photo", "nearest"), ("person's mean embedding", "mean")]


# --------------------------------------------------------------------------- gallery state helpers
def embedder_dim(embedder: str) -> int:
    return int(F.embedder_meta(embedder)["dim"])


def gallery_of(doc: Any, embedder: str | None = None) -> Gallery:
    """The session's gallery (a JSON dict in gr.State) as a Gallery; None -> empty for ``embedder``."""
    if not doc:
        name = embedder or F.DEFAULT_EMBEDDER
        return Gallery.empty(name, embedder_dim(name))
    return Gallery.from_dict(doc)


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


def _face_index(choice: str | None) -> int | None:
    if not choice or choice == "largest":
        return None
    return int(choice) - 1


def _threshold(embedder: str, threshold: float | None) -> float:
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
        text += f"  \n⚠️ {reg.status_reason(embedder)}"
    return text


def on_model_change(embedder: str, doc: Any):
    note = model_note(embedder)
    if doc and doc.get("model") != embedder:
        note += (f"  \n⚠️ Your gallery holds `{doc.get('model')}` embeddings: recognition and enrolment need "
                 f"that model (embeddings of different models cannot be compared). Forget the gallery to start over.")
    return threshold_slider_update(embedder), note


# --------------------------------------------------------------------------- Verify
def _verdict(similarity: float, metric: str, threshold: float) -> str:
    same = bool(F.accepts(similarity, threshold, metric))
    value = similarity if metric == "cosine" else float(F.cosine_to_distance(similarity))
    rel = ("≥" if same else "<") if metric == "cosine" else ("≤" if same else ">")
    measure = "similarity" if metric == "cosine" else "distance"
    head = "## ✅ Same person" if same else "## ❌ Different people"
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
    thr = _threshold(embedder, threshold)
    meta = F.embedder_meta(embedder)
    rgb_a = read_upload(img_a, what="image A")
    fa = F.analyze(rgb_a, detector, embedder)
    if not len(fa):
        msg = ("### No face found in photo A\nTry a photo where the face is larger, well lit and looking at the "
               "camera (turned or covered faces are often missed).")
        return (rgb_a, None, None, "", msg, None, _faces_dropdown(0, face_a), gr.Dropdown(), "")
    ia = F.pick_face(fa, _face_index(face_a) if _face_index(face_a) is not None and
                     _face_index(face_a) < len(fa) else None, "photo A")
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
    ib_choice = _face_index(face_b)
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


# --------------------------------------------------------------------------- Gallery
def _file_path(f: Any) -> str:
    if isinstance(f, dict):
        return f.get("path") or f.get("name")
    return getattr(f, "name", None) or str(f)


def _enrol_one(gallery: Gallery, name: str, rgb: np.ndarray, source: str, face: int | None, detector: str,
               embedder: str) -> tuple[Gallery, str, np.ndarray | None]:
    faces = F.analyze(rgb, detector, embedder)
    if not len(faces):
        return gallery, f"⚠️ {source}: no face found, skipped.", rgb
    idx = face if face is not None and face < len(faces) else faces.largest()
    preview = F.draw_faces(rgb, faces, highlight=idx)
    side = float(faces.sides[idx])
    if side < F.MIN_FACE_SIDE:
        return gallery, (f"⚠️ {source}: the face is only {side:.0f} px across, too small to enrol reliably "
                         f"(needs {F.MIN_FACE_SIDE} px); skipped."), preview
    if not len(gallery):
        gallery = Gallery.empty(embedder, faces.embeddings.shape[1])
    gallery = gallery.enrol(name, faces.embeddings[idx:idx + 1], [source], model=embedder)
    msg = f"✅ {source}: enrolled"
    if len(faces) > 1:
        msg += (f" face {idx + 1} of {len(faces)} (numbered in the preview; choose another with "
                "'Face to enrol')")
    if face is not None and face >= len(faces):
        msg += f" (there is no face {face + 1}; used the largest)"
    turned = [n for n in faces.notes if "turned" in n]
    if turned:
        msg += " · note: the face seems turned to the side; a frontal photo works better"
    return gallery, msg + ".", preview


@user_errors
def enrol(name: str, files: list | None, snapshot, face_choice: str, doc: Any, detector: str, embedder: str):
    """Enrol the uploaded photos and/or the webcam snapshot under ``name``.

    Returns the new gallery (JSON state), a status message and a preview of the last photo."""
    gallery = gallery_of(doc, embedder)
    if len(gallery) and gallery.model != embedder:
        raise gr.Error(f"Your gallery holds '{gallery.model}' embeddings; select that model to add photos, or "
                       "forget everyone to start a gallery with this model.")
    name = " ".join((name or "").split())
    if not name:
        raise gr.Error("Type the person's name first.")
    items: list[tuple[str, Any]] = [(Path(_file_path(f)).name, _file_path(f)) for f in (files or [])]
    if snapshot is not None:
        items.append(("webcam snapshot", snapshot))
    if not items:
        raise gr.Error("Add one or more photos (upload) or take a webcam snapshot.")
    face = _face_index(face_choice)
    lines, preview = [], None
    for source, value in items:
        try:
            rgb = read_upload(value)
        except gr.Error as exc:
            lines.append(f"⚠️ {source}: {exc.message if hasattr(exc, 'message') else exc}")
            continue
        gallery, line, preview = _enrol_one(gallery, name, rgb, source, face, detector, embedder)
        lines.append(line)
    return doc_of(gallery), "  \n".join(lines), preview


def example_gallery_doc(detector: str = F.DEFAULT_DETECTOR, embedder: str = F.DEFAULT_EMBEDDER,
                        leave_out: tuple[str, ...] = ("Barack_Obama/3.jpg", "Grace_Hopper/1.jpg")) -> dict | None:
    """A gallery of the bundled public-domain portraits, leaving some out to try recognition on."""
    gallery = Gallery.empty(embedder, embedder_dim(embedder))
    for folder in sorted(p for p in PEOPLE_DIR.iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.jpg")):
            if f"{folder.name}/{path.name}" in leave_out:
                continue
            gallery, _, _ = F.enrol_photo(gallery, F.person_name_from_folder(folder.name), load_image(path),
                                          source=path.name, detector=detector, embedder=embedder)
    return doc_of(gallery)


@user_errors
def load_examples(doc: Any, detector: str, embedder: str):
    if doc and doc.get("model") != embedder:
        raise gr.Error(f"Your gallery holds '{doc.get('model')}' embeddings; select that model first.")
    example = gallery_of(example_gallery_doc(detector, embedder))
    gallery = gallery_of(doc, embedder)
    for name, entries in example.people.items():
        if name not in gallery.people:
            gallery = gallery.enrol(name, np.stack([e.embedding for e in entries]), [e.source for e in entries])
    return doc_of(gallery), ("Loaded the example people (US government portraits, public domain). Obama's third "
                             "photo and Grace Hopper are left out: try them in Recognize.")


@user_errors
def rename_person(doc: Any, person: str | None, new_name: str):
    gallery = gallery_of(doc)
    if not person:
        raise gr.Error("Choose the person to rename.")
    gallery = gallery.rename(person, new_name or "")
    return doc_of(gallery), f"Renamed '{person}' to '{' '.join((new_name or '').split())}'."


@user_errors
def forget_person(doc: Any, person: str | None):
    gallery = gallery_of(doc)
    if not person:
        raise gr.Error("Choose the person to forget.")
    return doc_of(gallery.forget(person)), f"Forgot '{person}' and all of their photos."


@user_errors
def remove_photo(doc: Any, photo_id: str | None):
    gallery = gallery_of(doc)
    if not photo_id:
        raise gr.Error("Choose the photo to remove.")
    name, _ = gallery.find(photo_id)
    gallery = gallery.remove_photo(photo_id)
    gone = "" if name in gallery.people else f" '{name}' had no photo left and was forgotten."
    return doc_of(gallery), f"Removed one photo of '{name}'.{gone}"


def forget_everyone(_doc: Any):
    return None, "The gallery is empty now."


@user_errors
def export_gallery(doc: Any):
    """The gallery as an embeddings-only JSON file to download."""
    gallery = gallery_of(doc)
    if not len(gallery):
        raise gr.Error("The gallery is empty: nothing to export.")
    folder = Path(tempfile.mkdtemp(prefix="cvlab-gallery-"))
    path = folder / "face-gallery.json"
    path.write_text(gallery.to_json(), encoding="utf-8")
    return str(path)


@user_errors
def import_gallery(file: Any, doc: Any, embedder: str, merge: bool):
    """Read an exported gallery (.json); replace the current one, or merge into it."""
    if file is None:
        raise gr.Error("Choose a gallery .json file to import.")
    path = Path(_file_path(file))
    try:
        data = path.read_bytes()
    except OSError:
        raise gr.Error("Could not read the uploaded file.") from None
    imported = Gallery.from_json(data)
    current = gallery_of(doc, embedder)
    if merge and len(current):
        if current.model != imported.model:
            raise gr.Error(f"The file holds '{imported.model}' embeddings but your gallery holds "
                           f"'{current.model}' ones; they cannot be merged.")
        for name, entries in imported.people.items():
            current = current.enrol(name, np.stack([e.embedding for e in entries]), [e.source for e in entries])
        imported = current
    msg = f"Imported {len(imported)} people, {imported.n_photos} photos (model `{imported.model}`)."
    if imported.model != embedder:
        msg += f" Select the `{imported.model}` model to use them."
    return doc_of(imported), msg


def save_to_browser(doc: Any, keep: bool):
    """What the browser keeps: the gallery when the box is ticked, else nothing."""
    return doc if keep and doc else None


def restore_from_browser(saved: Any, doc: Any):
    if not saved:
        return doc, "Nothing is saved in this browser yet (tick 'Keep my gallery in this browser')."
    try:
        gallery = Gallery.from_dict(saved)
    except GalleryError as exc:
        return doc, f"The gallery saved in this browser cannot be used: {exc}"
    return doc_of(gallery), f"Restored {len(gallery)} people, {gallery.n_photos} photos from this browser."


def auto_restore(saved: Any, doc: Any):
    """When the browser's kept copy appears (page load): bring it back if the session's gallery is
    empty, and keep the box ticked. Never overwrites a gallery the session already has."""
    if not saved or doc:
        return gr.skip(), gr.skip(), gr.skip()
    try:
        gallery = Gallery.from_dict(saved)
    except GalleryError:
        return gr.skip(), gr.skip(), gr.skip()
    return (doc_of(gallery), True,
            f"Restored {len(gallery)} people, {gallery.n_photos} photos kept in this browser.")


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
    a, p, n = _default_triplet(gallery)
    pair_a, pair_b = _default_pair(gallery)
    return (gallery_table(gallery), gallery_summary(gallery), person, person, photo,
            gr.Dropdown(choices=photos, value=a), gr.Dropdown(choices=photos, value=p),
            gr.Dropdown(choices=photos, value=n), gr.Dropdown(choices=photos, value=pair_a),
            gr.Dropdown(choices=photos, value=pair_b))


def _default_triplet(gallery: Gallery) -> tuple[str | None, str | None, str | None]:
    multi = [n for n, es in gallery.people.items() if len(es) >= 2]
    if not multi or len(gallery) < 2:
        ids = [e.id for _, e in gallery.entries()]
        return tuple((ids + [None, None, None])[:3])  # type: ignore[return-value]
    person = multi[0]
    other = next(n for n in gallery.names if n != person)
    return gallery.people[person][0].id, gallery.people[person][1].id, gallery.people[other][0].id


def _default_pair(gallery: Gallery) -> tuple[str | None, str | None]:
    ids = [e.id for _, e in gallery.entries()]
    return (ids + [None, None])[0], (ids + [None, None])[1]


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
    rec = F.recognize(rgb, gallery, embedder=embedder, detector=detector, threshold=_threshold(embedder, threshold),
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
    """One webcam frame -> the frame with names, a speed line, and the frame clock (for fps).

    Never raises: a problem is shown in the speed line so the stream keeps going."""
    now = time.perf_counter()
    clock = dict(clock or {})
    stamps = [t for t in clock.get("stamps", []) if now - t < 3.0][-30:] + [now]
    clock["stamps"] = stamps
    if frame is None:
        return None, "Waiting for the camera…", clock
    try:
        rgb = np.ascontiguousarray(np.asarray(frame)[:, :, :3])
        gallery = gallery_of(doc, embedder)
        warn = ""
        if len(gallery) and gallery.model != embedder:
            warn = f" · ⚠️ gallery holds `{gallery.model}` embeddings: select that model"
            gallery = Gallery.empty(embedder, embedder_dim(embedder))
        rec, memory = F.recognize_tracked(rgb, gallery, clock.get("memory"), embedder=embedder, detector=detector,
                                          threshold=_threshold(embedder, threshold), mode=mode)
        clock["memory"] = memory
        out = F.draw_recognition(rgb, rec, gallery.names)
    except Exception as exc:  # noqa: BLE001 - keep the stream alive, say what happened
        return frame, f"⚠️ {type(exc).__name__}: {str(exc)[:160]}", clock
    proc = (time.perf_counter() - now) * 1000
    fps = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) >= 3 else 0.0
    names = ", ".join(m.name or "unknown" for m in rec.matches) or "no face"
    empty = " · gallery empty: enrol someone first" if not len(gallery) and not warn else ""
    reused = len(rec.matches) - clock["memory"]["embedded"]
    track = f" · {reused} face(s) followed from the last frame" if reused else ""
    text = (f"**{fps:.1f} fps** · {proc:.0f} ms per frame on the server "
            f"({', '.join(f'{k} {v:.0f}' for k, v in rec.timings_ms.items() if k != 'load')} ms) · "
            f"{rgb.shape[1]}x{rgb.shape[0]} · {names}{empty}{warn}{track}")
    return out, text, clock


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
    thr = _threshold(gallery.model, threshold) if gallery.model == embedder else \
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


# --------------------------------------------------------------------------- Learn
def _embedding(gallery: Gallery, photo_id: str | None, what: str) -> np.ndarray:
    if not photo_id:
        raise gr.Error(f"Choose the {what} photo.")
    return gallery.find(photo_id)[1].embedding


@user_errors
def triplet_view(doc: Any, anchor: str | None, positive: str | None, negative: str | None, margin: float):
    """d(A,P), d(A,N), the triplet loss and whether the triplet is easy, semi-hard or hard."""
    gallery = gallery_of(doc)
    if gallery.n_photos < 3:
        return "", "_Enrol at least three photos (ideally two of one person and one of another)._"
    if not (anchor and positive and negative):
        return "", "_Pick an anchor, a positive and a negative photo._"
    a, p, n = (_embedding(gallery, i, w) for i, w in ((anchor, "anchor"), (positive, "positive"),
                                                     (negative, "negative")))
    names = {w: gallery.find(i)[0] for i, w in ((anchor, "A"), (positive, "P"), (negative, "N"))}
    t = F.triplet(a, p, n, margin)
    warn = ""
    if names["A"] != names["P"]:
        warn += "  \n⚠️ The positive should be another photo of the anchor's person."
    if names["A"] == names["N"]:
        warn += "  \n⚠️ The negative should be someone else."
    if anchor == positive:
        warn += "  \n⚠️ Anchor and positive are the same photo, so d(A,P) = 0."
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


# --------------------------------------------------------------------------- layout
def _example(path: Path) -> list[str]:
    return [str(path)] if path.is_file() else []


def build_faces_tab() -> None:
    idea_box(INTRO)
    gallery_state = gr.State(None)
    browser_saved = gr.BrowserState(None, storage_key="cvlab-face-gallery")
    verify_cache = gr.State(None)
    cal_state = gr.State(None)
    clf_state = gr.State(None)
    clock = gr.State(None)

    with gr.Row():
        detector = gr.Dropdown(choices=[("YuNet (fast)", "yunet"), ("MTCNN", "mtcnn")], value="yunet",
                               label="Face detector", scale=1, min_width=140)
        embedder = gr.Dropdown(choices=[(models.get(n).title, n) for n in F.EMBEDDERS], value=F.DEFAULT_EMBEDDER,
                               label="Embedding model", scale=2, min_width=200)
        threshold = threshold_slider_update(F.DEFAULT_EMBEDDER)
    model_md = gr.Markdown(model_note(F.DEFAULT_EMBEDDER))
    gr.Markdown(PRIVACY)

    with gr.Tabs():
        # ---------------------------------------------------------------- Verify
        with gr.Tab("Verify"):
            gr.Markdown("Two photos, or a photo against someone in your gallery: the distance between the two "
                        "embeddings, the model's threshold, and the decision. Move the threshold: nothing is "
                        "recomputed, only the decision changes.")
            with gr.Row():
                with gr.Column():
                    img_a = ImageInput(label="Photo A", sources=["upload", "webcam", "clipboard"], type="numpy",
                                       height=300)
                    face_a = gr.Dropdown(choices=["largest"], value="largest", label="Face in A", interactive=False)
                with gr.Column():
                    against = gr.Radio([("a second photo", "photo"), ("a person in my gallery", "gallery")],
                                       value="photo", label="Compare A with")
                    img_b = ImageInput(label="Photo B", sources=["upload", "webcam", "clipboard"], type="numpy",
                                       height=300)
                    face_b = gr.Dropdown(choices=["largest"], value="largest", label="Face in B", interactive=False)
                    verify_person = gr.Dropdown(choices=[], label="Person in the gallery", visible=False)
            verify_btn = gr.Button("Compare", variant="primary")
            gr.Examples([[str(PEOPLE_DIR / "Barack_Obama/1.jpg"), str(PEOPLE_DIR / "Barack_Obama/3.jpg")],
                         [str(PEOPLE_DIR / "Barack_Obama/2.jpg"), str(PEOPLE_DIR / "Joe_Biden/1.jpg")],
                         [str(FACES_DIR / "obama_and_biden.jpg"), str(PEOPLE_DIR / "Joe_Biden/1.jpg")]],
                        inputs=[img_a, img_b], label="Try (public-domain portraits)")
            axis_html = gr.HTML()
            verdict_md = gr.Markdown()
            with gr.Row():
                ann_a = gr.Image(label="A: faces found", interactive=False, height=260)
                ann_b = gr.Image(label="B: faces found", interactive=False, height=260)
                crops_img = gr.Image(label="Aligned crops the model sees", interactive=False, height=160)
            verify_timings = gr.Markdown()

        # ---------------------------------------------------------------- Gallery
        with gr.Tab("Gallery"):
            gr.Markdown("Enrol a person from one or more photos (uploads or webcam snapshots). Each photo becomes "
                        "one embedding; more photos (angles, lighting) make recognition sturdier.")
            with gr.Row():
                with gr.Column(scale=2):
                    enrol_name = gr.Textbox(label="Name", placeholder="e.g. Ada Lovelace", elem_id="faces-enrol-name")
                    enrol_files = gr.File(label="Photos", file_count="multiple", file_types=["image"],
                                          elem_id="faces-enrol-files")
                    enrol_snap = ImageInput(label="…or a webcam snapshot", sources=["webcam"], type="numpy",
                                            height=240)
                    enrol_face = gr.Dropdown(FACE_CHOICES, value="largest",
                                             label="Face to enrol when a photo has several (1 = largest)")
                    with gr.Row():
                        enrol_btn = gr.Button("Enrol", variant="primary", elem_id="faces-enrol-btn")
                        examples_btn = gr.Button("Load the example gallery")
                    enrol_md = gr.Markdown(elem_id="faces-enrol-msg")
                    enrol_preview = gr.Image(label="Last photo: faces found", interactive=False, height=240)
                with gr.Column(scale=3):
                    summary_md = gr.Markdown(gallery_summary(gallery_of(None)), elem_id="faces-gallery-summary")
                    table = gr.Dataframe(value=gallery_table(gallery_of(None)), interactive=False,
                                         label="Your gallery")
                    with gr.Accordion("Edit", open=True):
                        with gr.Row():
                            manage_person = gr.Dropdown(choices=[], label="Person")
                            new_name = gr.Textbox(label="New name")
                        with gr.Row():
                            rename_btn = gr.Button("Rename")
                            forget_btn = gr.Button("Forget this person", variant="stop")
                        with gr.Row():
                            manage_photo = gr.Dropdown(choices=[], label="Photo")
                            remove_btn = gr.Button("Remove this photo")
                        forget_all_btn = gr.Button("Forget everyone", variant="stop", size="sm")
                    with gr.Accordion("Export / import (embeddings only, no images)", open=False):
                        with gr.Row():
                            export_btn = gr.Button("Export gallery (.json)")
                            export_file = gr.File(label="Download", interactive=False)
                        import_file = gr.File(label="Import a gallery .json", file_types=[".json"])
                        import_merge = gr.Checkbox(label="Merge into my gallery (instead of replacing it)")
                        import_btn = gr.Button("Import")
                    with gr.Row():
                        keep_box = gr.Checkbox(label="Keep my gallery in this browser (local storage)")
                        restore_btn = gr.Button("Restore the gallery kept in this browser", size="sm")
                    manage_md = gr.Markdown()

        # ---------------------------------------------------------------- Recognize
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
                with gr.Row():
                    cam = webcam_stream("faces-live-cam", height=360)
                    live_out = gr.Image(label="Recognized", interactive=False, format="jpeg", height=360,
                                        elem_id="faces-live-out")
                fps_md = gr.Markdown(elem_id="faces-live-fps")

        # ---------------------------------------------------------------- Calibrate
        with gr.Tab("Calibrate"):
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

        # ---------------------------------------------------------------- Learn
        with gr.Tab("Learn"):
            gr.Markdown("#### Triplet loss (FaceNet)\nTraining pulls an anchor A towards a positive P (same "
                        "person) and pushes a negative N (someone else) until N is farther than P by a margin.")
            with gr.Row():
                t_anchor = gr.Dropdown(choices=[], label="Anchor A")
                t_pos = gr.Dropdown(choices=[], label="Positive P (same person)")
                t_neg = gr.Dropdown(choices=[], label="Negative N (someone else)")
            margin = gr.Slider(0.0, 1.0, value=0.2, step=0.01, label="Margin (FaceNet used 0.2)")
            t_html = gr.HTML()
            t_md = gr.Markdown()
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

    # ---------------------------------------------------------------- wiring
    embedder.change(on_model_change, [embedder, gallery_state], [threshold, model_md], api_name=False)
    against.change(lambda v: (gr.Image(visible=v == "photo"), gr.Dropdown(visible=v == "photo"),
                              gr.Dropdown(visible=v == "gallery")),
                   [against], [img_b, face_b, verify_person], api_name=False)
    verify_btn.click(verify_photos, [img_a, img_b, against, verify_person, face_a, face_b, gallery_state, detector,
                                     embedder, threshold],
                     [ann_a, ann_b, crops_img, axis_html, verdict_md, verify_cache, face_a, face_b, verify_timings],
                     api_name="faces_verify")
    threshold.change(render_verification, [verify_cache, threshold], [axis_html, verdict_md], api_name=False,
                     show_progress="hidden")

    gallery_outputs = [table, summary_md, verify_person, manage_person, manage_photo, t_anchor, t_pos, t_neg,
                       pair_a, pair_b]
    gallery_state.change(refresh_views, [gallery_state], gallery_outputs, api_name=False, show_progress="hidden")
    gallery_state.change(save_to_browser, [gallery_state, keep_box], [browser_saved], api_name=False,
                         show_progress="hidden")
    keep_box.change(save_to_browser, [gallery_state, keep_box], [browser_saved], api_name=False)
    enrol_btn.click(enrol, [enrol_name, enrol_files, enrol_snap, enrol_face, gallery_state, detector, embedder],
                    [gallery_state, enrol_md, enrol_preview], api_name="faces_enrol")
    examples_btn.click(load_examples, [gallery_state, detector, embedder], [gallery_state, enrol_md],
                       api_name="faces_example_gallery")
    rename_btn.click(rename_person, [gallery_state, manage_person, new_name], [gallery_state, manage_md],
                     api_name="faces_rename")
    forget_btn.click(forget_person, [gallery_state, manage_person], [gallery_state, manage_md],
                     api_name="faces_forget")
    remove_btn.click(remove_photo, [gallery_state, manage_photo], [gallery_state, manage_md],
                     api_name="faces_remove_photo")
    forget_all_btn.click(forget_everyone, [gallery_state], [gallery_state, manage_md], api_name=False)
    export_btn.click(export_gallery, [gallery_state], [export_file], api_name="faces_export")
    import_btn.click(import_gallery, [import_file, gallery_state, embedder, import_merge],
                     [gallery_state, manage_md], api_name="faces_import")
    restore_btn.click(restore_from_browser, [browser_saved, gallery_state], [gallery_state, manage_md],
                      api_name=False)
    # The kept copy arrives when the browser reads its storage (not at page load: the Faces tab may
    # mount later, and a load event would read the empty value first).
    browser_saved.change(auto_restore, [browser_saved, gallery_state], [gallery_state, keep_box, manage_md],
                         api_name=False, show_progress="hidden")

    rec_btn.click(recognize_photo, [rec_in, gallery_state, detector, embedder, threshold, mode],
                  [rec_out, rec_table, rec_notes, rec_timings], api_name="faces_recognize")
    cam.stream(live_frame, [cam, gallery_state, detector, embedder, threshold, mode, clock],
               [live_out, fps_md, clock], api_name="faces_live", stream_every=0.05, time_limit=600,
               concurrency_limit=2, show_progress="hidden")

    cal_btn.click(calibrate_gallery, [gallery_state, embedder, threshold], [hist_html, roc_html, cal_md, cal_state],
                  api_name="faces_calibrate")
    use_btn.click(use_suggested, [cal_state, embedder, threshold], [threshold], api_name=False)

    for trigger in (t_anchor.change, t_pos.change, t_neg.change, margin.release):
        trigger(triplet_view, [gallery_state, t_anchor, t_pos, t_neg, margin], [t_html, t_md], api_name=False,
                show_progress="hidden")
    margin.change(triplet_view, [gallery_state, t_anchor, t_pos, t_neg, margin], [t_html, t_md],
                  api_name="faces_triplet", show_progress="hidden", trigger_mode="always_last")
    fit_btn.click(fit_pairs, [gallery_state, l2], [fit_md, clf_state], api_name="faces_fit_pairs")
    pair_btn.click(pair_probability, [gallery_state, clf_state, pair_a, pair_b], [pair_md], api_name="faces_pair")
    proj_btn.click(project, [gallery_state], [scatter, proj_md], api_name="faces_project")
