"""Faces tab, Gallery: enrol people from photos or webcam snapshots, edit, export / import, and
keep the gallery in the visitor's own browser if asked."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import numpy as np

from core import faces as F
from core.faces.enrolment import closeness_text
from core.faces.gallery import Gallery, GalleryError
from core.image import load_image
from demos.browser_secret import browser_state_secret
from demos.session_files import session_dir
from demos.common import (
    ImageInput,
    check_photo_files,
    read_upload,
    user_errors,
)
from demos.uploads import trusted_upload
from demos.faces.shared import (
    FACE_CHOICES,
    PEOPLE_DIR,
    SharedControls,
    face_index,
    threshold_for,
    doc_of,
    embedder_dim,
    gallery_of,
    gallery_summary,
    gallery_table,
    known_models,
)


# --------------------------------------------------------------------------- Gallery
def _file_path(f: Any) -> str:
    if isinstance(f, dict):
        return f.get("path") or f.get("name")
    return getattr(f, "name", None) or str(f)


def _enrol_one(gallery: Gallery, name: str, rgb: np.ndarray, source: str, face: int | None, detector: str,
               embedder: str, threshold: float) -> tuple[Gallery, str, np.ndarray | None, dict | None]:
    """Embed one photo and file it under ``name``, unless it looks like someone else already enrolled:
    then it is held back (returned as a pending dict) for the visitor to confirm or drop."""
    faces = F.analyze(rgb, detector, embedder)
    if not len(faces):
        return gallery, f"**Skipped** {source}: no face found.", rgb, None
    idx = face if face is not None and face < len(faces) else faces.largest()
    preview = F.draw_faces(rgb, faces, highlight=idx)
    side = float(faces.sides[idx])
    if side < F.MIN_FACE_SIDE:
        return gallery, (f"**Skipped** {source}: the face is only {side:.0f} px across, too small to enrol reliably "
                         f"(needs {F.MIN_FACE_SIDE} px); skipped."), preview, None
    emb = faces.embeddings[idx]
    metric = F.embedder_meta(embedder)["metric"]
    check = F.check_enrol(gallery, emb, name, threshold=threshold, metric=metric)
    if check.kind == "duplicate":
        return gallery, f"**Not added** {source}: this photo is already enrolled for '{name}'; not added twice.", preview, None
    if check.kind == "lookalike":
        other = check.other
        pending = {"name": name, "source": source, "embedding": [float(v) for v in emb], "model": embedder,
                   "other": other.name, "value": other.value}
        closeness = closeness_text(other.value, metric)
        return gallery, (f"**Held back** {source}: this face looks like **{other.name}** ({closeness}), "
                         f"already in your gallery; **not enrolled** as '{name}'. Press **Enrol anyway** if it "
                         f"really is {name}, or **Drop** it."), preview, pending
    if not len(gallery):
        gallery = Gallery.empty(embedder, faces.embeddings.shape[1])
    gallery = gallery.enrol(name, faces.embeddings[idx:idx + 1], [source], model=embedder)
    msg = f"{source}: enrolled"
    if len(faces) > 1:
        msg += (f" face {idx + 1} of {len(faces)} (numbered in the preview; choose another with "
                "'Face to enrol')")
    if face is not None and face >= len(faces):
        msg += f" (there is no face {face + 1}; used the largest)"
    turned = [n for n in faces.notes if "turned" in n]
    if turned:
        msg += " · note: the face seems turned to the side; a frontal photo works better"
    return gallery, msg + ".", preview, None


def _pending_row(pending: list | None):
    return gr.Row(visible=bool(pending))


@user_errors
def enrol(name: str, files: list | None, snapshot, face_choice: str, doc: Any, detector: str, embedder: str,
          threshold: float | None = None):
    """Enrol the uploaded photos and/or the webcam snapshot under ``name``.

    A photo that looks like another person already in the gallery (closer than the decision threshold)
    is not filed: it is held back and named in the message, for the visitor to confirm or drop.
    Returns the new gallery (JSON state), a status message, a preview of the last photo, the emptied
    Photos list and snapshot (so the next name never picks up this person's photos), the held-back
    photos (state) and the visibility of the confirm / drop buttons."""
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
    face = face_index(face_choice)
    thr = threshold_for(embedder, threshold)
    lines, preview, pending = [], None, []
    for source, value in items:
        try:
            rgb = read_upload(value)
        except gr.Error as exc:
            lines.append(f"**Skipped** {source}: {exc.message if hasattr(exc, 'message') else exc}")
            continue
        gallery, line, preview, held = _enrol_one(gallery, name, rgb, source, face, detector, embedder, thr)
        lines.append(line)
        if held is not None:
            pending.append(held)
    pending = pending or None
    return doc_of(gallery), "  \n".join(lines), preview, None, None, pending, _pending_row(pending)


@user_errors
def enrol_pending(pending: list | None, doc: Any, embedder: str):
    """"Enrol anyway": file the held-back photos under the name they were given."""
    if not pending:
        return gr.skip(), "Nothing is waiting to be enrolled.", None, _pending_row(None)
    gallery = gallery_of(doc, embedder)
    lines = []
    for p in pending:
        if len(gallery) and gallery.model != p["model"]:
            raise gr.Error(f"Your gallery now holds '{gallery.model}' embeddings; the held photo was embedded "
                           f"with '{p['model']}'. Enrol it again.")
        if not len(gallery):
            gallery = Gallery.empty(p["model"], len(p["embedding"]))
        gallery = gallery.enrol(p["name"], np.asarray([p["embedding"]], np.float32), [p["source"]],
                                model=p["model"])
        lines.append(f"{p['source']}: enrolled as '{p['name']}' (you confirmed it is not {p['other']}).")
    return doc_of(gallery), "  \n".join(lines), None, _pending_row(None)


def drop_pending(pending: list | None):
    """"Drop": forget the held-back photos; the gallery stays as it is."""
    if not pending:
        return "Nothing is waiting to be enrolled.", None, _pending_row(None)
    names = ", ".join(p["source"] for p in pending)
    return f"Dropped {names}: not enrolled.", None, _pending_row(None)


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
    folder = session_dir("cvlab-gallery-")
    path = folder / "face-gallery.json"
    path.write_text(gallery.to_json(), encoding="utf-8")
    return str(path)


@user_errors
def import_gallery(file: Any, doc: Any, embedder: str, merge: bool):
    """Read an exported gallery (.json); replace the current one, or merge into it."""
    if file is None:
        raise gr.Error("Choose a gallery .json file to import.")
    try:
        data = trusted_upload(file).read_bytes()
    except OSError:
        raise gr.Error("Could not read the uploaded file.") from None
    imported = Gallery.from_json(data, known=known_models())
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
        gallery = Gallery.from_dict(saved, known=known_models())
    except GalleryError as exc:
        return doc, f"The gallery saved in this browser cannot be used: {exc}"
    return doc_of(gallery), f"Restored {len(gallery)} people, {gallery.n_photos} photos from this browser."


def auto_restore(saved: Any, doc: Any):
    """When the browser's kept copy appears (page load): bring it back if the session's gallery is
    empty, and keep the box ticked. Never overwrites a gallery the session already has."""
    if not saved or doc:
        return gr.skip(), gr.skip(), gr.skip()
    try:
        gallery = Gallery.from_dict(saved, known=known_models())
    except GalleryError:
        return gr.skip(), gr.skip(), gr.skip()
    return (doc_of(gallery), True,
            f"Restored {len(gallery)} people, {gallery.n_photos} photos kept in this browser.")


def clear_unless_pending(pending: list | None):
    """The enrol message after another edit: kept while it asks about a held-back photo, else cleared
    (an old "enrolled" line must not stand next to a gallery that has changed since)."""
    return gr.skip() if pending else ""


def build_gallery_tab(c: SharedControls) -> dict[str, Any]:
    """The Gallery sub-tab; returns the components that list the gallery (table, summary, pickers)."""
    ui = SimpleNamespace()  # the sub-tab's components by name, for _wire_events
    with gr.Tab("Gallery"):
        # Inside the Tab: a component (even a State) between two Tabs of a gr.Tabs shifts the tab labels.
        ui.browser_saved = gr.BrowserState(None, storage_key="cvlab-face-gallery", secret=browser_state_secret())
        gr.Markdown("Enrol a person from one or more photos (uploads or webcam snapshots). Each photo becomes "
                    "one embedding; more photos (angles, lighting) make recognition sturdier.")
        with gr.Row():
            with gr.Column(scale=2):
                ui.enrol_name = gr.Textbox(label="Name", placeholder="e.g. Ada Lovelace", elem_id="faces-enrol-name")
                ui.enrol_files = gr.File(label="Photos", file_count="multiple", file_types=["image"],
                                         elem_id="faces-enrol-files")
                ui.enrol_files.upload(check_photo_files, ui.enrol_files, ui.enrol_files, preprocess=False,
                                      api_name=False, show_progress="hidden")
                ui.enrol_snap = ImageInput(label="…or a webcam snapshot", sources=["webcam"], type="numpy",
                                           height=240)
                ui.enrol_face = gr.Dropdown(FACE_CHOICES, value="largest",
                                            label="Face to enrol when a photo has several (1 = largest)")
                with gr.Row():
                    ui.enrol_btn = gr.Button("Enrol", variant="primary", elem_id="faces-enrol-btn")
                    ui.examples_btn = gr.Button("Load the example gallery")
                ui.enrol_md = gr.Markdown(elem_id="faces-enrol-msg")
                with gr.Row(visible=False, elem_id="faces-enrol-confirm") as ui.pending_row:
                    ui.anyway_btn = gr.Button("Enrol anyway", variant="secondary", elem_id="faces-enrol-anyway")
                    ui.drop_btn = gr.Button("Drop", variant="stop", elem_id="faces-enrol-drop")
                ui.pending_state = gr.State(None)
                ui.enrol_preview = gr.Image(label="Last photo: faces found", interactive=False, height=240)
            with gr.Column(scale=3):
                ui.summary_md = gr.Markdown(gallery_summary(gallery_of(None)), elem_id="faces-gallery-summary")
                ui.table = gr.Dataframe(value=gallery_table(gallery_of(None)), interactive=False,
                                     label="Your gallery", elem_id="faces-gallery-table")
                with gr.Accordion("Edit", open=True):
                    with gr.Row():
                        ui.manage_person = gr.Dropdown(choices=[], label="Person")
                        ui.new_name = gr.Textbox(label="New name")
                    with gr.Row():
                        ui.rename_btn = gr.Button("Rename")
                        ui.forget_btn = gr.Button("Forget this person", variant="stop")
                    with gr.Row():
                        ui.manage_photo = gr.Dropdown(choices=[], label="Photo")
                        ui.remove_btn = gr.Button("Remove this photo")
                    ui.forget_all_btn = gr.Button("Forget everyone", variant="stop", size="sm")
                with gr.Accordion("Export / import (embeddings only, no images)", open=False):
                    with gr.Row():
                        ui.export_btn = gr.Button("Export gallery (.json)")
                        ui.export_file = gr.File(label="Download", interactive=False)
                    ui.import_file = gr.File(label="Import a gallery .json", file_types=[".json"])
                    ui.import_merge = gr.Checkbox(label="Merge into my gallery (instead of replacing it)")
                    ui.import_btn = gr.Button("Import")
                with gr.Row():
                    ui.keep_box = gr.Checkbox(label="Keep my gallery in this browser (local storage)")
                    ui.restore_btn = gr.Button("Restore the gallery kept in this browser", size="sm")
                ui.manage_md = gr.Markdown(elem_id="faces-manage-msg")
    _wire_events(c, ui)

    return {"table": ui.table, "summary_md": ui.summary_md, "manage_person": ui.manage_person,
            "manage_photo": ui.manage_photo}


def _wire_events(c: SharedControls, ui: SimpleNamespace) -> None:
    """The Gallery sub-tab's events (``ui``: its components by name)."""
    state, quiet = c.gallery_state, dict(api_name=False)
    state.change(save_to_browser, [state, ui.keep_box], [ui.browser_saved], show_progress="hidden", **quiet)
    ui.keep_box.change(save_to_browser, [state, ui.keep_box], [ui.browser_saved], **quiet)
    clear_manage = dict(fn=lambda: "", inputs=None, outputs=ui.manage_md, **quiet)
    keep_enrol_msg = dict(fn=clear_unless_pending, inputs=[ui.pending_state], outputs=ui.enrol_md, **quiet)
    ui.enrol_btn.click(enrol, [ui.enrol_name, ui.enrol_files, ui.enrol_snap, ui.enrol_face, state, c.detector,
                               c.embedder, c.threshold],
                       [state, ui.enrol_md, ui.enrol_preview, ui.enrol_files, ui.enrol_snap, ui.pending_state,
                        ui.pending_row], api_name="faces_enrol").success(**clear_manage)
    ui.anyway_btn.click(enrol_pending, [ui.pending_state, state, c.embedder],
                        [state, ui.enrol_md, ui.pending_state, ui.pending_row],
                        api_name="faces_enrol_anyway").success(**clear_manage)
    ui.drop_btn.click(drop_pending, [ui.pending_state], [ui.enrol_md, ui.pending_state, ui.pending_row], **quiet)
    ui.examples_btn.click(load_examples, [state, c.detector, c.embedder], [state, ui.enrol_md],
                          api_name="faces_example_gallery").success(**clear_manage)
    ui.rename_btn.click(rename_person, [state, ui.manage_person, ui.new_name], [state, ui.manage_md],
                        api_name="faces_rename").success(**keep_enrol_msg)
    ui.forget_btn.click(forget_person, [state, ui.manage_person], [state, ui.manage_md],
                        api_name="faces_forget").success(**keep_enrol_msg)
    ui.remove_btn.click(remove_photo, [state, ui.manage_photo], [state, ui.manage_md],
                        api_name="faces_remove_photo").success(**keep_enrol_msg)
    ui.forget_all_btn.click(forget_everyone, [state], [state, ui.manage_md], **quiet).success(**keep_enrol_msg)
    ui.export_btn.click(export_gallery, [state], [ui.export_file], api_name="faces_export")
    ui.import_btn.click(import_gallery, [ui.import_file, state, c.embedder, ui.import_merge], [state, ui.manage_md],
                        api_name="faces_import")
    ui.restore_btn.click(restore_from_browser, [ui.browser_saved, state], [state, ui.manage_md], **quiet)
    # The kept copy arrives when the browser reads its storage (not at page load: the Faces tab may
    # mount later, and a load event would read the empty value first).
    ui.browser_saved.change(auto_restore, [ui.browser_saved, state], [state, ui.keep_box, ui.manage_md],
                            show_progress="hidden", **quiet)
