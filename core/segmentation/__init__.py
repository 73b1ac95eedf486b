"""Segmentation: semantic (a class per pixel), instance (an object per mask) and panoptic (both),
with the detectors, BlazePose engine, R-CNN wrappers, COCO export and the FCN lab they use.

``segment(task, rgb, model=...)`` takes an RGB uint8 (H, W, 3) image and returns a
:class:`core.types.Segmentation` of the same H x W (each task's own
function lives in its module: ``semantic.semantic``, ``instance.instance``, ``panoptic.panoptic``).
"""
from __future__ import annotations

import numpy as np

from core.segmentation import instance as _instance
from core.segmentation import panoptic as _panoptic
from core.segmentation import semantic as _semantic
from core.segmentation.export import write_result
from core.types import Segmentation

TASKS = ("semantic", "instance", "panoptic")
_TASK_FUNCTIONS = {"semantic": _semantic.semantic, "instance": _instance.instance, "panoptic": _panoptic.panoptic}

__all__ = ["TASKS", "segment", "write_result"]


def segment(task: str, rgb: np.ndarray, model: str = "auto", **options) -> Segmentation:
    """Run ``task`` on ``rgb`` with registry model ``model`` ("auto" = best ready one)."""
    if task not in TASKS:
        raise ValueError(f"Unknown task '{task}'; choose one of {', '.join(TASKS)}.")
    return _TASK_FUNCTIONS[task](rgb, model=model, **options)
