"""Faces on real photos with the bundled models (YuNet / MTCNN + SFace), and their plumbing.

Photos: assets/faces/people/<Person>/<n>.jpg, US government portraits (public domain), see assets/README.md.
"""
from __future__ import annotations

import io
import itertools
import json
import threading
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from core import faces as F
from core import models
from core.faces.gallery import Gallery, GalleryError
from core.image import load_image

ROOT = Path(__file__).resolve().parents[2]
FACES = ROOT / "assets" / "faces" / "people"
PHOTOS = ROOT / "assets" / "photos"


def _photos() -> list[tuple[str, Path]]:
    return [(F.person_name_from_folder(p.parent.name), p) for p in sorted(FACES.glob("*/*.jpg"))]


@pytest.fixture(scope="module")
def embedded():
    """name, path, embedding of the largest face of every asset photo, per detector."""
    out = {}
    for det in ("yunet", "mtcnn"):
        rows = []
        for name, path in _photos():
            faces = F.analyze(load_image(path), det)
            assert len(faces) >= 1, f"{det} found no face in {path}"
            rows.append((name, path, faces.embeddings[faces.largest()]))
        out[det] = rows
    return out


def test_assets_have_several_people_and_several_photos_of_one():
    people = {}
    for name, path in _photos():
        people.setdefault(name, []).append(path)
        assert path.stat().st_size < 200_000
    assert len(people) >= 4
    assert max(len(v) for v in people.values()) >= 3


@pytest.mark.parametrize("detector", ["yunet", "mtcnn"])
def test_every_same_person_pair_beats_every_different_pair(embedded, detector):
    rows = embedded[detector]
    same, diff = [], []
    for (na, pa, ea), (nb, pb, eb) in itertools.combinations(rows, 2):
        (same if na == nb else diff).append(float(ea @ eb))
    assert len(same) >= 3 and len(diff) >= 10
    assert min(same) > max(diff), (min(same), max(diff))
    thr = models.get("sface").meta["threshold"]
    # the published threshold separates these real photos too
    assert min(same) >= thr > max(diff)


def test_embeddings_are_unit_length_and_crops_aligned():
    faces = F.analyze(load_image(FACES / "Joe_Biden" / "1.jpg"))
    assert faces.embeddings.shape == (1, 128)
    assert np.allclose(np.linalg.norm(faces.embeddings, axis=1), 1.0, atol=1e-5)
    assert faces.crops.shape == (1, 112, 112, 3) and faces.crops.dtype == np.uint8
    # after alignment the eyes sit near the template's eye row (y ~ 52 of 112): the upper half is
    # darker than a flat crop would be only if the face is there; check the landmarks instead.
    lm = faces.landmarks[0]
    assert lm[0, 0] < lm[1, 0]  # image-left eye first
    assert lm[2, 1] > lm[0, 1] and lm[3, 1] > lm[2, 1]  # nose below eyes, mouth below nose


def test_verify_same_and_different():
    a = load_image(FACES / "Barack_Obama" / "1.jpg")
    b = load_image(FACES / "Barack_Obama" / "2.jpg")
    c = load_image(FACES / "Grace_Hopper" / "1.jpg")
    same, fa, fb = F.verify(a, b)
    diff, _, _ = F.verify(a, c)
    assert same.same_person and not diff.same_person
    assert same.similarity > diff.similarity
    assert same.metric == "cosine" and same.threshold == pytest.approx(0.363)
    assert same.distance == pytest.approx(np.sqrt(2 - 2 * same.similarity), abs=1e-5)
    d = same.to_dict()
    assert set(d) >= {"same_person", "similarity", "threshold", "model", "timings_ms"}
    # an explicit threshold above the similarity flips the decision
    strict, _, _ = F.verify(a, b, threshold=min(0.999, same.similarity + 0.01))
    assert not strict.same_person


