"""TF op -> ONNX node translations for the TF.js converter, one method per TF op family, and the
table (``TfOpTranslator._OPS``) that maps each supported TF op to its method."""
from __future__ import annotations

from typing import Callable

import numpy as np

from core.segmentation.tfjs_builder import OnnxBuilder
from core.segmentation.tfjs_graph import TF_DTYPES, UnsupportedOp, attr, inline_tensor, tensor_ref


class TfOpTranslator(OnnxBuilder):
    """Emits the ONNX nodes of one TF node per ``op_*`` method (shapes tracked in TF layout)."""

    # -- ops -------------------------------------------------------------------------------
    def op_placeholder(self, node: dict) -> None:
        dims = [int(d.get("size", -1)) for d in attr(node, "shape", {}).get("shape", {}).get("dim", [])]
        dims = [1 if v < 0 else v for v in dims]
        dt = TF_DTYPES[attr(node, "dtype", "DT_FLOAT")]
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
            want = TF_DTYPES.get(attr(node, "dtype", ""), None)
            if want is not None and want != arr.dtype and not (want == np.float16):
                arr = arr.astype(want)
        else:
            arr = inline_tensor(node)
        if arr.dtype == np.float16:
            arr = arr.astype(np.float32)
        self.consts[node["name"] + ":0"] = arr

    def op_identity(self, node: dict) -> None:
        src = tensor_ref(self.data_inputs(node)[0])
        if src in self.consts:
            self.consts[node["name"] + ":0"] = self.consts[src]
        else:
            self.onnx_name[node["name"] + ":0"] = self.onnx_name[src]
            self.shapes[node["name"] + ":0"] = self.shapes[src]

    def _conv(self, node: dict, depthwise: bool) -> tuple[str, tuple[int, ...], str]:
        """Emit the Conv (NCHW, bias-less); returns (ONNX output in NCHW, NCHW shape, data_format)."""
        x, w = self.data_inputs(node)[:2]
        fmt = attr(node, "data_format", "NHWC")
        if fmt not in ("NHWC", "NCHW"):
            raise UnsupportedOp(f"data_format {fmt} in {node['name']}")
        filt = self.const(w).astype(np.float32)  # HWIO, or H W C M for depthwise
        xs = self.shape(x)
        n, h, wd, c = xs if fmt == "NHWC" else (xs[0], xs[2], xs[3], xs[1])
        kh, kw = filt.shape[:2]
        strides = attr(node, "strides", [1, 1, 1, 1])
        dil = attr(node, "dilations", [1, 1, 1, 1])
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
        fused = attr(node, "fused_ops", [])
        extra = self.data_inputs(node)[2:]
        ops = list(fused)
        if ops and ops[0] in ("BiasAdd", "Add", "AddV2"):
            bias = self.const(extra.pop(0)).astype(np.float32).reshape(1, -1, 1, 1)
            y = self.emit("Add", [y, self.const_name(bias, node["name"] + "_B")], node["name"])[0]
            ops.pop(0)
        elif ops and ops[0] == "FusedBatchNorm":
            raise UnsupportedOp(f"fused BatchNorm in {node['name']}")
        for op in ops:
            y = self._activation(op, y, node["name"], attr(node, "leakyrelu_alpha", 0.2))
        self._finish_nchw(node, y, shape, fmt)

    def op_bias_add(self, node: dict) -> None:
        x, b = self.data_inputs(node)
        fmt = attr(node, "data_format", "NHWC")
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
        y = self._activation(op, self.value(x), node["name"], attr(node, "alpha", 0.2))
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
        dims = attr(node, "squeeze_dims", []) or [i for i, v in enumerate(xs) if v == 1]
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
            m = attr(node, "mode", "REFLECT")
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
            k = attr(node, "num_split")
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
        align = attr(node, "align_corners", False)
        half = attr(node, "half_pixel_centers", False)
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
        fmt = attr(node, "data_format", "NHWC")
        ks = attr(node, "ksize")
        st = attr(node, "strides")
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
        dst = attr(node, "DstT", "DT_FLOAT")
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
