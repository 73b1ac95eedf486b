"""The TF.js graph-model -> ONNX converter, op by op, on tiny synthetic graphs.

Each test writes a ``model.json`` + ``.bin`` the way TF.js does (GraphDef JSON, weights manifest,
fp16 quantisation, int64 stored as int32), converts it, runs the ONNX file on onnxruntime and
compares with a numpy reference written from TensorFlow's definitions (NHWC, HWIO filters, SAME
padding with the odd pixel at the end, half-pixel resizes). A wrong layout conversion (e.g. HWIO
read as OIHW, or NHWC axes used on the NCHW tensor) gives different numbers and fails here.
"""
from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest

from core.segmentation import tfjs_onnx

RNG = np.random.default_rng(7)


# ----------------------------------------------------------------------------- graph building
def _attr(v):
    if isinstance(v, dict):
        return v
    if isinstance(v, bool):
        return {"b": v}
    if isinstance(v, int):
        return {"i": str(v)}
    if isinstance(v, float):
        return {"f": v}
    if isinstance(v, str):
        return {"s": base64.b64encode(v.encode()).decode()}
    if isinstance(v, (list, tuple)) and all(isinstance(i, str) for i in v) and v:
        return {"list": {"s": [base64.b64encode(i.encode()).decode() for i in v]}}
    return {"list": {"i": [str(int(i)) for i in v]}}


class G:
    """A TF.js graph model under construction."""

    def __init__(self) -> None:
        self.nodes: list[dict] = []
        self.weights: list[tuple[str, np.ndarray, bool, str]] = []

    def input(self, name: str, shape) -> str:
        self.nodes.append({"name": name, "op": "Placeholder", "attr": {
            "shape": {"shape": {"dim": [{"size": str(s)} for s in shape]}}, "dtype": {"type": "DT_FLOAT"}}})
        return name

    def const(self, name: str, arr, fp16: bool = False, tf_dtype: str | None = None) -> str:
        arr = np.asarray(arr)
        if tf_dtype is None:
            tf_dtype = {"float32": "DT_FLOAT", "int32": "DT_INT32", "int64": "DT_INT64"}[str(arr.dtype)]
        self.nodes.append({"name": name, "op": "Const", "attr": {"dtype": {"type": tf_dtype}, "value": {
            "tensor": {"dtype": tf_dtype, "tensorShape": {"dim": [{"size": str(s)} for s in arr.shape]}}}}})
        self.weights.append((name, arr, fp16, tf_dtype))
        return name

    def op(self, name: str, op: str, inputs, **attrs) -> str:
        node = {"name": name, "op": op, "input": list(inputs)}
        if attrs:
            node["attr"] = {k: _attr(v) for k, v in attrs.items()}
        self.nodes.append(node)
        return name

    def write(self, folder, outputs) -> str:
        manifest, blobs = [], []
        for name, arr, fp16, tf_dtype in self.weights:
            entry = {"name": name, "shape": list(arr.shape)}
            if fp16:
                entry.update(dtype="float32", quantization={"dtype": "float16", "original_dtype": "float32"})
                blobs.append(arr.astype(np.float16).tobytes())
            elif arr.dtype == np.float32:
                entry["dtype"] = "float32"
                blobs.append(arr.tobytes())
            else:  # TF.js stores int64 as int32
                entry["dtype"] = "int32"
                blobs.append(arr.astype(np.int32).tobytes())
            manifest.append(entry)
        (folder / "group1-shard1of1.bin").write_bytes(b"".join(blobs))
        model = {"format": "graph-model", "generatedBy": "test", "convertedBy": "test",
                 "signature": {"outputs": {f"{o}:0": {"name": f"{o}:0"} for o in outputs}},
                 "modelTopology": {"node": self.nodes},
                 "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": manifest}]}
        path = folder / "model.json"
        path.write_text(json.dumps(model))
        return str(path)