def test_compare_euclidean_metric_uses_distance():
    v = F.compare(np.array([1.0, 0, 0]), np.array([0.8, 0.6, 0]), embedder="facenet-vggface2")
    assert v.metric == "euclidean"
    assert v.distance == pytest.approx(np.sqrt(2 - 2 * 0.8), abs=1e-6)
    assert v.same_person == (v.distance <= 1.04)
    assert "distance" in v.to_dict() and "similarity" not in v.to_dict()


@pytest.fixture(scope="module")
def gallery_without_obama3_and_hopper():
    g = Gallery.empty("sface", 128)
    for name, path in _photos():
        if path.name == "3.jpg" and name == "Barack Obama" or name == "Grace Hopper":
            continue
        g, _, _ = F.enrol_photo(g, name, load_image(path), source=path.name)
    return g


@pytest.mark.parametrize("mode", ["nearest", "mean"])
def test_identify_known_and_reject_unknown(gallery_without_obama3_and_hopper, mode):
    g = gallery_without_obama3_and_hopper
    assert g.names == ["Barack Obama", "Eileen Collins", "Joe Biden"]
    rec = F.recognize(load_image(FACES / "Barack_Obama" / "3.jpg"), g, mode=mode)
    assert [m.name for m in rec.matches] == ["Barack Obama"]
    assert rec.matches[0].similarity >= rec.threshold
    unknown = F.recognize(load_image(FACES / "Grace_Hopper" / "1.jpg"), g, mode=mode)
    assert [m.name for m in unknown.matches] == [None]
    assert unknown.matches[0].best_name in g.names  # the closest is still reported for teaching
    assert unknown.to_dict()["faces"][0]["name"] is None


def test_recognize_many_faces_in_one_image(gallery_without_obama3_and_hopper):
    left = load_image(FACES / "Barack_Obama" / "3.jpg")
    right = load_image(FACES / "Joe_Biden" / "1.jpg")
    h = min(left.shape[0], right.shape[0])
    both = np.concatenate([left[:h], right[:h]], axis=1)
    rec = F.recognize(both, gallery_without_obama3_and_hopper)
    by_x = sorted(rec.matches, key=lambda m: m.box[0])
    assert [m.name for m in by_x] == ["Barack Obama", "Joe Biden"]
    drawn = F.draw_recognition(both, rec, gallery_without_obama3_and_hopper.names)
    assert drawn.shape == both.shape and not np.array_equal(drawn, both)
    # verify picks a chosen face among several
    v_left, fa, _ = F.verify(both, left, face_a=int(np.argmin(F.detect(both).boxes[:, 0])))
    assert v_left.same_person and v_left.faces_found == (2, 1)
    assert any("2 faces" in n for n in v_left.notes)


def test_no_face_is_a_message_not_a_crash(gallery_without_obama3_and_hopper):
    cat = load_image(PHOTOS / "chelsea.png")
    assert len(F.detect(cat)) == 0
    assert len(F.detect(cat, "mtcnn")) == 0
    rec = F.recognize(cat, gallery_without_obama3_and_hopper)
    assert rec.matches == ()
    with pytest.raises(F.FaceError, match="No face"):
        F.verify(cat, load_image(FACES / "Joe_Biden" / "1.jpg"))
    with pytest.raises(F.FaceError, match="No face"):
        F.enrol_photo(gallery_without_obama3_and_hopper, "Cat", cat)


def test_tiny_face_is_flagged_and_not_enrolled():
    import cv2

    rgb = load_image(FACES / "Joe_Biden" / "1.jpg")
    small = cv2.resize(rgb, None, fx=0.22, fy=0.22, interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 200, np.uint8)
    canvas[:small.shape[0], :small.shape[1]] = small
    faces = F.detect(canvas)
    assert len(faces) == 1 and faces.sides[0] < F.MIN_FACE_SIDE
    assert any("too small" in n for n in faces.notes)
    with pytest.raises(F.FaceError, match="px across"):
        F.enrol_photo(Gallery.empty("sface", 128), "Joe", canvas)


