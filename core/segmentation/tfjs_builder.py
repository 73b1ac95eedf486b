"""The ONNX side of the TF.js converter: naming, initialisers, emitted nodes, tracked shapes and the
NHWC <-> NCHW and TF padding helpers that every op translation uses (:mod:`core.segmentation.tfjs_ops`)."""
from __future__ import annotations

import numpy as np

from core.segmentation.tfjs_graph import TfjsGraph, UnsupportedOp, attr, tensor_ref


class OnnxBuilder:
    """The ONNX graph of one conversion as it is built: emitted nodes, initialisers, graph inputs, the
    ONNX name of every TF tensor, and (``self.shapes``) the static shape of every non-constant tensor
    in TF layout. Constants (``self.consts``) stay numpy arrays until a node reads them."""

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
        return tensor_ref(ref) in self.consts

    def const(self, ref: str) -> np.ndarray:
        ref = tensor_ref(ref)
        if ref not in self.consts:
            raise UnsupportedOp(f"{ref} must be a constant here (dynamic shapes are not supported)")
        return self.consts[ref]

    def value(self, ref: str) -> str:
        """ONNX tensor name for a TF tensor reference (constants become initialisers on demand)."""
        ref = tensor_ref(ref)
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
        ref = tensor_ref(ref)
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
        padding = attr(node, "padding", "VALID")
        if padding == "SAME":
            t, b, oh = self._same_pads(hw[0], k[0], s[0], d[0])
            l, r, ow = self._same_pads(hw[1], k[1], s[1], d[1])
            return [t, l, b, r], (oh, ow)
        if padding == "VALID":
            pads = [0, 0, 0, 0]
        elif padding == "EXPLICIT":
            ep = attr(node, "explicit_paddings", [])
            fmt = attr(node, "data_format", "NHWC")
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
        if self.dynamic and attr(node, "padding", "VALID") == "SAME":
            return {"auto_pad": "SAME_UPPER"}
        return {"pads": pads}
