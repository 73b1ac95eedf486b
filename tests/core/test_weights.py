"""core.weights: the torch hub folder without importing torch, and SHA-256-checked downloads."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.weights import DownloadFile, torch_hub_dir, verify_sha256

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, env: dict) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300, check=True)
    return out.stdout.strip()


@pytest.mark.parametrize("variables", [{"TORCH_HOME": "{tmp}/th"}, {"XDG_CACHE_HOME": "{tmp}/xdg"}, {}])
def test_torch_hub_dir_is_torchs_own_answer_without_importing_torch(tmp_path, variables):
    env = {k: v for k, v in os.environ.items() if k not in ("TORCH_HOME", "XDG_CACHE_HOME")}
    env.update({k: v.format(tmp=tmp_path) for k, v in variables.items()})
    ours = _run("import sys; from core.weights import torch_hub_dir; "
                "print(torch_hub_dir(), 'torch' in sys.modules)", env)
    theirs = _run("import torch.hub; print(torch.hub.get_dir())", env)
    assert ours == f"{theirs} False"


def test_torch_hub_dir_follows_torch_hub_set_dir_once_torch_is_imported(tmp_path, monkeypatch):
    import torch.hub

    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "elsewhere"))
    assert torch_hub_dir() == tmp_path / "elsewhere"


def _served_file(tmp_path: Path, data: bytes) -> tuple[str, str]:
    src = tmp_path / "served" / "weights.pt"
    src.parent.mkdir()
    src.write_bytes(data)
    return src.as_uri(), hashlib.sha256(data).hexdigest()


def test_download_with_the_right_sha256_lands_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delitem(sys.modules, "torch.hub", raising=False)
    url, digest = _served_file(tmp_path, b"real weights" * 1000)
    path = DownloadFile(url, sha256=digest).fetch(progress=False)
    assert path == tmp_path / "torch" / "hub" / "checkpoints" / "weights.pt"
    assert path.read_bytes() == b"real weights" * 1000


def test_download_with_another_sha256_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delitem(sys.modules, "torch.hub", raising=False)
    url, digest = _served_file(tmp_path, b"tampered weights")
    wrong = hashlib.sha256(b"the published weights").hexdigest()
    with pytest.raises(OSError, match="checksum mismatch for weights.pt"):
        DownloadFile(url, sha256=wrong).fetch(progress=False)
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_verify_sha256_takes_a_full_digest_or_a_prefix():
    digest = hashlib.sha256(b"x").hexdigest()
    verify_sha256(digest, digest, "x")
    verify_sha256(digest, digest[:8].upper(), "x")
    verify_sha256(digest, "", "x")
    with pytest.raises(OSError):
        verify_sha256(digest, "0" * 64, "x")