def test_gallery_export_import_round_trip(gallery_without_obama3_and_hopper):
    g = gallery_without_obama3_and_hopper.rename("Joe Biden", "Joseph Biden")
    text = g.to_json()
    doc = json.loads(text)
    assert doc["format"] == "cvlab-face-gallery" and doc["model"] == "sface"
    # embeddings only: nothing that looks like image data
    assert set(doc["people"][0]["photos"][0]) == {"id", "source", "embedding"}
    back = Gallery.from_json(text, model="sface", dim=128)
    assert back.names == g.names
    a, na, ia = g.matrix()
    b, nb, ib = back.matrix()
    assert na == nb and ia == ib and np.allclose(a, b, atol=1e-5)
    # identification gives the same answer after the round trip
    e = F.analyze(load_image(FACES / "Barack_Obama" / "3.jpg")).embeddings
    assert F.identify(back, e, threshold=0.363, metric="cosine")[0].name == "Barack Obama"


def _doc(g: Gallery) -> dict:
    return json.loads(g.to_json())


@pytest.mark.parametrize("mutate,message", [
    (lambda d: "not json at all", "not valid JSON"),
    (lambda d: [1, 2], "JSON object"),
    (lambda d: {**d, "format": "something-else"}, "not a CV Lab face gallery"),
    (lambda d: {**d, "version": 99}, "Unsupported gallery version"),
    (lambda d: {**d, "dim": "128"}, "embedding length"),
    (lambda d: {**d, "model": "facenet-vggface2"}, "was made with"),
    (lambda d: {**d, "people": {}}, "no list of people"),
    (lambda d: {**d, "people": [{"name": "", "photos": d["people"][0]["photos"]}]}, "type a name"),
    (lambda d: {**d, "people": [{"name": "X", "photos": []}]}, "no photos"),
    (lambda d: {**d, "people": [{"name": "X", "photos": [{"embedding": [0.1] * 5}]}]}, "128 numbers"),
    (lambda d: {**d, "people": [{"name": "X", "photos": [{"embedding": [1.0] * 128}]}]}, "unit length"),
    (lambda d: {**d, "people": [{"name": "X", "photos": [{"embedding": ["a"] * 128}]}]}, "128 numbers"),
])
def test_malformed_gallery_json_is_refused(gallery_without_obama3_and_hopper, mutate, message):
    doc = mutate(_doc(gallery_without_obama3_and_hopper))
    text = doc if isinstance(doc, str) else json.dumps(doc)
    with pytest.raises(GalleryError, match=message):
        Gallery.from_json(text, model="sface", dim=128)


def test_nan_embedding_is_refused(gallery_without_obama3_and_hopper):
    text = gallery_without_obama3_and_hopper.to_json()
    doc = json.loads(text)
    doc["people"][0]["photos"][0]["embedding"][0] = float("nan")
    with pytest.raises(GalleryError):
        Gallery.from_json(json.dumps(doc))


def test_gallery_edits_are_immutable_so_sessions_never_share():
    base = Gallery.empty("sface", 4)
    e1 = np.array([[1, 0, 0, 0]], np.float32)
    e2 = np.array([[0, 1, 0, 0]], np.float32)
    alice = base.enrol("Alice", e1)
    bob = base.enrol("Bob", e2)  # a second "session" starting from the same default value
    assert base.names == [] and alice.names == ["Alice"] and bob.names == ["Bob"]
    more = alice.enrol("Alice", e2)
    assert len(alice.people["Alice"]) == 1 and len(more.people["Alice"]) == 2
    pid = more.people["Alice"][0].id
    less = more.remove_photo(pid)
    assert len(more.people["Alice"]) == 2 and len(less.people["Alice"]) == 1
    assert less.forget("Alice").names == [] and less.names == ["Alice"]
    merged = more.enrol("Carol", e1).rename("Carol", "Alice")
    assert merged.names == ["Alice"] and len(merged.people["Alice"]) == 3
    with pytest.raises(GalleryError):
        alice.enrol("Alice", e1, model="facenet-vggface2")


