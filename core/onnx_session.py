"""One way to open an ONNX model with onnxruntime, for every model here that runs through it
(NanoDet, the fast style networks)."""
from __future__ import annotations

from pathlib import Path

from core.config import usable_cpus


def onnx_session(model: Path | str | bytes, num_threads: int | None = None, device: str = "cpu"):
    """An onnxruntime session for a model file, or a serialised model (bytes): quiet, all graph
    optimisations, one inter-op thread and ``num_threads`` intra-op threads (None = one per usable
    core, at most 4; 0 = onnxruntime's own default, which counts the machine's cores and so
    oversubscribes a process pinned with taskset or a container's cpuset). ``device`` "cuda..." adds
    the CUDA provider where this onnxruntime has it."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = min(4, usable_cpus()) if num_threads is None else int(num_threads)
    opts.inter_op_num_threads = 1
    providers = ["CPUExecutionProvider"]
    if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    return ort.InferenceSession(model if isinstance(model, bytes) else str(model), opts, providers=providers)
