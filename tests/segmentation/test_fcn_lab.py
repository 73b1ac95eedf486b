"""The FCN lab's operations against small tensors worked out by hand, plus real-network runs."""
from __future__ import annotations

import numpy as np
import pytest

from core.segmentation import fcn_lab as L

X = np.array([[1, 2, 5, 6],
              [3, 4, 8, 7],
              [9, 12, 13, 14],
              [11, 10, 16, 15]], np.float32)


# --------------------------------------------------------------------------- pooling and unpooling
def test_max_pool_values_and_switches():
    pooled, idx = L.max_pool_with_indices(X, 2)
    np.testing.assert_array_equal(pooled, [[4, 8], [12, 16]])
    # flat positions row * 4 + col of each maximum: 4 at (1,1), 8 at (1,2), 12 at (2,1), 16 at (3,2)
    np.testing.assert_array_equal(idx, [[5, 6], [9, 14]])


def test_max_unpool_puts_values_back_at_the_switches():
    pooled, idx = L.max_pool_with_indices(X, 2)
    up = L.max_unpool(pooled, idx, (4, 4), 2)
    expected = np.zeros((4, 4), np.float32)
    expected[1, 1], expected[1, 2], expected[2, 1], expected[3, 2] = 4, 8, 12, 16
    np.testing.assert_array_equal(up, expected)


def test_nearest_bed_of_nails_and_bilinear():
    p = np.array([[4, 8], [12, 16]], np.float32)
    np.testing.assert_array_equal(L.upsample_nearest(p, 2), [[4, 4, 8, 8], [4, 4, 8, 8],
                                                              [12, 12, 16, 16], [12, 12, 16, 16]])
    np.testing.assert_array_equal(L.bed_of_nails(p, 2), [[4, 0, 8, 0], [0, 0, 0, 0],
                                                         [12, 0, 16, 0], [0, 0, 0, 0]])
    # align_corners=False: output pixel centres at input coordinates -0.25, 0.25, 0.75, 1.25
    # (clamped to 0..1), i.e. weights 0, 0.25, 0.75, 1 on the second value along each axis.
    row = [4, 4 + 0.25 * 4, 4 + 0.75 * 4, 8]
    got = L.upsample_bilinear(p, (4, 4))
    np.testing.assert_allclose(got[0], row, atol=1e-6)
    np.testing.assert_allclose(got[:, 0], [4, 6, 10, 12], atol=1e-6)


def test_upsampling_pads_odd_shapes():
    p = np.ones((2, 2), np.float32)
    assert L.upsample_nearest(p, 2, (5, 5)).shape == (5, 5)
    assert L.bed_of_nails(p, 2, (3, 3)).shape == (3, 3)


# --------------------------------------------------------------------------- transposed convolution
@pytest.mark.parametrize("n,k,s,p,out", [(2, 3, 2, 0, 5), (48, 4, 2, 1, 96), (96, 3, 2, 0, 193),
                                         (4, 1, 1, 0, 4), (7, 2, 2, 0, 14)])
def test_output_size_formula(n, k, s, p, out):
    assert L.transposed_conv_output_size(n, k, s, p) == out
    assert L.transposed_conv(np.ones((n, n), np.float32), np.ones((k, k), np.float32), s, p).shape == (out, out)


def test_transposed_conv_by_hand():
    x = np.array([[1, 2], [3, 4]], np.float32)
    # every input value stamps value * ones(3x3) at stride 2; stamps overlap on row/col 2
    expected = np.array([[1, 1, 3, 2, 2],
                         [1, 1, 3, 2, 2],
                         [4, 4, 10, 6, 6],
                         [3, 3, 7, 4, 4],
                         [3, 3, 7, 4, 4]], np.float32)
    np.testing.assert_array_equal(L.transposed_conv(x, np.ones((3, 3), np.float32), 2, 0), expected)
    # padding 1 crops one pixel from every border
    np.testing.assert_array_equal(L.transposed_conv(x, np.ones((3, 3), np.float32), 2, 1), expected[1:-1, 1:-1])


def test_transposed_conv_with_a_non_symmetric_kernel():
    x = np.array([[1, 10]], np.float32)
    k = np.array([[1, 2]], np.float32)
    np.testing.assert_array_equal(L.transposed_conv(x, k, stride=1), [[1, 12, 20]])


def test_checkerboard_from_uneven_overlap():
    counts = L.overlap_counts((4, 4), kernel=3, stride=2)
    # kernel 3 at stride 2: along each axis 1 or 2 copies overlap -> 1, 2 or 4 in 2-D
    np.testing.assert_array_equal(counts[:3, :3], [[1, 1, 2], [1, 1, 2], [2, 2, 4]])
    assert L.checkerboard_strength(counts) == pytest.approx(4.0)
    # kernel a multiple of the stride (4 at stride 2, padding 1): even coverage inside
    even = L.overlap_counts((6, 6), kernel=4, stride=2, padding=1)
    assert L.checkerboard_strength(even) == pytest.approx(1.0)


def test_bilinear_kernel_matches_fcn_and_interpolates():
    k = L.make_kernel("bilinear", 4)
    np.testing.assert_allclose(k[0], np.array([0.25, 0.75, 0.75, 0.25]) * 0.25)
    np.testing.assert_allclose(k[1], np.array([0.25, 0.75, 0.75, 0.25]) * 0.75)
    # a constant map stays constant inside after FCN's bilinear upsampling (k=2s, p=s/2)
    up = L.transposed_conv(np.full((6, 6), 3.0, np.float32), k, stride=2, padding=1)
    np.testing.assert_allclose(up[2:-2, 2:-2], 3.0, atol=1e-6)
    with pytest.raises(ValueError):
        L.make_kernel("gaussian", 3)