def test_calibration_on_real_pairs(gallery_without_obama3_and_hopper):
    g = gallery_without_obama3_and_hopper
    cal = F.calibrate(g)
    assert len(cal.same) == 1 and len(cal.diff) == 5  # Obama x2 -> 1 pair; 4 photos, 3 people
    assert cal.auc == pytest.approx(1.0) and cal.eer == 0.0
    assert cal.diff.max() < cal.eer_threshold < cal.same.min()
    assert cal.fpr[0] == 0 and cal.tpr[-1] == 1 and cal.fpr[-1] == 1
    far, frr = cal.rates_at(cal.eer_threshold)
    assert far == 0 and frr == 0


def test_roc_eer_on_overlapping_scores():
    same = np.array([0.9, 0.8, 0.7, 0.4])
    diff = np.array([0.5, 0.3, 0.2, 0.1])
    cal = F.roc(same, diff)
    assert cal.eer == pytest.approx(0.25)
    assert 0.4 <= cal.eer_threshold <= 0.7
    assert 0.5 < cal.auc < 1.0
    dist = F.roc(same, diff, "euclidean")
    assert dist.suggested == pytest.approx(np.sqrt(2 - 2 * cal.eer_threshold))
    with pytest.raises(GalleryError):
        F.roc(same, [])


def test_triplet_kinds():
    a = np.array([1.0, 0.0])
    p = np.array([0.95, np.sqrt(1 - 0.95 ** 2)])
    far = np.array([0.0, 1.0])
    near = np.array([0.9, np.sqrt(1 - 0.81)])
    assert F.triplet(a, p, far, 0.2).kind == "easy" and F.triplet(a, p, far, 0.2).loss == 0
    t = F.triplet(a, p, near, 0.2)
    assert t.kind == "semi-hard" and 0 < t.loss < 0.2
    hard = F.triplet(a, near, p, 0.2)
    assert hard.kind == "hard" and hard.loss >= 0.2
    assert hard.loss == pytest.approx(hard.d_ap - hard.d_an + 0.2)


def test_triplet_and_pair_classifier_on_real_faces(embedded):
    rows = {p.parent.name + p.stem: e for _, p, e in embedded["yunet"]}
    t = F.triplet(rows["Barack_Obama1"], rows["Barack_Obama3"], rows["Joe_Biden1"], margin=0.2)
    assert t.d_ap < t.d_an and t.kind == "easy"
    g = Gallery.empty("sface", 128)
    for name, path, e in embedded["yunet"]:
        g = g.enrol(name, e[None])
    clf = F.fit_gallery_classifier(g)
    assert clf.n_same == 3 and clf.n_diff == 12
    assert clf.train_accuracy == 1.0
    assert clf.losses[-1] < clf.losses[0]
    p_same = clf.proba(rows["Barack_Obama1"], rows["Barack_Obama2"])
    p_diff = clf.proba(rows["Barack_Obama1"], rows["Grace_Hopper1"])
    assert p_same > 0.5 > p_diff
    with pytest.raises(GalleryError):
        F.fit_gallery_classifier(Gallery.empty("sface", 128).enrol("A", rows["Joe_Biden1"][None]))


def test_pca_projection_separates_people(embedded):
    rows = embedded["yunet"]
    xy, ratio = F.pca_2d(np.stack([e for _, _, e in rows]))
    assert xy.shape == (len(rows), 2) and 0 < ratio[1] <= ratio[0] <= 1
    names = [n for n, _, _ in rows]
    obama = xy[[i for i, n in enumerate(names) if n == "Barack Obama"]]
    others = xy[[i for i, n in enumerate(names) if n != "Barack Obama"]]
    spread = np.linalg.norm(obama - obama.mean(0), axis=1).max()
    gap = np.linalg.norm(others - obama.mean(0), axis=1).min()
    assert gap > spread
    assert F.pca_2d(np.zeros((1, 4)))[0].shape == (1, 2)


def test_threshold_and_metric_are_model_metadata():
    for name in ("sface", "facenet-vggface2", "facenet-casia"):
        meta = models.get(name).meta
        assert meta["metric"] in ("cosine", "euclidean")
        assert isinstance(meta["threshold"], float) and meta["threshold_source"]
    assert models.get("sface").meta["threshold"] == 0.363
    assert models.get("yunet").task == models.get("mtcnn").task == "face-detect"


