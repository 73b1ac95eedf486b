"""The Faces tab's callbacks on real photos, and per-session galleries through the real app's API."""
from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from core.image import load_image
from demos.faces import calibrate as calibrate_tab
from demos.faces import gallery as gallery_tab
from demos.faces import learn as learn_tab
from demos.faces import recognize as recognize_tab
from demos.faces import shared
from demos.faces import verify as verify_tab

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = ROOT / "assets" / "faces" / "people"
CAT = ROOT / "assets" / "photos" / "chelsea.png"
TWO = ROOT / "assets" / "faces" / "obama_and_biden.jpg"
ARGS = ("yunet", "sface")


@pytest.fixture(scope="module")
def example_doc():
    return gallery_tab.example_gallery_doc()


def test_example_gallery_leaves_test_photos_out(example_doc):
    g = shared.gallery_of(example_doc)
    assert g.names == ["Barack Obama", "Eileen Collins", "Joe Biden"]
    assert len(g.people["Barack Obama"]) == 2


def test_enrol_reports_each_photo_and_never_errors_on_faceless_ones():
    files = [str(PEOPLE / "Joe_Biden" / "1.jpg"), str(CAT)]
    doc, msg, preview, files_out, snap_out, pending, _row = gallery_tab.enrol("  Joe   Biden ", files, None,
                                                                              "largest", None, *ARGS)
    g = shared.gallery_of(doc)
    assert g.names == ["Joe Biden"] and g.n_photos == 1
    assert "1.jpg: enrolled" in msg and "chelsea.png: no face found" in msg
    assert files_out is None and snap_out is None and pending is None  # the Photos list is emptied
    doc2, msg2, *_ = gallery_tab.enrol("Eileen", [str(PEOPLE / "Eileen_Collins" / "1.jpg")], None, "largest",
                                       doc, *ARGS)
    assert "enrolled" in msg2 and shared.gallery_of(doc2).n_photos == 2
    assert shared.gallery_of(doc).n_photos == 1  # the old state value is untouched
    with pytest.raises(gr.Error, match="name"):
        gallery_tab.enrol("", files, None, "largest", None, *ARGS)
    with pytest.raises(gr.Error, match="photos"):
        gallery_tab.enrol("X", [], None, "largest", None, *ARGS)


def test_enrol_holds_back_a_photo_that_looks_like_someone_already_enrolled():
    """Obama's photos typed in under "Biden": not filed silently, named, then confirmed or dropped."""
    obama = [str(PEOPLE / "Barack_Obama" / f"{i}.jpg") for i in (1, 2)]
    doc, *_ = gallery_tab.enrol("Barack Obama", obama[:1], None, "largest", None, *ARGS, 0.363)
    doc2, msg, _, files_out, _, pending, row = gallery_tab.enrol("Joe Biden", obama[1:], None, "largest", doc,
                                                                 *ARGS, 0.363)
    assert shared.gallery_of(doc2).names == ["Barack Obama"] and shared.gallery_of(doc2).n_photos == 1
    assert "looks like **Barack Obama** (0." in msg and "not enrolled" in msg
    assert files_out is None and len(pending) == 1 and row.visible is True
    dropped_msg, pending_after, row2 = gallery_tab.drop_pending(pending)
    assert "Dropped 2.jpg" in dropped_msg and pending_after is None and row2.visible is False
    doc3, msg3, pending3, _ = gallery_tab.enrol_pending(pending, doc2, "sface")
    g3 = shared.gallery_of(doc3)
    assert g3.names == ["Barack Obama", "Joe Biden"] and "you confirmed" in msg3 and pending3 is None
    # the same photo twice under one name is one photo (an upload that arrived twice)
    doc4, msg4, *_ = gallery_tab.enrol("Barack Obama", obama[:1] * 2, None, "largest", doc, *ARGS, 0.363)
    assert shared.gallery_of(doc4).n_photos == 1 and "already enrolled" in msg4


