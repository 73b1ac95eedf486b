"""One entry point for the three segmentation tasks.

``segment(task, rgb, model=...)`` takes an RGB uint8 (H, W, 3) image and returns a
:class:`core.types.Segmentation` of the same H x W. Each task lives in its own
module (``core.semantic``, ``core.instance``, ``core.panoptic``); this module only
dispatches, so callers (CLI, tabs, benchmarks) need one import.
"""
from __future__ import annotations

import importlib

import numpy as np

from core.types import Segmentation

TASKS = ("semantic", "instance", "panoptic")


def segment(task: str, rgb: np.ndarray, model: str = "auto", **options) -> Segmentation:
    """Run ``task`` on ``rgb`` with registry model ``model`` ("auto" = best ready one)."""
    if task not in TASKS:
        raise ValueError(f"Unknown task '{task}'; choose one of {', '.join(TASKS)}.")
    module = importlib.import_module(f"core.{task}")
    return getattr(module, task)(rgb, model=model, **options)