def test_detector_is_safe_from_two_threads():
    rgb = load_image(FACES / "Barack_Obama" / "1.jpg")
    small = load_image(FACES / "Eileen_Collins" / "1.jpg")
    ref_a, ref_b = F.detect(rgb).boxes, F.detect(small).boxes
    errors = []

    def work(img, ref):
        try:
            for _ in range(6):
                assert np.allclose(F.detect(img).boxes, ref, atol=0.5)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=a) for a in ((rgb, ref_a), (small, ref_b)) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # 8 threads shared a bounded pool of OpenCV instances (no per-thread copies)
    from core.faces.engines import POOL_SIZE

    assert 1 <= models.load("yunet")._pool.made <= POOL_SIZE


def test_cli_verify_and_identify(tmp_path):
    from core.cli import main

    def run(*argv):
        buf = io.StringIO()
        with redirect_stdout(buf):
            rc = main(list(argv))
        return rc, (json.loads(buf.getvalue()) if buf.getvalue().strip() else None)

    rc, out = run("faces", "verify", str(FACES / "Barack_Obama" / "1.jpg"), str(FACES / "Barack_Obama" / "2.jpg"))
    assert rc == 0 and out["same_person"] is True and out["model"] == "sface"
    assert {"similarity", "threshold", "timings_ms"} <= set(out)
    rc, out = run("faces", "verify", str(FACES / "Barack_Obama" / "1.jpg"), str(FACES / "Joe_Biden" / "1.jpg"),
                  "--threshold", "0.05")
    assert rc == 0 and out["same_person"] is True and out["threshold"] == 0.05

    gal = tmp_path / "people"
    for person in ("Barack_Obama", "Joe_Biden"):
        (gal / person).mkdir(parents=True)
        for p in (FACES / person).glob("*.jpg"):
            if p.name != "3.jpg":
                (gal / person / p.name).write_bytes(p.read_bytes())
    (gal / "Joe_Biden" / "notes.txt").write_text("ignored")
    (gal / "Joe_Biden" / "cat.png").write_bytes((PHOTOS / "chelsea.png").read_bytes())
    rc, out = run("faces", "identify", str(FACES / "Barack_Obama" / "3.jpg"), "--gallery", str(gal))
    assert rc == 0 and [f["name"] for f in out["faces"]] == ["Barack Obama"]
    assert len(out["faces"][0]["box"]) == 4 and out["faces"][0]["similarity"] > 0.363
    assert any("cat.png" in s for s in out["gallery"]["skipped"])
    rc, out = run("faces", "identify", str(FACES / "Grace_Hopper" / "1.jpg"), "--gallery", str(gal))
    assert rc == 0 and [f["name"] for f in out["faces"]] == [None]
    # JSON gallery made by `faces enrol`
    rc, out = run("faces", "enrol", str(gal), "--out", str(tmp_path / "g.json"))
    assert rc == 0 and out["people"] == {"Barack Obama": 2, "Joe Biden": 1}
    rc, out = run("faces", "identify", str(FACES / "Joe_Biden" / "1.jpg"), "--gallery", str(tmp_path / "g.json"),
                  "--mode", "mean")
    assert rc == 0 and out["faces"][0]["name"] == "Joe Biden"
    # a photo with no face: clean error, exit code 2
    rc, out = run("faces", "verify", str(PHOTOS / "chelsea.png"), str(FACES / "Joe_Biden" / "1.jpg"))
    assert rc == 2 and out is None


def test_notes_for_turned_and_cut_faces():
    from core.faces.pipeline import face_notes

    box = np.array([[10, 10, 110, 130]], np.float32)
    frontal = np.array([[[40, 50], [80, 50], [60, 75], [45, 100], [75, 100]]], np.float32)
    profile = np.array([[[70, 50], [90, 50], [105, 75], [80, 100], [95, 100]]], np.float32)
    assert face_notes(box, frontal, (480, 640)) == []
    assert any("turned to the side" in n for n in face_notes(box, profile, (480, 640)))
    cut = np.array([[-40, 10, 60, 130]], np.float32)
    assert any("cut off" in n for n in face_notes(cut, frontal - [50, 0], (480, 640)))


