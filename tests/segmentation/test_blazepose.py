"""The bundled multi-person BlazePose engine on real photos (real weights from the mediapipe wheel)."""
from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from PIL import Image

from core.image import load_image
from core.segmentation import blazepose as bp

NOSE, L_SH, R_SH, L_HIP, R_HIP = 0, 11, 12, 23, 24


@pytest.fixture(scope="module")
def astronaut(photos):
    return load_image(photos / "astronaut.png")


@pytest.fixture(scope="module")
def two_people(photos):
    return load_image(photos / "two_people.jpg")


def plausible_upper_body(kp: np.ndarray, image_width: int) -> None:
    """Nose above the shoulders, shoulders apart and level-ish, the person's left on the image right
    (a person facing the camera), and the hips (when in the picture) below the shoulders."""
    nose, ls, rs = kp[NOSE], kp[L_SH], kp[R_SH]
    assert nose[2] > 0.5 and ls[2] > 0.5 and rs[2] > 0.5
    assert nose[1] < min(ls[1], rs[1]), "nose must be above both shoulders"
    width = abs(ls[0] - rs[0])
    assert width > 0.15 * image_width, "shoulders must be apart"
    assert abs(ls[1] - rs[1]) < 0.5 * width, "shoulders roughly level"
    assert ls[0] > rs[0], "facing the camera: the person's left shoulder is on the image's right"
    assert min(rs[0], ls[0]) < nose[0] < max(rs[0], ls[0]), "nose between the shoulders"
    hips_y = (kp[L_HIP, 1] + kp[R_HIP, 1]) / 2
    assert hips_y > (ls[1] + rs[1]) / 2, "hips below shoulders"


# --------------------------------------------------------------------------- decoding maths
def test_anchor_grid_matches_mediapipe_layout():
    a = bp.detector_anchors()
    assert a.shape == (2254, 2)
    # stride 8: 28x28 cells x 2 anchors, first centre at half a cell
    np.testing.assert_allclose(a[0], [0.5 / 28, 0.5 / 28], atol=1e-6)
    np.testing.assert_allclose(a[1], a[0])
    np.testing.assert_allclose(a[2], [1.5 / 28, 0.5 / 28], atol=1e-6)
    # the three stride-32 layers share one 7x7 grid with 6 anchors per cell
    np.testing.assert_allclose(a[28 * 28 * 2 + 14 * 14 * 2], [0.5 / 7, 0.5 / 7], atol=1e-6)
    assert np.allclose(a[-6:], a[-1])
    assert a.min() > 0 and a.max() < 1