def run(g: G, tmp_path, outputs, **feeds):
    import onnxruntime as ort

    model = tfjs_onnx.convert(g.write(tmp_path, outputs), tmp_path / "m.onnx")
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    res = sess.run(outputs, {k: v.astype(np.float32) for k, v in feeds.items()})
    return (res[0] if len(res) == 1 else res), model


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------- numpy references
def same_pads(n, k, s, d=1):
    out = math.ceil(n / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def ref_conv(x, w, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    """NHWC x, HWIO w (grouped when w's I < x's C) -> NHWC."""
    n, h, wd, c = x.shape
    kh, kw, ci, co = w.shape
    groups = c // ci
    if padding == "SAME":
        (t, b), (l, r) = same_pads(h, kh, strides[0], dilations[0]), same_pads(wd, kw, strides[1], dilations[1])
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    oh = (x.shape[1] - (kh - 1) * dilations[0] - 1) // strides[0] + 1
    ow = (x.shape[2] - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    out = np.zeros((n, oh, ow, co), np.float64)
    per = co // groups
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i * dilations[0]: i * dilations[0] + strides[0] * (oh - 1) + 1: strides[0],
                      j * dilations[1]: j * dilations[1] + strides[1] * (ow - 1) + 1: strides[1], :]
            for g in range(groups):
                out[..., g * per:(g + 1) * per] += patch[..., g * ci:(g + 1) * ci] @ w[i, j, :, g * per:(g + 1) * per]
    return out.astype(np.float32)


def ref_depthwise(x, w, strides=(1, 1), padding="VALID"):
    """NHWC x, (kh, kw, C, M) w -> NHWC with C*M channels, channel c*M + m."""
    kh, kw, c, m = w.shape
    outs = [ref_conv(x[..., ci:ci + 1], w[:, :, ci:ci + 1, :], strides, padding) for ci in range(c)]
    return np.concatenate(outs, axis=-1)


def ref_maxpool(x, k, s, padding):
    n, h, w, c = x.shape
    if padding == "SAME":
        (t, b), (l, r) = same_pads(h, k[0], s[0]), same_pads(w, k[1], s[1])
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=-np.inf)
    oh = (x.shape[1] - k[0]) // s[0] + 1
    ow = (x.shape[2] - k[1]) // s[1] + 1
    out = np.full((n, oh, ow, c), -np.inf, np.float32)
    for i in range(k[0]):
        for j in range(k[1]):
            out = np.maximum(out, x[:, i: i + s[0] * (oh - 1) + 1: s[0], j: j + s[1] * (ow - 1) + 1: s[1]])
    return out


def ref_resize_bilinear(x, oh, ow, half_pixel=True, align_corners=False):
    """TensorFlow's ResizeBilinear (compute_interpolation_weights), NHWC."""
    n, h, w, c = x.shape

    def weights(out_size, in_size):
        if align_corners and out_size > 1:
            scale = (in_size - 1) / (out_size - 1)
        else:
            scale = in_size / out_size
        o = np.arange(out_size, dtype=np.float64)
        src = (o + 0.5) * scale - 0.5 if half_pixel else o * scale
        lo = np.maximum(np.floor(src), 0).astype(int)
        hi = np.minimum(np.ceil(src), in_size - 1).astype(int)
        return lo, hi, src - np.floor(src)

    y0, y1, fy = weights(oh, h)
    x0, x1, fx = weights(ow, w)
    top = x[:, y0][:, :, x0] * (1 - fx)[None, None, :, None] + x[:, y0][:, :, x1] * fx[None, None, :, None]
    bot = x[:, y1][:, :, x0] * (1 - fx)[None, None, :, None] + x[:, y1][:, :, x1] * fx[None, None, :, None]
    return (top * (1 - fy)[None, :, None, None] + bot * fy[None, :, None, None]).astype(np.float32)


def ref_resize_nearest(x, oh, ow, half_pixel=True):
    n, h, w, c = x.shape
    ys = np.minimum(np.floor((np.arange(oh) + (0.5 if half_pixel else 0.0)) * h / oh).astype(int), h - 1)
    xs = np.minimum(np.floor((np.arange(ow) + (0.5 if half_pixel else 0.0)) * w / ow).astype(int), w - 1)
    return x[:, ys][:, :, xs]


TOL = dict(rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------- tests
@pytest.mark.parametrize("padding,strides,dil", [("SAME", (2, 2), (1, 1)), ("VALID", (1, 2), (1, 1)),
                                                 ("SAME", (1, 1), (2, 2))])
def test_conv2d_nhwc_hwio(tmp_path, padding, strides, dil):
    x, w = rand(1, 8, 7, 3), rand(3, 2, 3, 5)  # odd SAME totals at stride 2: the extra pixel goes at the end
    g = G()
    g.input("x", x.shape)
    g.op("y", "Conv2D", ["x", g.const("w", w)], strides=[1, *strides, 1], padding=padding,
         data_format="NHWC", dilations=[1, *dil, 1])
    y, _ = run(g, tmp_path, ["y"], x=x)
    np.testing.assert_allclose(y, ref_conv(x, w, strides, padding, dil), **TOL)


def test_grouped_conv2d(tmp_path):
    x, w = rand(1, 6, 6, 4), rand(3, 3, 2, 6)  # 2 groups of 2 input channels
    g = G()
    g.input("x", x.shape)
    g.op("y", "Conv2D", ["x", g.const("w", w)], strides=[1, 1, 1, 1], padding="SAME", data_format="NHWC")
    y, _ = run(g, tmp_path, ["y"], x=x)
    np.testing.assert_allclose(y, ref_conv(x, w, padding="SAME"), **TOL)


def test_depthwise_with_multiplier(tmp_path):
    x, w = rand(1, 7, 7, 3), rand(3, 3, 3, 2)
    g = G()
    g.input("x", x.shape)
    g.op("y", "DepthwiseConv2dNative", ["x", g.const("w", w)], strides=[1, 2, 2, 1], padding="SAME",
         data_format="NHWC")
    y, _ = run(g, tmp_path, ["y"], x=x)
    np.testing.assert_allclose(y, ref_depthwise(x, w, (2, 2), "SAME"), **TOL)


@pytest.mark.parametrize("act", ["Relu", "Relu6", "LeakyRelu"])
def test_fused_conv_bias_activation(tmp_path, act):
    x, w, b = rand(1, 5, 5, 4) * 3, rand(1, 1, 4, 6), rand(6)
    g = G()
    g.input("x", x.shape)
    g.op("y", "_FusedConv2D", ["x", g.const("w", w), g.const("b", b)], strides=[1, 1, 1, 1],
         padding="VALID", data_format="NHWC", fused_ops=["BiasAdd", act], num_args=1, leakyrelu_alpha=0.1)
    y, _ = run(g, tmp_path, ["y"], x=x)
    z = ref_conv(x, w) + b
    z = {"Relu": np.maximum(z, 0), "Relu6": np.clip(z, 0, 6), "LeakyRelu": np.where(z > 0, z, 0.1 * z)}[act]
    np.testing.assert_allclose(y, z, **TOL)


def test_fp16_weights_are_widened(tmp_path):
    x, w = rand(1, 4, 4, 2), rand(3, 3, 2, 2)
    g = G()
    g.input("x", x.shape)
    g.op("y", "Conv2D", ["x", g.const("w", w, fp16=True)], strides=[1, 1, 1, 1], padding="SAME",
         data_format="NHWC")
    y, model = run(g, tmp_path, ["y"], x=x)
    w16 = w.astype(np.float16).astype(np.float32)
    np.testing.assert_allclose(y, ref_conv(x, w16, padding="SAME"), **TOL)
    assert all(t.data_type == 1 for t in model.graph.initializer if t.dims)  # float32 only


def test_nchw_graph_round_trips_cancel(tmp_path):
    """The ONNX->TF export pattern NanoDet has: NCHW tensors, transposed to NHWC around each
    conv, per-channel bias Add in NHWC. The result must be plain NCHW: no Transpose left."""
    x, w, b = rand(1, 3, 8, 8), rand(3, 3, 3, 4), rand(4)
    g = G()
    g.input("x", x.shape)
    g.op("pad", "Pad", ["x", g.const("p", np.array([[0, 0], [0, 0], [1, 1], [1, 1]], np.int32))])
    g.op("t1", "Transpose", ["pad", g.const("perm1", np.array([0, 2, 3, 1], np.int32))])
    g.op("conv", "Conv2D", ["t1", g.const("w", w)], strides=[1, 1, 1, 1], padding="VALID", data_format="NHWC")
    g.op("add", "Add", ["conv", g.const("b", b)])
    g.op("t2", "Transpose", ["add", g.const("perm2", np.array([0, 3, 1, 2], np.int32))])
    g.op("y", "LeakyRelu", ["t2"], alpha=0.1)
    y, model = run(g, tmp_path, ["y"], x=x)
    z = ref_conv(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))).transpose(0, 2, 3, 1), w) + b
    z = z.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y, np.where(z > 0, z, 0.1 * z), **TOL)
    assert [n.op_type for n in model.graph.node].count("Transpose") == 0