def test_verify_two_photos_and_against_gallery(example_doc):
    a = load_image(PEOPLE / "Barack_Obama" / "3.jpg")
    b = load_image(PEOPLE / "Barack_Obama" / "1.jpg")
    out = verify_tab.verify_photos(a, b, "photo", None, "largest", "largest", None, *ARGS, 0.363)
    ann_a, ann_b, crops, axis, verdict, cache, *_ = out
    assert "Same person" in verdict and "<svg" in axis and "threshold 0.363" in axis
    assert crops.shape[0] == 112 and crops.shape[1] > 224
    # the slider only re-renders the cached comparison
    axis2, verdict2 = verify_tab.render_verification(cache, 0.95)
    assert "Different people" in verdict2
    out = verify_tab.verify_photos(a, None, "gallery", "Barack Obama", "largest", "largest", example_doc, *ARGS, 0.363)
    assert "Same person" in out[4] and "Grey dots" in out[4]
    out = verify_tab.verify_photos(a, None, "gallery", "Joe Biden", "largest", "largest", example_doc, *ARGS, 0.363)
    assert "Different people" in out[4]


def test_verify_no_face_and_several_faces_are_messages():
    cat = load_image(CAT)
    out = verify_tab.verify_photos(cat, load_image(PEOPLE / "Joe_Biden" / "1.jpg"), "photo", None, "largest", "largest",
                          None, *ARGS, 0.363)
    assert "No face found in photo A" in out[4]
    two = load_image(TWO)
    out = verify_tab.verify_photos(two, load_image(PEOPLE / "Joe_Biden" / "1.jpg"), "photo", None, "2", "largest",
                          None, *ARGS, 0.363)
    assert "2 faces; face 2 is used" in out[4]
    picker = out[6]
    assert picker.choices and [c[0] for c in picker.choices] == ["largest", "1", "2"]


def test_recognize_photo_names_and_unknowns(example_doc):
    drawn, table, notes, _ = recognize_tab.recognize_photo(load_image(TWO), example_doc, *ARGS, 0.363, "nearest")
    assert sorted(table["name"]) == ["Barack Obama", "Joe Biden"]
    _, table, _, _ = recognize_tab.recognize_photo(load_image(PEOPLE / "Grace_Hopper" / "1.jpg"), example_doc, *ARGS, 0.363,
                                       "mean")
    assert list(table["name"]) == ["unknown"]
    _, table, notes, _ = recognize_tab.recognize_photo(load_image(CAT), example_doc, *ARGS, 0.363, "nearest")
    assert len(table) == 0 and "No face found" in notes


def test_live_frame_keeps_going_and_reports_server_time(example_doc):
    frame = load_image(PEOPLE / "Barack_Obama" / "3.jpg")
    clock = None
    for _ in range(4):
        out, text, clock = recognize_tab.live_frame(frame, example_doc, *ARGS, 0.363, "nearest", clock)
    # the frame rate is the page's to measure (frames shown), never claimed by the server
    assert out.shape == frame.shape and "ms per frame on the server" in text and "Barack Obama" in text
    assert "fps" not in text and clock["memory"] is not None
    out, text, _ = recognize_tab.live_frame(np.zeros((480, 640, 3), np.uint8), example_doc, *ARGS, 0.363, "nearest", clock)
    assert "no face" in text
    # a gallery of another model: a warning in the text, never an exception
    other = dict(example_doc, model="facenet-vggface2")
    _, text, _ = recognize_tab.live_frame(frame, other, *ARGS, 0.363, "nearest", None)
    assert "facenet-vggface2" in text


def test_calibrate_learn_and_project(example_doc):
    hist, roc, md, cal = calibrate_tab.calibrate_gallery(example_doc, "sface", 0.363)
    assert "<svg" in hist and "<svg" in roc and "Equal-error rate" in md and "1 same-person" in md
    assert cal["suggested"] > 0.3
    assert calibrate_tab.use_suggested(cal, "sface", 0.363) == round(cal["suggested"], 3)
    empty = calibrate_tab.calibrate_gallery(None, "sface", 0.363)
    assert empty[3] is None and "empty" in empty[2]

    g = shared.gallery_of(example_doc)
    a, p, n = learn_tab.default_triplet(g)
    svg, md = learn_tab.triplet_view(example_doc, a, p, n, 0.2)
    assert "easy" in md and "loss" in md and "<svg" in svg
    svg, md = learn_tab.triplet_view(example_doc, a, p, n, 1.5)
    assert "semi-hard" in md or "hard" in md

    md, clf = learn_tab.fit_pairs(example_doc, 1.0)
    assert "training accuracy" in md and len(clf["weights"]) == 128
    ids = [e.id for _, e in g.entries()]
    same = learn_tab.pair_probability(example_doc, clf, g.people["Barack Obama"][0].id, g.people["Barack Obama"][1].id)
    diff = learn_tab.pair_probability(example_doc, clf, g.people["Barack Obama"][0].id, g.people["Joe Biden"][0].id)
    p_same = float(same.split("**")[1])
    p_diff = float(diff.split("**")[1])
    assert p_same > 0.5 > p_diff and len(ids) == 4

    df, md = learn_tab.project(example_doc)
    assert len(df) == 4 and set(df["person"]) == set(g.names) and "variance" in md


