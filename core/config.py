"""Process-wide settings, set once by app.py or the CLI before any model loads."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass
class Settings:
    """offline: never try a download. device: torch device for torch models ("auto" is resolved on
    first read, so that start-up does not import torch, which takes seconds).
    max_side: working-resolution cap in pixels (longest side) for uploads."""

    offline: bool = bool(os.environ.get("CVLAB_OFFLINE"))
    requested_device: str = "cpu"
    max_side: int = 1024
    resolved_device: str | None = field(default=None, repr=False)

    @property
    def device(self) -> str:
        """The torch device: the requested one, with "auto" resolved (once) by :func:`resolve_device`."""
        if self.resolved_device is None:
            self.resolved_device = resolve_device(self.requested_device)
        return self.resolved_device

    @device.setter
    def device(self, value: str) -> None:
        self.requested_device, self.resolved_device = value, None


SETTINGS = Settings()


def configure(*, offline: bool | None = None, device: str | None = None,
              max_side: int | None = None) -> Settings:
    """Update the settings; ``device="auto"`` picks cuda, then mps, then cpu."""
    if offline is not None:
        SETTINGS.offline = offline
    if device is not None:
        SETTINGS.device = device
    if max_side is not None:
        SETTINGS.max_side = int(max_side)
    return SETTINGS


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask: ``taskset``, a container's cpuset), which
    ``os.cpu_count()`` does not see. Thread pools sized by the machine's core count oversubscribe a
    pinned process: a second thread on the same core only spins (docs/decisions.md)."""
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
