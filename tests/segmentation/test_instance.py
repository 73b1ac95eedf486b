"""Instance segmentation: the bundled pipeline on real photos, ids, tracker, COCO export, CLI, tab
callbacks, and the torchvision models' plumbing with random weights (never shown as results)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core import models
from core.image import load_image
from core.segmentation import coco
from core.segmentation.catalog import instance as instance_hub
from core.segmentation.instance import IouTracker, instance, instance_rows, resolve_model, spatial_ids
from core.segmentation.instance_inside import inside_panels

NOSE, L_SH, R_SH = 0, 11, 12


@pytest.fixture(scope="module")
def two_people(photos):
    return load_image(photos / "two_people.jpg")


@pytest.fixture(scope="module")
def two_seg(two_people):
    return instance(two_people, model="blazepose-multi", inside=True)


# --------------------------------------------------------------------------- bundled, real photos
def test_auto_is_the_bundled_pipeline_offline():
    # no torchvision weights can be downloaded on the test machines
    if models.registry().status("maskrcnn-resnet50-fpn-v2") not in ("cached", "loaded"):
        assert resolve_model("auto") in ("maskrcnn-resnet50-fpn", "objects-offline", "blazepose-multi")


def test_two_people_are_two_instances_with_disjoint_masks(two_people, two_seg):
    seg = two_seg
    assert seg.task == "instance" and seg.model == "blazepose-multi"
    assert len(seg) == 2
    assert seg.masks.shape == (2, *two_people.shape[:2])
    assert not (seg.masks[0] & seg.masks[1]).any(), "a pixel belongs to one person only"
    assert all(seg.labels[c] == "person" for c in seg.class_ids)
    assert seg.keypoints.shape == (2, 33, 3) and len(seg.keypoint_names) == 33 and seg.skeleton
    for i in range(2):
        kp = seg.keypoints[i]
        assert kp[NOSE, 1] < min(kp[L_SH, 1], kp[R_SH, 1])
        assert abs(kp[L_SH, 0] - kp[R_SH, 0]) > 0.15 * 445
        x0, y0, x1, y1 = seg.boxes[i]
        assert x0 <= kp[NOSE, 0] <= x1 and y0 <= kp[NOSE, 1] <= y1, "the box holds the face"
    # each person covers a good part of their own half of the picture
    fractions = seg.area_fractions
    assert np.all(fractions > 0.12) and np.all(fractions < 0.4)


def test_ids_follow_position_not_detection_order(two_people, two_seg):
    seg = two_seg
    left = int(np.argmin(seg.keypoints[:, NOSE, 0]))
    assert seg.segment_ids[left] == 0 and seg.segment_ids[1 - left] == 1
    # the detector is surer about the person on the right, so detection order differs from ids
    assert seg.scores[1 - left] > seg.scores[left]
    again = instance(two_people, model="blazepose-multi")
    np.testing.assert_array_equal(again.segment_ids, seg.segment_ids)
    flipped = instance(np.ascontiguousarray(two_people[:, ::-1]), model="blazepose-multi")
    assert len(flipped) == 2
    left_f = int(np.argmin(flipped.keypoints[:, NOSE, 0]))
    assert flipped.segment_ids[left_f] == 0
    # mirrored, Hopper (id 1 above) stands on the left: she now gets id 0
    a, b = flipped.masks[left_f], seg.masks[1 - left][:, ::-1]
    assert (a & b).sum() / (a | b).sum() > 0.8


def test_coco17_keypoints(two_people):
    seg = instance(two_people, model="blazepose-multi", keypoint_format="coco17")
    assert seg.keypoints.shape == (2, 17, 3) and seg.keypoint_names[0] == "nose"
    assert seg.keypoint_names[5] == "left_shoulder" and len(seg.skeleton) == 19
    assert seg.extras["keypoint_format"] == "coco17"


@pytest.mark.parametrize("name", ["chelsea.png", "coffee.png"])
def test_no_person_gives_an_empty_result(photos, name):
    rgb = load_image(photos / name)
    seg = instance(rgb, model="blazepose-multi")
    assert len(seg) == 0 and seg.masks.shape == (0, *rgb.shape[:2])
    assert seg.keypoints.shape == (0, 33, 3) and seg.segment_ids.shape == (0,)
    assert instance_rows(seg) == [] and coco.to_coco(seg)["annotations"] == []
    # even when asked for everything (the panoptic tab asks for min_score=0), no background "person"
    assert len(instance(rgb, model="blazepose-multi", min_score=0.0)) == 0


def test_inside_data_for_the_bundled_pipeline(two_people, two_seg):
    ex = two_seg.extras
    assert ex["crops"].shape == (2, 256, 256, 3) and ex["crops"].dtype == np.uint8
    det = ex["detector"]
    assert det["boxes"].shape[1] == 4 and det["alignment"].shape[1:] == (4, 2)
    assert len(det["scores"]) >= 2 and len(ex["rois"]) == 2
    panels = inside_panels(two_people, two_seg)
    assert len(panels) == 2 and panels[0][0].shape == two_people.shape
    assert all(isinstance(c, str) and c for _, c in panels)


def test_instance_refuses_a_model_of_another_task(two_people):
    with pytest.raises(ValueError):
        instance(two_people, model="mediapipe-selfie")
    with pytest.raises(models.UnknownModel):
        instance(two_people, model="no-such-model")


# --------------------------------------------------------------------------- ids and tracking
def test_spatial_ids_rank_left_to_right():
    boxes = np.array([[300, 0, 400, 100], [0, 0, 100, 100], [150, 0, 250, 100]], np.float32)
    np.testing.assert_array_equal(spatial_ids(boxes), [2, 0, 1])


def test_tracker_keeps_ids_while_people_move_and_swap_order():
    t = IouTracker()
    a, b = [0, 0, 100, 200], [300, 0, 400, 200]
    ids0 = t.update(np.array([a, b]), np.array([1, 1]))
    np.testing.assert_array_equal(ids0, [0, 1])
    # next frame: both moved a little and the detector lists them the other way round
    ids1 = t.update(np.array([[305, 0, 405, 200], [10, 0, 110, 200]]), np.array([1, 1]))
    np.testing.assert_array_equal(ids1, [1, 0])
    # a third person arrives: the lowest free id
    ids2 = t.update(np.array([[10, 0, 110, 200], [600, 0, 700, 200]]), np.array([1, 1]))
    np.testing.assert_array_equal(ids2, [0, 2])
    # person 1 (gone for one frame) comes back: still id 1
    ids3 = t.update(np.array([[305, 0, 405, 200]]), np.array([1]))
    np.testing.assert_array_equal(ids3, [1])
    # a different class in the same place is a different instance
    ids4 = t.update(np.array([[305, 0, 405, 200]]), np.array([3]))
    assert ids4[0] != 1


def test_tracker_forgets_after_max_missed():
    t = IouTracker(max_missed=2)
    t.update(np.array([[0, 0, 10, 10]]), np.array([1]))
    for _ in range(3):
        t.update(np.zeros((0, 4)), np.zeros(0))
    assert t.ids == []


def test_tracked_video_ids_stable_on_real_frames(two_people):
    t = IouTracker()
    seen = []
    for shift in (0, 6, 12, 18):
        frame = np.ascontiguousarray(np.roll(two_people, shift, axis=1))
        seg = instance(frame, model="blazepose-multi", tracker=t)
        order = np.argsort(seg.keypoints[:, NOSE, 0])
        seen.append(tuple(seg.segment_ids[order]))
    assert len(set(seen)) == 1 and len(seen[0]) == 2


# --------------------------------------------------------------------------- COCO export
def test_coco_export_round_trips_masks_and_keypoints(tmp_path, two_seg):
    from pycocotools.coco import COCO

    path = coco.write_coco(two_seg, tmp_path / "x.json", file_name="two_people.jpg")
    data = json.loads(path.read_text())
    assert data["images"][0] == {"id": 1, "file_name": "two_people.jpg", "height": 480, "width": 890}
    person = next(c for c in data["categories"] if c["name"] == "person")
    assert len(person["keypoints"]) == 33 and min(min(p) for p in person["skeleton"]) == 1
    api = COCO()
    api.dataset = data
    api.createIndex()
    anns = api.loadAnns(api.getAnnIds(imgIds=[1]))
    assert len(anns) == 2
    for ann, mask, box, kp in zip(anns, two_seg.masks, two_seg.boxes, two_seg.keypoints):
        np.testing.assert_array_equal(api.annToMask(ann).astype(bool), mask)
        assert ann["area"] == int(mask.sum())
        np.testing.assert_allclose(ann["bbox"], [box[0], box[1], box[2] - box[0], box[3] - box[1]], atol=0.01)
        flat = np.array(ann["keypoints"]).reshape(33, 3)
        np.testing.assert_allclose(flat[:, :2], kp[:, :2], atol=0.01)
        assert set(flat[:, 2]) <= {1, 2} and ann["num_keypoints"] == int((kp[:, 2] >= 0.5).sum())


# --------------------------------------------------------------------------- CLI and tab callbacks
def test_cli_segment_instance(tmp_path, photos, capsys):
    from core.cli import main

    assert main(["segment", "instance", str(photos / "two_people.jpg"), "--model", "blazepose-multi",
                 "--out", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "instance" and out["model"] == "blazepose-multi"
    assert len(out["keypoint_names"]) == 33 and len(out["segments"]) == 2
    for s in out["segments"]:
        assert s["label"] == "person" and s["class_id"] == 1 and 0 < s["score"] <= 1
        assert len(s["box"]) == 4 and 0 < s["area_fraction"] < 1
        assert len(s["keypoints"]) == 33 and all(len(k) == 3 for k in s["keypoints"])
    files = [p for p in out["files"] if p.endswith(".json")]
    assert files and json.loads(open(files[0]).read())["annotations"]


def test_tab_callbacks_cache_and_rerender(photos):
    pytest.importorskip("gradio")
    from demos import instance as tab

    rgb = load_image(photos / "two_people.jpg")
    state, overlay, legend, table, summary, timings, classes, panels, _, _ = tab.segment_instances(
        rgb, "auto", "native", 0.5, 0.5, 0.5, True, True, True)
    assert overlay.shape == rgb.shape and not np.array_equal(overlay, rgb)
    assert len(table) == 2 and {r[1] for r in table} == {"person"} and "2 instance(s)" in summary
    assert len(panels) == 2
    # a higher threshold hides the weaker person without running the model again
    calls = []
    real = tab.instance
    tab.instance = lambda *a, **k: calls.append(1) or real(*a, **k)
    try:
        img2, _, table2, summary2 = tab.render_view(state, 0.85, 0.5, 0.5, True, True, True, [1])
    finally:
        tab.instance = real
    assert not calls and len(table2) == 1 and "1 instance(s)" in summary2
    no_skeleton = tab.render_view(state, 0.5, 0.5, 0.5, True, False, True, [1])[0]
    assert not np.array_equal(no_skeleton, overlay)
    path = tab.export_coco(state, 0.5, [1])
    assert len(json.loads(open(path).read())["annotations"]) == 2


def test_live_frame_tracks_and_reports_server_time(photos):
    pytest.importorskip("gradio")
    from PIL import Image

    from demos import instance as tab

    frame = np.asarray(Image.open(photos / "astronaut.png").convert("RGB").resize((640, 480)))
    live = None
    for _ in range(3):
        image, text, live = tab.live_frame(frame, 0.5, 0.5, True, True, live)
    assert image.shape == frame.shape and "ms on the server" in text and "1 instance(s)" in text
    assert "fps" not in text  # the page counts the frames it shows (demos/live.py)
    assert live["tracker"].ids == [0]


# --------------------------------------------------------------------------- torchvision plumbing
def test_catalogue_labels_match_torchvision():
    from torchvision.models.detection import KeypointRCNN_ResNet50_FPN_Weights as K
    from torchvision.models.detection import MaskRCNN_ResNet50_FPN_V2_Weights as M2
    from torchvision.models.detection import MaskRCNN_ResNet50_FPN_Weights as M

    assert instance_hub.COCO91_LABELS == tuple(M2.DEFAULT.meta["categories"]) == tuple(M.DEFAULT.meta["categories"])
    assert instance_hub.KEYPOINT_LABELS == tuple(K.DEFAULT.meta["categories"])
    assert instance_hub.COCO17_KEYPOINT_NAMES == tuple(K.DEFAULT.meta["keypoint_names"])
    for spec in instance_hub.specs():
        weights = {"maskrcnn-resnet50-fpn-v2": M2, "maskrcnn-resnet50-fpn": M,
                   "keypointrcnn-resnet50-fpn": K}[spec.name].DEFAULT
        assert spec.files[0].url == weights.url and spec.task == "instance"
        published = weights.meta["_metrics"]["COCO-val2017"]
        assert set(published.values()) == set(spec.metrics.values())


def _random_model(name):
    m = instance_hub.build_torchvision(name, None)
    m.net.roi_heads.score_thresh = 0.0  # random weights score every class near 1/91
    m.net.roi_heads.detections_per_img = 3
    return m


@pytest.fixture(scope="module")
def small_rgb(photos):
    from PIL import Image

    return np.asarray(Image.open(photos / "astronaut.png").convert("RGB").resize((128, 96)))


@pytest.mark.parametrize("name", ["maskrcnn-resnet50-fpn-v2", "keypointrcnn-resnet50-fpn"])
def test_torchvision_shapes_with_random_weights(name, small_rgb):
    m = _random_model(name)
    out = m(small_rgb, 0.0, inside=True, min_size=96)
    n = len(out.scores)
    assert 1 <= n <= 3 and out.boxes.shape == (n, 4) and out.class_ids.shape == (n,)
    assert out.inside["input_size"] == (96, 128)
    props = out.inside["proposals"]
    assert props.ndim == 2 and props.shape[1] == 4 and len(props) > n
    assert props[:, 2].max() <= 128 + 1e-3 and props[:, 3].max() <= 96 + 1e-3  # back in image pixels
    if name.startswith("mask"):
        assert out.mask_probs.shape == (n, 96, 128) and out.keypoints is None
        assert out.inside["mask_probs"].shape == (n, 28, 28)
        assert 0 <= out.inside["mask_probs"].min() and out.inside["mask_probs"].max() <= 1
    else:
        assert out.mask_probs is None and out.keypoints.shape == (n, 17, 3)
        assert out.inside["keypoint_heatmaps"].shape == (n, 17, 56, 56)
        assert np.all((out.keypoints[:, :, 2] >= 0) & (out.keypoints[:, :, 2] <= 1))


def test_torchvision_through_registry_and_instance(tmp_path, monkeypatch, small_rgb):
    """A state dict under the expected file name in CVLAB_WEIGHTS_DIR is found, loaded and used."""
    import torch

    name = "maskrcnn-resnet50-fpn"
    spec = models.get(name)
    reg = models.registry()
    torch.save(instance_hub.build_torchvision(name, None).net.state_dict(), tmp_path / spec.files[0].filename)
    monkeypatch.setenv("CVLAB_WEIGHTS_DIR", str(tmp_path))
    reg.unload(name)
    try:
        assert reg.status(name) == "cached"
        assert resolve_model("auto") in ("maskrcnn-resnet50-fpn-v2", name)
        net = models.load(name)
        net.net.roi_heads.score_thresh = 0.0
        net.net.roi_heads.detections_per_img = 3
        seg = instance(small_rgb, model=name, min_score=0.0, min_size=96, inside=True)
        assert seg.task == "instance" and seg.model == name and len(seg.labels) == 91
        assert 1 <= len(seg) <= 3 and seg.masks.shape[1:] == (96, 128) and seg.keypoints is None
        assert all(seg.labels[c] != "N/A" for c in seg.class_ids)
        assert seg.extras["mask_probs"].shape == (len(seg), 28, 28)
        assert len(inside_panels(small_rgb, seg)) == 2
        data = coco.to_coco(seg)
        assert all("segmentation" in a for a in data["annotations"])
    finally:
        reg.unload(name)
        (tmp_path / spec.files[0].filename).unlink(missing_ok=True)  # 170 MB of random weights


def test_keypoint_rcnn_result_has_no_masks_but_skeletons(monkeypatch, small_rgb):
    name = "keypointrcnn-resnet50-fpn"
    reg = models.registry()
    reg._models[name] = _random_model(name)  # plumbing only: random weights never reach a user
    try:
        seg = instance(small_rgb, model=name, min_score=0.0, min_size=96, inside=True)
        assert seg.keypoints.shape == (len(seg), 17, 3) and len(seg.keypoint_names) == 17
        assert not seg.masks.any() and seg.has_masks is False
        assert len(inside_panels(small_rgb, seg)) == 3  # proposals, heatmaps, heatmaps in the box
        data = coco.to_coco(seg)
        assert data["annotations"] and all("segmentation" not in a for a in data["annotations"])
        assert all(len(a["keypoints"]) == 51 for a in data["annotations"])
        rows = instance_rows(seg)
        assert rows and rows[0]["area_%"] is None
    finally:
        reg.unload(name)


def test_video_follows_people_from_frame_to_frame_without_the_detector(photos):
    """MediaPipe's trick: next frame's crop comes from this frame's landmarks; the detector runs
    only every ``redetect_every`` frames, and the skeleton agrees with a fresh detection."""
    from PIL import Image

    frame = np.asarray(Image.open(photos / "astronaut.png").convert("RGB").resize((480, 480)))
    frame = np.pad(frame, ((0, 0), (80, 80), (0, 0)), mode="edge")
    t = IouTracker(redetect_every=4)
    for k in range(8):
        f = np.ascontiguousarray(np.roll(frame, 4 * k, axis=1))
        seg = instance(f, model="blazepose-multi", tracker=t, tiles=False)
        fresh = instance(f, model="blazepose-multi", tiles=False)
        assert len(seg) == 1 and list(seg.segment_ids) == [0]
        # the model itself wobbles by a few % on this upper-body shot as the frame shifts
        gap = np.hypot(*(seg.keypoints[0, [0, 11, 12], :2] - fresh.keypoints[0, [0, 11, 12], :2]).T)
        assert gap.mean() < 0.05 * 480 and gap.max() < 0.1 * 480
        size, fresh_size = seg.extras["rois"][0][2], fresh.extras["rois"][0][2]
        assert 0.75 < size / fresh_size < 1.33, "the followed crop must not drift away in scale"
        assert ("detect" in seg.timings_ms) == (k % 4 == 0)
    assert t.detector_runs == 2 and t.frames == 8


def test_blazepose_inside_says_why_each_detection_is_not_in_the_result(two_seg):
    """Issue 14, item 10: the Inside view draws every detector box; the ones not in the result say why."""
    from core.segmentation.instance_inside import candidate_rows, candidate_summary

    rows = candidate_rows(two_seg)
    assert len(rows) == len(two_seg.extras["detector"]["scores"])
    assert sum(r["result"].startswith("kept") for r in rows) == len(two_seg)
    assert all(r["result"].startswith(("kept", "stage 2")) for r in rows)
    assert f"{len(rows)} detector candidates" in candidate_summary(two_seg)
