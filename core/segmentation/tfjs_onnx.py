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

**Supported TF ops** (see ``TfOpTranslator._OPS`` in :mod:`core.segmentation.tfjs_ops`): Placeholder, Const, Identity, Conv2D (grouped
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

from pathlib import Path
from typing import Any

import numpy as np

from core.segmentation.tfjs_graph import TF_DTYPES, TfjsGraph, UnsupportedOp, attr, load_tfjs, tensor_ref
from core.segmentation.tfjs_ops import TfOpTranslator

OPSET = 13
CONVERTER_VERSION = "2"
"""Written into the ONNX file as ``producer_version`` (bump when the output of a conversion changes)."""


class _Converter(TfOpTranslator):
    """One conversion: walks the GraphDef in topological order and emits ONNX nodes.

    ``self.shapes`` tracks the static shape of every non-constant tensor (TF layout)."""

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
            out = v[0].astype(TF_DTYPES[attr(node, "DstT", "DT_FLOAT")])
        elif op == "Identity":
            out = v[0]
        elif op == "Reshape":
            out = v[0].reshape([int(s) for s in v[1].reshape(-1)])
        elif op == "Transpose":
            out = v[0].transpose([int(p) for p in v[1].reshape(-1)])
        elif op == "ConcatV2":
            out = np.concatenate(v[:-1], axis=int(v[-1]))
        elif op == "Pack":
            out = np.stack(v, axis=attr(node, "axis", 0))
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
            ref = tensor_ref(ref)
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