def test_gallery_management_and_export_import(example_doc, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))  # files "uploaded" here, as Gradio's route would
    doc, msg = gallery_tab.rename_person(example_doc, "Joe Biden", "Joseph R. Biden")
    assert "Joseph R. Biden" in shared.gallery_of(doc).names
    photo = shared.gallery_of(doc).people["Barack Obama"][0].id
    doc, msg = gallery_tab.remove_photo(doc, photo)
    assert len(shared.gallery_of(doc).people["Barack Obama"]) == 1
    doc, msg = gallery_tab.forget_person(doc, "Eileen Collins")
    assert shared.gallery_of(doc).names == ["Barack Obama", "Joseph R. Biden"]

    exported = gallery_tab.export_gallery(doc)
    text = Path(exported).read_text()
    assert "embedding" in text and json.loads(text)["model"] == "sface"
    path = tmp_path / "face-gallery.json"  # downloaded, then uploaded again
    path.write_text(text)
    with pytest.raises(gr.Error, match="not uploaded through this page"):
        gallery_tab.import_gallery(exported, None, "sface", False)  # a server path, not an upload
    back, msg = gallery_tab.import_gallery(path, None, "sface", False)
    assert shared.gallery_of(back).names == shared.gallery_of(doc).names and "Imported 2 people" in msg
    merged, _ = gallery_tab.import_gallery(path, example_doc, "sface", True)
    assert shared.gallery_of(merged).n_photos == 4 + 2

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "cvlab-face-gallery", "version": 1, "model": "sface", "dim": 128, "people": [{}]}')
    with pytest.raises(gr.Error, match="name"):
        gallery_tab.import_gallery(str(bad), None, "sface", False)
    bad.write_text("{not json")
    with pytest.raises(gr.Error, match="not valid JSON"):
        gallery_tab.import_gallery(str(bad), None, "sface", False)
    with pytest.raises(gr.Error, match="empty"):
        gallery_tab.export_gallery(None)


def test_browser_copy_only_when_asked(example_doc):
    assert gallery_tab.save_to_browser(example_doc, False) is None
    assert gallery_tab.save_to_browser(example_doc, True) == example_doc
    doc, msg = gallery_tab.restore_from_browser(example_doc, None)
    assert shared.gallery_of(doc).names == shared.gallery_of(example_doc).names
    doc, msg = gallery_tab.restore_from_browser({"format": "x"}, None)
    assert doc is None and "cannot be used" in msg
    # automatic restore: only into an empty session, never over a gallery it already has
    doc, keep, _ = gallery_tab.auto_restore(example_doc, None)
    assert shared.gallery_of(doc).names == shared.gallery_of(example_doc).names and keep is True
    skipped = gallery_tab.auto_restore(example_doc, example_doc)
    assert all(isinstance(v, dict) and v.get("__type__") == "update" for v in skipped)


def test_two_sessions_never_share_a_gallery(tmp_path):
    """Two API clients = two browser sessions of the real app: one enrols, the other sees nothing."""
    from gradio_client import Client, handle_file

    from tests.app_server import running_app

    with running_app(tmp_path / "app.log") as (url, _proc):
        alice = Client(url, verbose=False)
        bob = Client(url, verbose=False)
        photo = handle_file(str(PEOPLE / "Barack_Obama" / "1.jpg"))
        probe = handle_file(str(PEOPLE / "Barack_Obama" / "3.jpg"))
        alice.predict("Barack Obama", [photo], None, "largest", "yunet", "sface", api_name="/faces_enrol")
        _, a_table, _, _ = alice.predict(probe, "yunet", "sface", 0.363, "nearest", api_name="/faces_recognize")
        _, b_table, b_notes, _ = bob.predict(probe, "yunet", "sface", 0.363, "nearest", api_name="/faces_recognize")
        a_names = [row[1] for row in a_table["data"]]
        b_names = [row[1] for row in b_table["data"]]
        assert a_names == ["Barack Obama"]
        assert b_names == ["unknown"] and "empty" in b_notes
