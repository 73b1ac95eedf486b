"""TensorFlow.js graph model -> ONNX, with numpy and the ``onnx`` package only (no TensorFlow).

**Input format.** A TF.js *graph model* is a ``model.json`` plus one or more ``.bin`` weight
shards. ``model.json["modelTopology"]["node"]`` is a TensorFlow ``GraphDef`` written as JSON: each
node has ``name``, ``op``, ``input`` (``"node"``, ``"node:1"`` for a second output, ``"^node"``
for a control edge, which is ignored) and ``attr`` (TF ``AttrValue`` JSON: ``{"i": "2"}``,
``{"f": 0.1}``, ``{"b": true}``, ``{"s": base64}``, ``{"list": {"i": [...]}}``,
``{"type": "DT_FLOAT"}``, ``{"shape": ...}``, ``{"tensor": ...}``). ``weightsManifest[*].weights``
lists every ``Const`` node's tensor (name, shape, dtype, optional ``quantization``) in the byte
order of the concatenated shards. fp16-quantised weights (``quantization.dtype == "float16"``) are
widened to float32; uint8/uint16 affine quantisation (``scale``, ``min``) is dequantised; int64
tensors, which TF.js stores as int32, are widened back to the dtype the node declares.

**Layouts.** Every tensor keeps exactly the layout it has in the TF graph, so the axes of Concat,
Reshape, Split, Transpose and Pad mean what they meant in TF. TF's image ops are NHWC by default
(``data_format`` ``"NHWC"``) and ONNX's are NCHW, so each NHWC Conv / pool / resize becomes
``Transpose(0,3,1,2) -> op -> Transpose(0,2,3,1)``; filters are rewritten once as initialisers
(Conv2D HWIO -> OIHW; depthwise H,W,C,M -> (C*M),1,H,W with ``group=C``; a Conv2D whose filter has
fewer input channels than its input is a grouped convolution). A last pass removes every
``Transpose`` pair that composes to the identity (the NCHW -> NHWC -> NCHW round trips an
ONNX-to-TF export leaves around each convolution), so the model runs as plain NCHW.

**Constant folding.** Nodes whose inputs are all constants (shape arithmetic such as
``SparseToDense`` / ``AddV2`` / ``Cast`` on int64 shape vectors) are evaluated with numpy at
conversion time and become initialisers.

**Supported TF ops** (see ``_Converter._OPS``): Placeholder, Const, Identity, Conv2D (grouped
too), DepthwiseConv2dNative, _FusedConv2D / FusedDepthwiseConv2dNative (``fused_ops`` = an optional
BiasAdd, then activations among Relu, Relu6, LeakyRelu, Elu, Sigmoid, Tanh), BiasAdd, Add, AddV2,
Sub, Mul, RealDiv, Maximum, Minimum, Relu, Relu6, LeakyRelu, Elu, Sigmoid, Tanh, Exp, Softmax (last
axis), ConcatV2 / Concat, Reshape, Squeeze, ExpandDims, Transpose, Pad, PadV2, MirrorPad (REFLECT),
Split, SplitV, ResizeBilinear, ResizeNearestNeighbor (align_corners / half_pixel_centers), MaxPool,
AvgPool (VALID / SAME / EXPLICIT padding), Cast to float. Folded only (all inputs constant):
SparseToDense, Pack and the arithmetic, Cast, Reshape, Transpose, ConcatV2 above. NanoDet-m's graph
uses Conv2D, Add/AddV2, LeakyRelu, Pad/PadV2, MaxPool, ConcatV2, Transpose, ResizeBilinear, SplitV,
Sigmoid, Reshape, Identity and SparseToDense. Anything else (or a fused residual Add, FusedBatchNorm,
dynamic shapes) raises :class:`UnsupportedOp` naming the op and node. Shapes must be static (the
``Placeholder`` shape, a ``-1`` batch taken as 1), as in TF.js models with a fixed input size.

**Any input size** (``dynamic_spatial=True``): the image input's height and width become
symbolic (``"height"``, ``"width"``), resizes use their scale factor (2 or 1/2) instead of the
constant output size the graph holds, and TF 'SAME' windows use ONNX ``auto_pad="SAME_UPPER"``
(TF's rule: the odd pixel at the end), so one file runs at 320, 416, 512, ... (sizes the
network's strides divide). Shape tracking during conversion still uses the placeholder's size.

Output: an ONNX ``ModelProto`` at opset 13, float32 throughout, inputs named as the TF
placeholders and outputs named as the signature's outputs (without ``:0``)."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

OPSET = 13
CONVERTER_VERSION = "2"
"""Written into the ONNX file as ``producer_version`` (bump when the output of a conversion changes)."""

_TF_DTYPES = {
    "DT_FLOAT": np.float32,
    "DT_HALF": np.float16,
    "DT_INT32": np.int32,
    "DT_INT64": np.int64,
    "DT_BOOL": np.bool_,
    "DT_UINT8": np.uint8,
    "DT_INT8": np.int8,
}
_MANIFEST_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_, "float16": np.float16}


class UnsupportedOp(ValueError):
    """The TF.js graph holds an op (or an op variant) this converter does not translate."""


@dataclass
class TfjsGraph:
    """A parsed TF.js graph model: GraphDef nodes, Const values and the signature.

    ``nodes``: list of node dicts as in ``model.json``; ``weights``: Const name -> numpy array
    (float32 for float weights); ``inputs`` / ``outputs``: signature tensor names
    (``"input_1:0"``) in file order, or ``None`` when the file has no signature."""

    nodes: list[dict]
    weights: dict[str, np.ndarray]
    inputs: list[str] | None
    outputs: list[str] | None


def read_weights(manifest: list[dict], folder: Path) -> dict[str, np.ndarray]:
    """Decode the ``weightsManifest`` groups (shards in ``folder``) into name -> ndarray."""
    out: dict[str, np.ndarray] = {}
    for group in manifest:
        buf = b"".join((folder / p).read_bytes() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            shape = [int(s) for s in w["shape"]]
            n = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            if q:
                qdt = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}[q["dtype"]]
                raw = np.frombuffer(buf, qdt, n, off)
                off += n * np.dtype(qdt).itemsize
                if q["dtype"] == "float16":
                    arr = raw.astype(np.float32)
                else:
                    arr = raw.astype(np.float32) * np.float32(q["scale"]) + np.float32(q.get("min", 0.0))
            else:
                if w["dtype"] == "string":
                    raise UnsupportedOp(f"string weight {w['name']!r} is not supported")
                dt = _MANIFEST_DTYPES[w["dtype"]]
                arr = np.frombuffer(buf, dt, n, off).copy()
                off += n * np.dtype(dt).itemsize
            out[w["name"]] = arr.reshape(shape)
        if off != len(buf):
            raise ValueError(f"weights manifest covers {off} bytes but the shards hold {len(buf)}")
    return out


def load_tfjs(model_json: Path | str) -> TfjsGraph:
    """Read ``model.json`` and its weight shards (same folder)."""
    model_json = Path(model_json)
    m = json.loads(model_json.read_text())
    if m.get("format", "graph-model") != "graph-model":
        raise UnsupportedOp(f"{model_json.name} is a {m.get('format')!r}, not a TF.js graph-model")
    weights = read_weights(m.get("weightsManifest", []), model_json.parent)
    sig = m.get("signature") or {}
    ins = list(sig.get("inputs", {})) or None
    outs = list(sig.get("outputs", {})) or None
    return TfjsGraph(m["modelTopology"]["node"], weights, ins, outs)


# ---------------------------------------------------------------------------------------------
# attribute helpers


def _attr(node: dict, key: str, default: Any = None) -> Any:
    a = node.get("attr", {}).get(key)
    if a is None:
        return default
    if "list" in a:
        lst = a["list"]
        if "i" in lst:
            return [int(v) for v in lst["i"]]
        if "f" in lst:
            return [float(v) for v in lst["f"]]
        if "s" in lst:
            return [base64.b64decode(v).decode() for v in lst["s"]]
        return []
    if "i" in a:
        return int(a["i"])
    if "f" in a:
        return float(a["f"])
    if "b" in a:
        return bool(a["b"])
    if "s" in a:
        return base64.b64decode(a["s"]).decode()
    if "type" in a:
        return a["type"]
    return a


def _inline_tensor(node: dict) -> np.ndarray:
    """A Const whose value sits in ``attr.value.tensor`` instead of the weights manifest."""
    t = node["attr"]["value"]["tensor"]
    dt = _TF_DTYPES[t.get("dtype", "DT_FLOAT")]
    shape = [int(d.get("size", 0)) for d in t.get("tensorShape", {}).get("dim", [])]
    for key in ("floatVal", "intVal", "int64Val", "boolVal", "halfVal"):
        if key in t:
            vals = np.array(t[key], dtype=dt)
            break
    else:
        if "tensorContent" in t:
            return np.frombuffer(base64.b64decode(t["tensorContent"]), dt).reshape(shape).copy()
        vals = np.zeros(1, dt)
    n = int(np.prod(shape)) if shape else 1
    if vals.size == n:
        return vals.reshape(shape)
    return np.full(shape, vals.reshape(-1)[0] if vals.size else 0, dt)


def _tensor_ref(name: str) -> str:
    """Normalise a GraphDef input reference to ``node:index``."""
    if ":" in name:
        return name
    return name + ":0"


# ---------------------------------------------------------------------------------------------
# the converter


class _Converter:
    """One conversion: walks the GraphDef in topological order and emits ONNX nodes.

    ``self.shapes`` tracks the static shape of every non-constant tensor (TF layout)."""

    def __init__(self, graph: TfjsGraph, dynamic_spatial: bool = False) -> None:
        from onnx import helper

        self.helper = helper
        self.dynamic = dynamic_spatial
        self.g = graph
        self.by_name = {n["name"]: n for n in graph.nodes}
        self.consts: dict[str, np.ndarray] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.onnx_name: dict[str, str] = {}
        self.nodes: list = []
        self.inits: dict[str, np.ndarray] = {}
        self.inputs: list = []
        self._uid = 0

    # -- plumbing --------------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        self._uid += 1
        return f"{base}__{self._uid}"

    def const_name(self, arr: np.ndarray, base: str) -> str:
        name = self.fresh(base)
        self.inits[name] = np.ascontiguousarray(arr)
        return name

    def emit(self, op: str, inputs: list[str], base: str, n_out: int = 1, **attrs) -> list[str]:
        outs = [self.fresh(base) for _ in range(n_out)]
        self.nodes.append(self.helper.make_node(op, inputs, outs, name=self.fresh(base + "_" + op), **attrs))
        return outs

    def is_const(self, ref: str) -> bool:
        return _tensor_ref(ref) in self.consts

    def const(self, ref: str) -> np.ndarray:
        ref = _tensor_ref(ref)
        if ref not in self.consts:
            raise UnsupportedOp(f"{ref} must be a constant here (dynamic shapes are not supported)")
        return self.consts[ref]

    def value(self, ref: str) -> str:
        """ONNX tensor name for a TF tensor reference (constants become initialisers on demand)."""
        ref = _tensor_ref(ref)
        if ref in self.onnx_name:
            return self.onnx_name[ref]
        if ref in self.consts:
            arr = self.consts[ref]
            if arr.dtype == np.float16 or arr.dtype == np.float64:
                arr = arr.astype(np.float32)
            name = self.const_name(arr, ref.replace(":", "_"))
            self.onnx_name[ref] = name
            return name
        raise KeyError(f"tensor {ref} is used before it is produced")

    def shape(self, ref: str) -> tuple[int, ...]:
        ref = _tensor_ref(ref)
        if ref in self.consts:
            return tuple(self.consts[ref].shape)
        return self.shapes[ref]

    def set_out(self, node: dict, onnx_names: list[str], shapes: list[tuple[int, ...]]) -> None:
        for i, (n, s) in enumerate(zip(onnx_names, shapes)):
            self.onnx_name[f"{node['name']}:{i}"] = n
            self.shapes[f"{node['name']}:{i}"] = tuple(int(v) for v in s)

    def data_inputs(self, node: dict) -> list[str]:
        return [i for i in node.get("input", []) if not i.startswith("^")]

    # -- layout helpers --------------------------------------------------------------------
    def to_nchw(self, name: str, base: str) -> str:
        return self.emit("Transpose", [name], base, perm=[0, 3, 1, 2])[0]

    def to_nhwc(self, name: str, base: str) -> str:
        return self.emit("Transpose", [name], base, perm=[0, 2, 3, 1])[0]

    @staticmethod
    def _same_pads(size: int, k: int, s: int, d: int) -> tuple[int, int, int]:
        """TF 'SAME': output ceil(size/s); the extra pixel of an odd total goes at the end."""
        out = -(-size // s)
        eff = (k - 1) * d + 1
        total = max((out - 1) * s + eff - size, 0)
        return total // 2, total - total // 2, out

    def spatial(self, node: dict, hw: tuple[int, int], k: tuple[int, int], s: tuple[int, int],
                d: tuple[int, int]) -> tuple[list[int], tuple[int, int]]:
        """ONNX ``pads`` [top, left, bottom, right] and output (H, W) for a TF window op."""
        padding = _attr(node, "padding", "VALID")
        if padding == "SAME":
            t, b, oh = self._same_pads(hw[0], k[0], s[0], d[0])
            l, r, ow = self._same_pads(hw[1], k[1], s[1], d[1])
            return [t, l, b, r], (oh, ow)
        if padding == "VALID":
            pads = [0, 0, 0, 0]
        elif padding == "EXPLICIT":
            ep = _attr(node, "explicit_paddings", [])
            fmt = _attr(node, "data_format", "NHWC")
            pairs = np.array(ep, dtype=np.int64).reshape(4, 2)
            hi, wi = (1, 2) if fmt == "NHWC" else (2, 3)
            pads = [int(pairs[hi, 0]), int(pairs[wi, 0]), int(pairs[hi, 1]), int(pairs[wi, 1])]
        else:
            raise UnsupportedOp(f"padding {padding!r} in {node['name']}")
        oh = (hw[0] + pads[0] + pads[2] - ((k[0] - 1) * d[0] + 1)) // s[0] + 1
        ow = (hw[1] + pads[1] + pads[3] - ((k[1] - 1) * d[1] + 1)) // s[1] + 1
        return pads, (oh, ow)

    def pad_attr(self, node: dict, pads: list[int]) -> dict:
        """ONNX padding attributes: explicit ``pads``, or ``auto_pad`` for TF 'SAME' when the input
        size is symbolic (the explicit amounts depend on the size)."""
        if self.dynamic and _attr(node, "padding", "VALID") == "SAME":
            return {"auto_pad": "SAME_UPPER"}
        return {"pads": pads}

    # -- ops -------------------------------------------------------------------------------
    def op_placeholder(self, node: dict) -> None:
        dims = [int(d.get("size", -1)) for d in _attr(node, "shape", {}).get("shape", {}).get("dim", [])]
        dims = [1 if v < 0 else v for v in dims]
        dt = _TF_DTYPES[_attr(node, "dtype", "DT_FLOAT")]
        from onnx import helper

        elem = helper.np_dtype_to_tensor_dtype(np.dtype(np.float32 if dt == np.float16 else dt))
        declared: list[int | str] = list(dims)
        if self.dynamic and len(dims) == 4:
            hw = (2, 3) if dims[1] in (1, 3, 4) and dims[3] not in (1, 3, 4) else (1, 2)
            declared[hw[0]], declared[hw[1]] = "height", "width"
        self.inputs.append(helper.make_tensor_value_info(node["name"], elem, declared))
        self.set_out(node, [node["name"]], [tuple(dims)])

    def op_const(self, node: dict) -> None:
        if node["name"] in self.g.weights:
            arr = self.g.weights[node["name"]]
            want = _TF_DTYPES.get(_attr(node, "dtype", ""), None)
            if want is not None and want != arr.dtype and not (want == np.float16):
                arr = arr.astype(want)
        else:
            arr = _inline_tensor(node)
        if arr.dtype == np.float16:
            arr = arr.astype(np.float32)
        self.consts[node["name"] + ":0"] = arr

    def op_identity(self, node: dict) -> None:
        src = _tensor_ref(self.data_inputs(node)[0])
        if src in self.consts:
            self.consts[node["name"] + ":0"] = self.consts[src]
        else:
            self.onnx_name[node["name"] + ":0"] = self.onnx_name[src]
            self.shapes[node["name"] + ":0"] = self.shapes[src]

    def _conv(self, node: dict, depthwise: bool) -> tuple[str, tuple[int, ...], str]:
        """Emit the Conv (NCHW, bias-less); returns (ONNX output in NCHW, NCHW shape, data_format)."""
        x, w = self.data_inputs(node)[:2]
        fmt = _attr(node, "data_format", "NHWC")
        if fmt not in ("NHWC", "NCHW"):
            raise UnsupportedOp(f"data_format {fmt} in {node['name']}")
        filt = self.const(w).astype(np.float32)  # HWIO, or H W C M for depthwise
        xs = self.shape(x)
        n, h, wd, c = xs if fmt == "NHWC" else (xs[0], xs[2], xs[3], xs[1])
        kh, kw = filt.shape[:2]
        strides = _attr(node, "strides", [1, 1, 1, 1])
        dil = _attr(node, "dilations", [1, 1, 1, 1])
        s = (strides[1], strides[2]) if fmt == "NHWC" else (strides[2], strides[3])
        d = (dil[1], dil[2]) if fmt == "NHWC" else (dil[2], dil[3])
        if depthwise:
            cin, mult = filt.shape[2], filt.shape[3]
            wt = filt.reshape(kh, kw, cin * mult).transpose(2, 0, 1)[:, None]  # (C*M, 1, kh, kw)
            group = cin
        else:
            wt = filt.transpose(3, 2, 0, 1)  # OIHW
            if c % filt.shape[2]:
                raise UnsupportedOp(f"{node['name']}: {c} input channels vs filter {filt.shape}")
            group = c // filt.shape[2]
        pads, (oh, ow) = self.spatial(node, (h, wd), (kh, kw), s, d)
        xin = self.value(x)
        if fmt == "NHWC":
            xin = self.to_nchw(xin, node["name"])
        attrs = dict(kernel_shape=[kh, kw], strides=list(s), dilations=list(d), **self.pad_attr(node, pads))
        if group != 1:
            attrs["group"] = group
        y = self.emit("Conv", [xin, self.const_name(wt, node["name"] + "_W")], node["name"], **attrs)[0]
        return y, (n, wt.shape[0], oh, ow), fmt

    def _finish_nchw(self, node: dict, y: str, shape: tuple[int, ...], fmt: str) -> None:
        if fmt == "NHWC":
            y = self.to_nhwc(y, node["name"])
            shape = (shape[0], shape[2], shape[3], shape[1])
        self.set_out(node, [y], [shape])

    def _activation(self, op: str, y: str, base: str, alpha: float | None = None) -> str:
        if op == "Relu":
            return self.emit("Relu", [y], base)[0]
        if op == "Relu6":
            lo = self.const_name(np.array(0.0, np.float32), base + "_lo")
            hi = self.const_name(np.array(6.0, np.float32), base + "_hi")
            return self.emit("Clip", [y, lo, hi], base)[0]
        if op == "LeakyRelu":
            return self.emit("LeakyRelu", [y], base, alpha=float(0.2 if alpha is None else alpha))[0]
        if op in ("Elu", "Sigmoid", "Tanh", "Exp"):
            return self.emit(op, [y], base)[0]
        raise UnsupportedOp(f"activation {op} in {base}")

    def op_conv2d(self, node: dict) -> None:
        y, shape, fmt = self._conv(node, depthwise=False)
        self._finish_nchw(node, y, shape, fmt)

    def op_depthwise(self, node: dict) -> None:
        y, shape, fmt = self._conv(node, depthwise=True)
        self._finish_nchw(node, y, shape, fmt)

    def op_fused_conv(self, node: dict) -> None:
        depthwise = node["op"] == "FusedDepthwiseConv2dNative"
        y, shape, fmt = self._conv(node, depthwise)
        fused = _attr(node, "fused_ops", [])
        extra = self.data_inputs(node)[2:]
        ops = list(fused)
        if ops and ops[0] in ("BiasAdd", "Add", "AddV2"):
            bias = self.const(extra.pop(0)).astype(np.float32).reshape(1, -1, 1, 1)
            y = self.emit("Add", [y, self.const_name(bias, node["name"] + "_B")], node["name"])[0]
            ops.pop(0)
        elif ops and ops[0] == "FusedBatchNorm":
            raise UnsupportedOp(f"fused BatchNorm in {node['name']}")
        for op in ops:
            y = self._activation(op, y, node["name"], _attr(node, "leakyrelu_alpha", 0.2))
        self._finish_nchw(node, y, shape, fmt)

    def op_bias_add(self, node: dict) -> None:
        x, b = self.data_inputs(node)
        fmt = _attr(node, "data_format", "NHWC")
        bias = self.const(b).astype(np.float32)
        xs = self.shape(x)
        if fmt == "NCHW":
            bias = bias.reshape((-1,) + (1,) * (len(xs) - 2))
        y = self.emit("Add", [self.value(x), self.const_name(bias, node["name"] + "_B")], node["name"])[0]
        self.set_out(node, [y], [xs])

    _BINARY = {"Add": "Add", "AddV2": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div",
               "Maximum": "Max", "Minimum": "Min"}
    _NP_BINARY: dict[str, Callable] = {"Add": np.add, "AddV2": np.add, "Sub": np.subtract,
                                       "Mul": np.multiply, "RealDiv": np.divide,
                                       "Maximum": np.maximum, "Minimum": np.minimum}

    def _producer(self, onnx_name: str):
        for n in reversed(self.nodes):
            if onnx_name in n.output:
                return n
        return None

    def op_binary(self, node: dict) -> None:
        a, b = self.data_inputs(node)
        shape = np.broadcast_shapes(self.shape(a), self.shape(b))
        if self.is_const(a) != self.is_const(b) and len(shape) == 4:
            # x_nhwc (+) per-channel constant, where x_nhwc = Transpose(0,2,3,1)(y_nchw): apply it on
            # y_nchw and transpose after, so the NHWC round trip around a convolution cancels.
            x, c = (b, a) if self.is_const(a) else (a, b)
            cv = self.const(c)
            src = self._producer(self.value(x))
            if (src is not None and src.op_type == "Transpose" and list(src.attribute[0].ints) == [0, 2, 3, 1]
                    and cv.size == shape[3] and cv.ndim >= 1 and cv.shape[-1] == shape[3]):
                cc = self.const_name(cv.astype(np.float32).reshape(1, -1, 1, 1), node["name"] + "_c")
                ins = [src.input[0], cc] if x == a else [cc, src.input[0]]
                y = self.emit(self._BINARY[node["op"]], ins, node["name"])[0]
                self.set_out(node, [self.to_nhwc(y, node["name"])], [shape])
                return
        ins = []
        for ref in (a, b):
            if self.is_const(ref):
                ins.append(self.const_name(self.const(ref).astype(np.float32), node["name"] + "_c"))
            else:
                ins.append(self.value(ref))
        y = self.emit(self._BINARY[node["op"]], ins, node["name"])[0]
        self.set_out(node, [y], [shape])

    def op_unary(self, node: dict) -> None:
        x = self.data_inputs(node)[0]
        op = node["op"]
        y = self._activation(op, self.value(x), node["name"], _attr(node, "alpha", 0.2))
        self.set_out(node, [y], [self.shape(x)])

    def op_softmax(self, node: dict) -> None:
        x = self.data_inputs(node)[0]
        y = self.emit("Softmax", [self.value(x)], node["name"], axis=-1)[0]
        self.set_out(node, [y], [self.shape(x)])

    def op_concat(self, node: dict) -> None:
        ins = self.data_inputs(node)
        if node["op"] == "Concat":  # axis first
            axis_ref, parts = ins[0], ins[1:]
        else:
            parts, axis_ref = ins[:-1], ins[-1]
        axis = int(self.const(axis_ref))
        shapes = [self.shape(p) for p in parts]
        axis = axis % len(shapes[0])
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        y = self.emit("Concat", [self.value(p) for p in parts], node["name"], axis=axis)[0]
        self.set_out(node, [y], [tuple(out)])

    def op_reshape(self, node: dict) -> None:
        x, s = self.data_inputs(node)
        target = self.const(s).astype(np.int64).reshape(-1)
        xs = self.shape(x)
        out = list(target)
        if -1 in out:
            known = int(np.prod([v for v in out if v != -1]))
            out[out.index(-1)] = int(np.prod(xs)) // known
        y = self.emit("Reshape", [self.value(x), self.const_name(target, node["name"] + "_shape")], node["name"])[0]
        self.set_out(node, [y], [tuple(out)])

    def op_transpose(self, node: dict) -> None:
        x, p = self.data_inputs(node)
        perm = [int(v) for v in self.const(p).reshape(-1)]
        xs = self.shape(x)
        y = self.emit("Transpose", [self.value(x)], node["name"], perm=perm)[0]
        self.set_out(node, [y], [tuple(xs[i] for i in perm)])

    def op_squeeze(self, node: dict) -> None:
        x = self.data_inputs(node)[0]
        xs = self.shape(x)
        dims = _attr(node, "squeeze_dims", []) or [i for i, v in enumerate(xs) if v == 1]
        dims = sorted(d % len(xs) for d in dims)
        out = tuple(v for i, v in enumerate(xs) if i not in dims)
        y = self.emit("Squeeze", [self.value(x), self.const_name(np.array(dims, np.int64), node["name"] + "_ax")],
                      node["name"])[0]
        self.set_out(node, [y], [out])

    def op_expand_dims(self, node: dict) -> None:
        x, a = self.data_inputs(node)
        xs = list(self.shape(x))
        axis = int(self.const(a))
        axis = axis % (len(xs) + 1)
        xs.insert(axis, 1)
        y = self.emit("Unsqueeze", [self.value(x), self.const_name(np.array([axis], np.int64), node["name"] + "_ax")],
                      node["name"])[0]
        self.set_out(node, [y], [tuple(xs)])

    def op_pad(self, node: dict) -> None:
        ins = self.data_inputs(node)
        x, p = ins[0], ins[1]
        pairs = self.const(p).astype(np.int64).reshape(-1, 2)
        pads = np.concatenate([pairs[:, 0], pairs[:, 1]]).astype(np.int64)
        args = [self.value(x), self.const_name(pads, node["name"] + "_pads")]
        mode = "constant"
        if node["op"] == "PadV2":
            args.append(self.const_name(self.const(ins[2]).astype(np.float32).reshape(()), node["name"] + "_cv"))
        elif node["op"] == "MirrorPad":
            m = _attr(node, "mode", "REFLECT")
            if m != "REFLECT":
                raise UnsupportedOp(f"MirrorPad mode {m} in {node['name']}")
            mode = "reflect"
        y = self.emit("Pad", args, node["name"], mode=mode)[0]
        xs = self.shape(x)
        self.set_out(node, [y], [tuple(int(v + a + b) for v, (a, b) in zip(xs, pairs))])

    def op_split(self, node: dict) -> None:
        ins = self.data_inputs(node)
        if node["op"] == "SplitV":
            x, sizes_ref, dim_ref = ins
            sizes = [int(v) for v in self.const(sizes_ref).reshape(-1)]
        else:
            dim_ref, x = ins
            sizes = None
        xs = self.shape(x)
        axis = int(self.const(dim_ref)) % len(xs)
        if sizes is None:
            k = _attr(node, "num_split")
            sizes = [xs[axis] // k] * k
        if -1 in sizes:
            sizes[sizes.index(-1)] = xs[axis] - (sum(sizes) + 1)
        outs = self.emit("Split", [self.value(x), self.const_name(np.array(sizes, np.int64), node["name"] + "_sz")],
                         node["name"], n_out=len(sizes), axis=axis)
        shapes = []
        for sz in sizes:
            s = list(xs)
            s[axis] = sz
            shapes.append(tuple(s))
        self.set_out(node, outs, shapes)

    def op_resize(self, node: dict) -> None:
        x, size_ref = self.data_inputs(node)
        oh, ow = (int(v) for v in self.const(size_ref).reshape(-1))
        n, h, w, c = self.shape(x)  # TF resize ops are NHWC
        align = _attr(node, "align_corners", False)
        half = _attr(node, "half_pixel_centers", False)
        if node["op"] == "ResizeBilinear":
            mode, nearest = "linear", "floor"
            ctm = "align_corners" if align else ("half_pixel" if half else "asymmetric")
        else:
            mode = "nearest"
            if align:
                ctm, nearest = "align_corners", "round_prefer_ceil"
            elif half:  # TF: floor((out + 0.5) * in/out) == round_prefer_ceil((out + 0.5) * in/out - 0.5)
                ctm, nearest = "half_pixel", "round_prefer_ceil"
            else:
                ctm, nearest = "asymmetric", "floor"
        empty = self.const_name(np.zeros(0, np.float32), node["name"] + "_roi")
        if self.dynamic:  # the graph's constant size only fits the placeholder's size: use the factor
            if not all(o % i == 0 or i % o == 0 for i, o in ((h, oh), (w, ow))):
                raise UnsupportedOp(f"{node['name']}: resize {h}x{w} -> {oh}x{ow} is not by an integer "
                                    f"factor or its inverse, so it cannot be made size-agnostic")
            scales = self.const_name(np.array([1, 1, oh / h, ow / w], np.float32), node["name"] + "_scales")
            args = [empty, scales]
        else:
            args = [empty, empty, self.const_name(np.array([n, c, oh, ow], np.int64), node["name"] + "_sizes")]
        xin = self.to_nchw(self.value(x), node["name"])
        y = self.emit("Resize", [xin, *args], node["name"], mode=mode,
                      coordinate_transformation_mode=ctm, nearest_mode=nearest)[0]
        self.set_out(node, [self.to_nhwc(y, node["name"])], [(n, oh, ow, c)])

    def op_pool(self, node: dict) -> None:
        x = self.data_inputs(node)[0]
        fmt = _attr(node, "data_format", "NHWC")
        ks = _attr(node, "ksize")
        st = _attr(node, "strides")
        xs = self.shape(x)
        if fmt == "NHWC":
            k, s = (ks[1], ks[2]), (st[1], st[2])
            n, h, w, c = xs
        else:
            k, s = (ks[2], ks[3]), (st[2], st[3])
            n, c, h, w = xs
        pads, (oh, ow) = self.spatial(node, (h, w), k, s, (1, 1))
        xin = self.value(x)
        if fmt == "NHWC":
            xin = self.to_nchw(xin, node["name"])
        attrs = dict(kernel_shape=list(k), strides=list(s), **self.pad_attr(node, pads))
        if node["op"] == "MaxPool":
            y = self.emit("MaxPool", [xin], node["name"], **attrs)[0]
        else:
            y = self.emit("AveragePool", [xin], node["name"], count_include_pad=0, **attrs)[0]
        self._finish_nchw(node, y, (n, c, oh, ow), fmt)

    def op_cast(self, node: dict) -> None:
        """A cast to float of a float tensor (all this graph has): an identity."""
        dst = _attr(node, "DstT", "DT_FLOAT")
        if dst != "DT_FLOAT":
            raise UnsupportedOp(f"Cast to {dst} of a non-constant tensor in {node['name']}")
        self.op_identity(node)

    _OPS = {
        "Placeholder": "op_placeholder", "Const": "op_const", "Identity": "op_identity",
        "Conv2D": "op_conv2d", "DepthwiseConv2dNative": "op_depthwise",
        "_FusedConv2D": "op_fused_conv", "FusedConv2D": "op_fused_conv",
        "FusedDepthwiseConv2dNative": "op_fused_conv", "BiasAdd": "op_bias_add",
        "Add": "op_binary", "AddV2": "op_binary", "Sub": "op_binary", "Mul": "op_binary",
        "RealDiv": "op_binary", "Maximum": "op_binary", "Minimum": "op_binary",
        "Relu": "op_unary", "Relu6": "op_unary", "LeakyRelu": "op_unary", "Elu": "op_unary",
        "Sigmoid": "op_unary", "Tanh": "op_unary", "Exp": "op_unary", "Softmax": "op_softmax",
        "ConcatV2": "op_concat", "Concat": "op_concat", "Reshape": "op_reshape",
        "Squeeze": "op_squeeze", "ExpandDims": "op_expand_dims", "Transpose": "op_transpose",
        "Pad": "op_pad", "PadV2": "op_pad", "MirrorPad": "op_pad", "Split": "op_split",
        "SplitV": "op_split", "ResizeBilinear": "op_resize", "ResizeNearestNeighbor": "op_resize",
        "MaxPool": "op_pool", "AvgPool": "op_pool", "Cast": "op_cast",
    }

    # -- constant folding ------------------------------------------------------------------
    def fold(self, node: dict) -> bool:
        """Evaluate ``node`` with numpy when all its inputs are constants; True when done."""
        ins = self.data_inputs(node)
        if node["op"] in ("Const", "Placeholder") or not ins or not all(self.is_const(i) for i in ins):
            return False
        v = [self.const(i) for i in ins]
        op = node["op"]
        if op in self._NP_BINARY:
            out = self._NP_BINARY[op](v[0], v[1])
            if np.issubdtype(v[0].dtype, np.integer) and np.issubdtype(v[1].dtype, np.integer) and op == "RealDiv":
                out = out.astype(v[0].dtype)
        elif op == "SparseToDense":
            idx, shape, vals, default = v
            out = np.full([int(s) for s in shape.reshape(-1)], default, dtype=vals.dtype)
            idx = idx.reshape(len(idx), -1) if idx.size else idx.reshape(0, out.ndim)
            vals = np.broadcast_to(vals, (len(idx),))
            for row, val in zip(idx, vals):
                out[tuple(row)] = val
        elif op == "Cast":
            out = v[0].astype(_TF_DTYPES[_attr(node, "DstT", "DT_FLOAT")])
        elif op == "Identity":
            out = v[0]
        elif op == "Reshape":
            out = v[0].reshape([int(s) for s in v[1].reshape(-1)])
        elif op == "Transpose":
            out = v[0].transpose([int(p) for p in v[1].reshape(-1)])
        elif op == "ConcatV2":
            out = np.concatenate(v[:-1], axis=int(v[-1]))
        elif op == "Pack":
            out = np.stack(v, axis=_attr(node, "axis", 0))
        else:
            return False
        self.consts[node["name"] + ":0"] = np.asarray(out)
        return True

    # -- driver ----------------------------------------------------------------------------
    def topo_order(self) -> list[dict]:
        order: list[dict] = []
        state: dict[str, int] = {}
        for root in self.g.nodes:
            stack = [(root["name"], False)]
            while stack:
                name, done = stack.pop()
                if done:
                    if state.get(name) != 2:
                        state[name] = 2
                        order.append(self.by_name[name])
                    continue
                if state.get(name):
                    continue
                state[name] = 1
                stack.append((name, True))
                for i in self.by_name[name].get("input", []):
                    dep = i.lstrip("^").split(":")[0]
                    if not state.get(dep):
                        stack.append((dep, False))
        return order

    def run(self, output_refs: list[str]) -> Any:
        from onnx import TensorProto, helper, numpy_helper

        for node in self.topo_order():
            if self.fold(node):
                continue
            handler = self._OPS.get(node["op"])
            if handler is None:
                raise UnsupportedOp(f"TF op {node['op']!r} (node {node['name']!r}) is not supported")
            getattr(self, handler)(node)
        outputs = []
        for ref in output_refs:
            ref = _tensor_ref(ref)
            name = ref.split(":")[0]
            src = self.value(ref)
            self.nodes.append(helper.make_node("Identity", [src], [name], name=self.fresh(name + "_out")))
            dims: list[int | str] = list(self.shape(ref))
            if self.dynamic:  # every dimension but the batch and the last may follow the input size
                dims = [d if i in (0, len(dims) - 1) else f"{name}_dim{i}" for i, d in enumerate(dims)]
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
        nodes = _cancel_transposes(self.nodes, {o.name for o in outputs})
        used = {i for n in nodes for i in n.input}
        inits = [numpy_helper.from_array(a, k) for k, a in self.inits.items() if k in used]
        graph = helper.make_graph(nodes, "tfjs", self.inputs, outputs, inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="cvlab.tfjs_onnx", producer_version=CONVERTER_VERSION)
        model.ir_version = 8
        return model


def _cancel_transposes(nodes: list, graph_outputs: set[str]) -> list:
    """Drop Transpose pairs whose perms compose to the identity (rewiring their consumers).

    ``T2(T1(x))`` with ``perm1[perm2[i]] == i`` is ``x``; the pair is removed when T1's output
    feeds T2 (T1 itself stays while something else still reads it, then dead-code removal drops
    it). Repeats until nothing changes."""
    while True:
        producer = {o: n for n in nodes for o in n.output}
        rename: dict[str, str] = {}
        for n in nodes:
            if n.op_type != "Transpose":
                continue
            src = producer.get(n.input[0])
            if src is None or src.op_type != "Transpose":
                continue
            p1 = list(src.attribute[0].ints)
            p2 = list(n.attribute[0].ints)
            if len(p1) == len(p2) and all(p1[p2[i]] == i for i in range(len(p2))):
                rename[n.output[0]] = src.input[0]
        if not rename:
            break

        def resolve(name: str) -> str:
            while name in rename:
                name = rename[name]
            return name

        kept = []
        for n in nodes:
            if n.op_type == "Transpose" and n.output[0] in rename:
                continue
            for i, name in enumerate(n.input):
                n.input[i] = resolve(name)
            kept.append(n)
        nodes = _dead_code(kept, graph_outputs)
    return nodes


def _dead_code(nodes: list, graph_outputs: set[str]) -> list:
    """Remove nodes none of whose outputs is read by another node or is a graph output."""
    while True:
        used = {i for n in nodes for i in n.input} | graph_outputs
        keep = [n for n in nodes if any(o in used for o in n.output)]
        if len(keep) == len(nodes):
            return keep
        nodes = keep


def convert_graph(graph: TfjsGraph, outputs: list[str] | None = None, dynamic_spatial: bool = False):
    """:class:`TfjsGraph` -> ``onnx.ModelProto`` (see the module docstring)."""
    outs = outputs or graph.outputs
    if not outs:
        raise ValueError("no outputs: the model has no signature, pass outputs=[...]")
    model = _Converter(graph, dynamic_spatial).run(outs)
    import onnx

    onnx.checker.check_model(model)
    return model


def convert(model_json: Path | str, out_path: Path | str | None = None, outputs: list[str] | None = None,
            dynamic_spatial: bool = False):
    """Convert a TF.js graph model on disk; writes ``out_path`` (atomically) when given.

    Returns the ``onnx.ModelProto``. Raises :class:`UnsupportedOp` for ops outside the list above."""
    model = convert_graph(load_tfjs(model_json), outputs, dynamic_spatial)
    if out_path is not None:
        import onnx

        out_path = Path(out_path)
        tmp = out_path.with_suffix(out_path.suffix + ".part")
        onnx.save(model, str(tmp))
        tmp.replace(out_path)
    return model