# --------------------------------------------------------------------------- windows
def test_window_grid_covers_everything():
    assert L.window_starts(10, 4, 3) == [0, 3, 6]
    assert L.window_starts(11, 4, 3) == [0, 3, 6, 7]
    assert L.window_starts(3, 8, 4) == [0]
    boxes = L.tile_windows(10, 11, 4, 3)
    assert len(boxes) == 3 * 4 == L.count_passes(10, 11, 4, 3, "tile")
    cover = np.zeros((10, 11), int)
    for x0, y0, x1, y1 in boxes:
        cover[y0:y1, x0:x1] += 1
    assert cover.min() >= 1
    cells, wins = L.centre_cells(10, 11, 6, 4)
    assert len(cells) == L.count_passes(10, 11, 6, 4, "centre") == 3 * 3
    assert (wins[:, 2] - wins[:, 0] == 6).all() and wins.min() >= 0 and wins[:, 2].max() <= 11
    for (cx0, cy0, cx1, cy1), (x0, y0, x1, y1) in zip(cells, wins):  # each cell inside its window
        assert x0 <= cx0 and cx1 <= x1 and y0 <= cy0 and cy1 <= y1


def test_agreement_and_miou():
    a = np.array([[0, 0], [1, 1]])
    b = np.array([[0, 1], [1, 1]])
    assert L.pixel_agreement(a, b) == 0.75
    assert L.mean_iou(a, b) == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_sampling_lab_on_a_given_map():
    r = L.sampling_lab(None, feature=X, pool=2, kernel=3, stride=2, padding=0)
    np.testing.assert_array_equal(r.pooled, [[4, 8], [12, 16]])
    assert r.transposed.shape == (5, 5) and r.formula.startswith("(2 - 1) x 2 - 2 x 0 + 3 = 5")
    assert r.errors["nearest"] == pytest.approx(np.abs(L.upsample_nearest(r.pooled, 2) - X).mean())
    assert "transposed" not in r.errors  # 5x5 is not the feature's size
    assert r.checkerboard > 1.0


# --------------------------------------------------------------------------- real networks
@pytest.fixture(scope="module")
def astronaut(photos):
    from core.image import limit_side, load_image

    return limit_side(load_image(photos / "astronaut.png"), 256)


def test_sampling_lab_on_real_vgg19_features(astronaut):
    r = L.sampling_lab(astronaut, layer="relu1_2", kernel=4, stride=2, padding=1, kernel_kind="bilinear")
    assert r.feature.shape == (192, 192)  # max_side 192, block 1 keeps the resolution
    assert r.feature.min() >= 0 and r.feature.std() > 1  # a real relu map with structure
    assert r.unpooled.shape == r.nearest.shape == r.bilinear.shape == r.feature.shape
    assert r.transposed.shape == r.feature.shape  # (96-1)*2 - 2 + 4 = 192
    # keeping each block's max everywhere beats keeping it in one position of four
    assert r.errors["nearest"] < r.errors["unpooled"]
    # unpooling is exact at the switches
    flat = r.feature.reshape(-1)
    np.testing.assert_allclose(r.unpooled.reshape(-1)[r.indices.reshape(-1)], flat[r.indices.reshape(-1)])
    assert r.checkerboard == pytest.approx(1.0)


def test_sliding_window_with_the_bundled_model(astronaut):
    r = L.sliding_window(astronaut, "mediapipe-person", window=128, stride=64, mode="tile")
    assert r.passes_window == 9 and r.passes_full == 1
    assert r.full_map.shape == r.window_map.shape == (256, 256)
    assert 0.3 < (r.full_map == 1).mean() < 0.6           # the whole photo: a person
    # patches lose the context the detector needs: the patch-wise map misses much of the person
    assert (r.window_map == 1).mean() < (r.full_map == 1).mean()
    assert 0.4 < r.agreement < 0.98
    assert r.time_window_ms > r.time_full_ms
    with pytest.raises(ValueError, match="forward passes"):
        L.sliding_window(astronaut, "mediapipe-person", window=32, stride=4, mode="tile")


def test_heatmap_is_rgb():
    img = L.heatmap(X, size=64)
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8
    assert (img[0, 0] != img[-1, -1]).any()
    assert L.heatmap(np.zeros((3, 3)), size=None).shape == (3, 3, 3)


def test_sliding_window_with_a_fully_convolutional_torch_network(astronaut, monkeypatch):
    """Random-weight LR-ASPP (plumbing only): one pass and the patches run at the image's own scale."""
    import torch

    from core import models
    from core.segmentation.semantic import make_torchvision_segmenter

    torch.manual_seed(0)
    net = make_torchvision_segmenter("lraspp_mobilenet_v3_large", None, name="lraspp-mobilenet-v3")
    monkeypatch.setattr(models, "load", lambda name: net)
    monkeypatch.setattr("core.segmentation.semantic.resolve_model", lambda model="auto": "lraspp-mobilenet-v3")
    rgb = np.ascontiguousarray(astronaut[:100, :150])  # not a multiple of 32: padded, then cropped
    p = net.probabilities(rgb, native=True)
    assert p.shape == (21, 100, 150)
    r = L.sliding_window(rgb, "lraspp-mobilenet-v3", window=64, stride=32, mode="centre")
    assert r.passes_window == 4 * 5 and r.window_map.shape == (100, 150) and r.labels[15] == "person"
    # the centre mode gives one label per stride x stride cell
    assert (r.window_map[:32, :32] == r.window_map[0, 0]).all()