def test_padv2_maxpool(tmp_path):
    x = rand(1, 7, 6, 3)
    g = G()
    g.input("x", x.shape)
    g.op("pad", "PadV2", ["x", g.const("p", np.array([[0, 0], [1, 1], [0, 1], [0, 0]], np.int32)),
                          g.const("cv", np.array(-1e4, np.float32))])
    g.op("y", "MaxPool", ["pad"], ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="VALID", data_format="NHWC")
    g.op("z", "MaxPool", ["x"], ksize=[1, 2, 3, 1], strides=[1, 2, 2, 1], padding="SAME", data_format="NHWC")
    (y, z), _ = run(g, tmp_path, ["y", "z"], x=x)
    xp = np.pad(x, ((0, 0), (1, 1), (0, 1), (0, 0)), constant_values=-1e4)
    np.testing.assert_allclose(y, ref_maxpool(xp, (3, 3), (2, 2), "VALID"), **TOL)
    np.testing.assert_allclose(z, ref_maxpool(x, (2, 3), (2, 2), "SAME"), **TOL)


def test_concat_split_reshape_transpose_sigmoid(tmp_path):
    a, b = rand(1, 4, 5, 3), rand(1, 4, 5, 2)
    g = G()
    g.input("a", a.shape)
    g.input("b", b.shape)
    g.op("cat", "ConcatV2", ["a", "b", g.const("ax", np.array(-1, np.int32))], N=2)
    g.op("sp", "SplitV", ["cat", g.const("sz", np.array([1, -1], np.int32)), g.const("d", np.array(3, np.int32))],
         num_split=2)
    g.op("sig", "Sigmoid", ["sp"])
    g.op("r", "Reshape", ["sp:1", g.const("shape", np.array([1, -1, 4], np.int64))])
    g.op("t", "Transpose", ["r", g.const("perm", np.array([0, 2, 1], np.int32))])
    g.op("m", "Mul", ["sig", g.const("k", np.array([2.0], np.float32))])
    (t, m), _ = run(g, tmp_path, ["t", "m"], a=a, b=b)
    cat = np.concatenate([a, b], -1)
    np.testing.assert_allclose(t, cat[..., 1:].reshape(1, -1, 4).transpose(0, 2, 1), **TOL)
    np.testing.assert_allclose(m, 2.0 / (1 + np.exp(-cat[..., :1])), **TOL)