def test_letterbox_keeps_aspect_and_centres():
    img = np.full((100, 300, 3), 200, np.uint8)
    sq, scale, px, py = bp.letterbox(img)
    assert sq.shape == (224, 224, 3)
    assert scale == pytest.approx(224 / 300)
    assert px == 0 and py == pytest.approx((224 - round(100 * scale)) // 2)
    assert sq[0, 112].sum() == 0 and sq[112, 112, 0] == 200


def test_weighted_nms_averages_a_group_and_keeps_separate_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    pts = np.zeros((3, 4, 2), np.float32)
    pts[1] += 1.0
    scores = np.array([0.9, 0.3, 0.8], np.float32)
    b, p, s = bp.weighted_nms(boxes, pts, scores)
    assert len(s) == 2 and s[0] == pytest.approx(0.9) and s[1] == pytest.approx(0.8)
    np.testing.assert_allclose(b[0], [0.25, 0.25, 10.25, 10.25], atol=1e-5)  # (0.9*0 + 0.3*1) / 1.2
    np.testing.assert_allclose(p[0], 0.25, atol=1e-5)


def test_roi_rule_and_affine_round_trip():
    upright = bp.roi_from_alignment(np.array([[100, 200], [100, 100]], np.float32))
    assert upright.rotation == pytest.approx(0.0)
    assert upright.size == pytest.approx(2 * 100 * bp.ROI_SCALE)
    lying = bp.roi_from_alignment(np.array([[100, 200], [200, 200]], np.float32))  # head to the right
    assert lying.rotation == pytest.approx(math.pi / 2)
    m = lying.crop_to_image()
    top_centre = m @ np.array([128, 0, 1.0])  # the crop's "up" is the body's head direction
    assert top_centre[0] > 100 + 0.9 * lying.size / 2 and abs(top_centre[1] - 200) < 1e-3
    inv = lying.image_to_crop()
    back = inv @ np.append(top_centre, 1.0)
    np.testing.assert_allclose(back, [128, 0], atol=1e-6)


def test_tiles_only_for_elongated_images():
    assert bp.tile_origins(480, 640) == []
    tiles = bp.tile_origins(480, 890)
    assert len(tiles) >= 2 and tiles[0] == (0, 0, 480) and tiles[-1][0] + 480 == 890
    tall = bp.tile_origins(1000, 400)
    assert all(x == 0 and s == 400 for x, _, s in tall) and tall[-1][1] + 400 == 1000


def test_strangers_strips_get_few_tiles():
    """A 640x2 or 16000x16 photo (anyone can send one) must not cost hundreds of detector runs."""
    assert bp.tile_origins(2, 640) == [] and bp.tile_origins(16, 16000) == []
    strip = bp.tile_origins(100, 5000)
    assert len(strip) == bp.TILE_MAX and strip[0][0] == 0 and strip[-1][0] + 100 == 5000
    assert len(bp.tile_origins(480, 2400)) == 7  # a 5:1 panorama keeps its overlapping tiles


# --------------------------------------------------------------------------- real photos
def test_detector_finds_the_astronaut_with_alignment_points(astronaut):
    d = bp.detect_people(astronaut)
    assert len(d) == 1 and d.scores[0] > 0.7
    x0, y0, x1, y1 = d.boxes[0]
    assert x0 < 215 < x1 and y0 < 140 < y1, "head box around her face"
    hip, body, shoulder, _ = d.keypoints[0]
    assert body[1] < shoulder[1] < hip[1], "scale point above the shoulders above the hips"


def test_astronaut_one_person_plausible_skeleton_and_mask(astronaut):
    found = bp.people(astronaut, keep_crops=True)
    assert len(found) == 1
    p = found[0]
    assert p.keypoints.shape == (33, 3) and p.mask.shape == astronaut.shape[:2]
    plausible_upper_body(p.keypoints, astronaut.shape[1])
    nose = p.keypoints[NOSE]
    assert abs(nose[0] - 222) < 30 and abs(nose[1] - 135) < 30  # her nose is near (222, 135)
    assert p.mask[140, 215] > 0.9 and p.mask[300, 200] > 0.9, "face and suit are person"
    assert p.mask[30, 480] < 0.1 and p.mask[200, 420] < 0.1, "background and the shuttle model are not"
    assert 0.3 < (p.mask > 0.5).mean() < 0.6
    assert p.crop.shape == (256, 256, 3) and p.presence > 0.9


@pytest.mark.parametrize("name", ["chelsea.png", "coffee.png", "rocket.jpg"])
def test_no_person_in_photos_without_people(photos, name):
    rgb = load_image(photos / name)
    assert bp.people(rgb) == []


def test_two_people_side_by_side_are_two_separate_people(two_people):
    h, w = two_people.shape[:2]
    found = bp.people(two_people)
    assert len(found) == 2
    left, right = sorted(found, key=lambda p: p.keypoints[NOSE, 0])
    assert left.keypoints[NOSE, 0] < 480 < right.keypoints[NOSE, 0], "one nose on each side of the seam"
    for p in (left, right):
        plausible_upper_body(p.keypoints, w / 2)
    # each mask lies mostly on its own side of the seam
    assert (left.mask[:, :480] > 0.5).sum() > 10 * (left.mask[:, 480:] > 0.5).sum()
    assert (right.mask[:, 480:] > 0.5).sum() > 10 * (right.mask[:, :480] > 0.5).sum()


def test_a_person_keeps_her_keypoints_when_someone_stands_beside_her(astronaut, two_people):
    """The astronaut alone (resized like in the composite) vs in the composite: same skeleton."""
    alone = np.asarray(Image.fromarray(astronaut).resize((480, 480), Image.Resampling.LANCZOS))
    a = bp.people(alone)[0].keypoints
    b = min(bp.people(two_people), key=lambda p: p.keypoints[NOSE, 0]).keypoints
    for j in (NOSE, L_SH, R_SH, 2, 5):  # nose, shoulders, eyes
        assert np.hypot(*(a[j, :2] - b[j, :2])) < 0.04 * 480, bp.BLAZEPOSE_KEYPOINT_NAMES[j]


def test_selfie_mask_is_a_probability_map(astronaut, photos):
    m = bp.selfie_mask(astronaut)
    assert m.shape == astronaut.shape[:2] and m.dtype == np.float32
    assert 0.0 <= m.min() and m.max() <= 1.0
    assert m[140, 215] > 0.9 and m[30, 480] < 0.2
    rocket = bp.selfie_mask(load_image(photos / "rocket.jpg"))
    assert (rocket > 0.5).mean() < 0.02


def test_concurrent_calls_give_the_same_answers(astronaut, two_people):
    """Interpreters are shared and guarded by locks: threads must not mix their tensors."""
    expected = {k: [p.keypoints for p in bp.people(img)] for k, img in (("a", astronaut), ("b", two_people))}
    errors: list[str] = []

    def worker(key, img):
        for _ in range(3):
            got = [p.keypoints for p in bp.people(img)]
            if len(got) != len(expected[key]) or any(
                    not np.allclose(g, e, atol=1e-3) for g, e in zip(got, expected[key])):
                errors.append(key)

    threads = [threading.Thread(target=worker, args=(k, img))
               for k, img in (("a", astronaut), ("b", two_people), ("a", astronaut), ("b", two_people))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_coco17_mapping_names_agree():
    for coco_idx, bp_idx in enumerate(bp.BLAZEPOSE_TO_COCO17):
        assert bp.COCO17_KEYPOINT_NAMES[coco_idx] == bp.BLAZEPOSE_KEYPOINT_NAMES[bp_idx]
    assert all(0 <= a < 33 and 0 <= b < 33 for a, b in bp.BLAZEPOSE_SKELETON)