def test_tracked_recognition_reuses_identity_of_still_faces(gallery_without_obama3_and_hopper):
    g = gallery_without_obama3_and_hopper
    frame = load_image(FACES / "Barack_Obama" / "3.jpg")
    full = F.recognize(frame, g, detect_side=F.LIVE_DETECT_SIDE)
    memory, embedded, names = None, [], []
    for _ in range(6):
        rec, memory = F.recognize_tracked(frame, g, memory, reembed_every=3)
        embedded.append(memory["embedded"])
        names.append([m.name for m in rec.matches])
        assert ("embed" in rec.timings_ms) == bool(memory["embedded"])
    assert embedded == [1, 0, 0, 1, 0, 0]
    assert names == [[m.name for m in full.matches]] * 6 == [["Barack Obama"]] * 6
    # a new threshold (or gallery) starts afresh
    rec, memory2 = F.recognize_tracked(frame, g, memory, threshold=0.99)
    assert memory2["embedded"] == 1 and rec.matches[0].name is None
    # a face that moved far is a new face: embedded again
    h, w = frame.shape[:2]
    wide = np.full((h, 2 * w, 3), 40, np.uint8)
    wide[:, :w] = frame
    _, memory_wide = F.recognize_tracked(wide, g, None)
    moved = np.full_like(wide, 40)
    moved[:, w:] = frame
    _, memory3 = F.recognize_tracked(moved, g, memory_wide)
    assert memory_wide["embedded"] == 1 and memory3["embedded"] == 1
    # reembed_every=1 is plain recognition
    rec1, m1 = F.recognize_tracked(frame, g, memory, reembed_every=1)
    assert m1["embedded"] == 1 and rec1.matches[0].similarity == pytest.approx(full.matches[0].similarity, abs=1e-5)


def test_extreme_aspect_strip_finds_no_face_instead_of_crashing():
    """A 3000x12 strip resizes to 640x3 for YuNet, which then returned NaN/inf boxes (OverflowError)."""
    strip = np.full((12, 3000, 3), 128, np.uint8)
    assert len(F.analyze(strip).boxes) == 0


def test_nearest_other_person_names_a_lookalike_before_it_is_filed(gallery_without_obama3_and_hopper):
    """Obama's third photo typed in under another name: the closest *other* person is Obama, past the
    threshold; under Obama's own name nobody else is that close; a stranger passes nobody's threshold."""
    g = gallery_without_obama3_and_hopper
    meta = F.embedder_meta("sface")
    obama3 = F.analyze(load_image(FACES / "Barack_Obama" / "3.jpg")).embeddings[0]
    look = F.nearest_other_person(g, obama3, "Joe  Biden", threshold=meta["threshold"], metric="cosine")
    assert look.name == "Barack Obama" and look.same and look.similarity > meta["threshold"]
    own = F.nearest_other_person(g, obama3, "Barack Obama", threshold=meta["threshold"], metric="cosine")
    assert own.name != "Barack Obama" and not own.same
    hopper = F.analyze(load_image(FACES / "Grace_Hopper" / "1.jpg")).embeddings[0]
    assert not F.nearest_other_person(g, hopper, "Grace Hopper", threshold=meta["threshold"], metric="cosine").same
    # the same closeness stated as a distance for euclidean models
    as_dist = F.nearest_other_person(g, obama3, "X", threshold=1.0, metric="euclidean")
    assert abs(as_dist.value - float(F.cosine_to_distance(look.similarity))) < 1e-6
    assert F.nearest_other_person(Gallery.empty("sface", 128), obama3, "X", threshold=0.3, metric="cosine") is None
    first = g.people["Barack Obama"][0].embedding
    assert F.is_enrolled(g, first, "Barack Obama") and not F.is_enrolled(g, first, "Joe Biden")
    assert not F.is_enrolled(g, obama3, "Barack Obama")