@pytest.mark.parametrize("half,align", [(True, False), (False, True), (False, False)])
def test_resize_bilinear(tmp_path, half, align):
    x = rand(1, 5, 4, 3)
    g = G()
    g.input("x", x.shape)
    g.op("y", "ResizeBilinear", ["x", g.const("size", np.array([10, 7], np.int32))],
         half_pixel_centers=half, align_corners=align)
    y, _ = run(g, tmp_path, ["y"], x=x)
    np.testing.assert_allclose(y, ref_resize_bilinear(x, 10, 7, half, align), **TOL)


@pytest.mark.parametrize("half", [True, False])
def test_resize_nearest(tmp_path, half):
    x = rand(1, 4, 5, 2)
    g = G()
    g.input("x", x.shape)
    g.op("y", "ResizeNearestNeighbor", ["x", g.const("size", np.array([8, 7], np.int32))],
         half_pixel_centers=half, align_corners=False)
    y, _ = run(g, tmp_path, ["y"], x=x)
    np.testing.assert_allclose(y, ref_resize_nearest(x, 8, 7, half), **TOL)


def test_constant_folding_of_int64_shape_arithmetic(tmp_path):
    """NanoDet's head reshapes with ``AddV2(const, SparseToDense(empty, [3], [], 0))`` on int64
    constants stored as int32: folded at conversion time into a plain Reshape target."""
    x = rand(1, 6, 4)
    g = G()
    g.input("x", x.shape)
    std = g.op("std", "SparseToDense", [g.const("idx", np.zeros((0, 1), np.int64)),
                                        g.const("oshape", np.array([3], np.int64)),
                                        g.const("vals", np.zeros(0, np.int64)),
                                        g.const("zero", np.array(0, np.int64))])
    g.op("shape", "AddV2", [g.const("base", np.array([1, 4, 6], np.int64)), std])
    g.op("y", "Reshape", ["x", "shape"])
    y, model = run(g, tmp_path, ["y"], x=x)
    np.testing.assert_array_equal(y, x.reshape(1, 4, 6))
    assert {n.op_type for n in model.graph.node} <= {"Reshape", "Identity"}


