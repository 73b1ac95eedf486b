"""Process-wide settings, set once by app.py or the CLI before any model loads."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class Settings:
    """offline: never try a download. device: torch device for torch models.
    max_side: working-resolution cap in pixels (longest side) for uploads."""

    offline: bool = bool(os.environ.get("CVLAB_OFFLINE"))
    device: str = "cpu"
    max_side: int = 1024


SETTINGS = Settings()


def configure(*, offline: bool | None = None, device: str | None = None,
              max_side: int | None = None) -> Settings:
    """Update the settings; ``device="auto"`` picks cuda, then mps, then cpu."""
    if offline is not None:
        SETTINGS.offline = offline
    if device is not None:
        SETTINGS.device = resolve_device(device)
    if max_side is not None:
        SETTINGS.max_side = int(max_side)
    return SETTINGS


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask: ``taskset``, a container's cpuset), which
    ``os.cpu_count()`` does not see. Thread pools sized by the machine's core count oversubscribe a
    pinned process: the NanoDet live path pinned to one core ran 9.7 fps with 2 onnxruntime threads
    against 13.2 fps with 1 (the second thread spins on the same core)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"
