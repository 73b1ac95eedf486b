"""Reading a TensorFlow.js graph model (``model.json`` + ``.bin`` shards) without TensorFlow.

The format (GraphDef nodes as JSON, the weights manifest, quantisation) is described in
:mod:`core.segmentation.tfjs_onnx`, which converts what this module reads; docs/models.md says which
model files the app reads this way.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

TF_DTYPES = {
    "DT_FLOAT": np.float32,
    "DT_HALF": np.float16,
    "DT_INT32": np.int32,
    "DT_INT64": np.int64,
    "DT_BOOL": np.bool_,
    "DT_UINT8": np.uint8,
    "DT_INT8": np.int8,
}
MANIFEST_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_, "float16": np.float16}


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
                dt = MANIFEST_DTYPES[w["dtype"]]
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




def attr(node: dict, key: str, default: Any = None) -> Any:
    """The value of TF attribute ``key`` of ``node`` as a Python value (int, float, bool, str, list,
    dtype name or the raw dict), or ``default`` when absent."""
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


def inline_tensor(node: dict) -> np.ndarray:
    """A Const whose value sits in ``attr.value.tensor`` instead of the weights manifest."""
    t = node["attr"]["value"]["tensor"]
    dt = TF_DTYPES[t.get("dtype", "DT_FLOAT")]
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


def tensor_ref(name: str) -> str:
    """Normalise a GraphDef input reference to ``node:index``."""
    if ":" in name:
        return name
    return name + ":0"