def test_dynamic_spatial_runs_at_other_sizes(tmp_path):
    """``dynamic_spatial=True``: a graph exported at 8x8 (SAME conv at stride 2, a 2x resize by
    constant size, a 1/2 resize, a reshape with -1) runs at 12x16 as TF would run it there."""
    import onnxruntime as ort

    w = rand(3, 3, 2, 4)
    g = G()
    g.input("x", (1, 8, 8, 2))
    g.op("c", "Conv2D", ["x", g.const("w", w)], strides=[1, 2, 2, 1], padding="SAME", data_format="NHWC")
    g.op("up", "ResizeBilinear", ["c", g.const("s1", np.array([8, 8], np.int32))], half_pixel_centers=True)
    g.op("down", "ResizeBilinear", ["up", g.const("s2", np.array([4, 4], np.int32))], half_pixel_centers=True)
    g.op("y", "Reshape", ["down", g.const("shape", np.array([1, -1, 4], np.int64))])
    model = tfjs_onnx.convert(g.write(tmp_path, ["y"]), tmp_path / "m.onnx", dynamic_spatial=True)
    dims = [d.dim_value or d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, "height", "width", 2]
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    for h, wd in ((8, 8), (12, 16), (7, 9)):
        x = rand(1, h, wd, 2)
        c = ref_conv(x, w, (2, 2), "SAME")
        up = ref_resize_bilinear(c, 2 * c.shape[1], 2 * c.shape[2])
        down = ref_resize_bilinear(up, c.shape[1], c.shape[2])
        np.testing.assert_allclose(sess.run(None, {"x": x})[0], down.reshape(1, -1, 4), **TOL)


def test_unsupported_op_is_named(tmp_path):
    g = G()
    g.input("x", (1, 2))
    g.op("y", "Cumsum", ["x", g.const("ax", np.array(1, np.int32))])
    with pytest.raises(tfjs_onnx.UnsupportedOp, match="Cumsum"):
        tfjs_onnx.convert(g.write(tmp_path, ["y"]))


def test_weights_manifest_length_is_checked(tmp_path):
    g = G()
    g.input("x", (1, 2))
    g.op("y", "Add", ["x", g.const("c", np.ones(2, np.float32))])
    path = g.write(tmp_path, ["y"])
    (tmp_path / "group1-shard1of1.bin").write_bytes(b"\0" * 12)
    with pytest.raises(ValueError, match="manifest"):
        tfjs_onnx.convert(path)
