"""Faults: interrupted downloads leave nothing behind; a model that fails to load is disabled with a
message while the others keep working."""
from __future__ import annotations

import http.server
import threading

import pytest

from core.config import SETTINGS
from core.models import DownloadFile, ModelSpec, ModelUnavailable, Registry


class _DroppingHandler(http.server.BaseHTTPRequestHandler):
    """Promises 1 MB, sends 1 KB, then hangs up (a connection lost mid-download)."""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", str(1 << 20))
        self.end_headers()
        self.wfile.write(b"\0" * 1024)
        self.wfile.flush()
        self.connection.close()

    def log_message(self, *args):
        pass


@pytest.fixture
def dropping_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DroppingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_interrupted_download_leaves_no_file(dropping_server, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(SETTINGS, "offline", False)
    f = DownloadFile(f"{dropping_server}/weights/model-abc123.pth")
    reg = Registry()
    reg.register(ModelSpec(name="net", task="toy", title="net", source="downloadable", files=(f,),
                           build=lambda paths, device: paths, licence="MIT"))
    with pytest.raises(ModelUnavailable) as err:
        reg.load("net")
    assert "model-abc123.pth" in str(err.value) and "prefetch net" in str(err.value)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers
    assert reg.status("net") == "downloadable"  # nothing half-written counts as cached


def test_corrupt_bundled_weights_disable_only_that_model(tmp_path):
    """A real loader (LiteRT) given a damaged .tflite: a message, and the next model still loads."""
    from core.segmentation.blazepose import build_tflite
    from core.models import package_file

    good = package_file("mediapipe", "modules/selfie_segmentation/selfie_segmentation.tflite")
    bad = tmp_path / "selfie_segmentation.tflite"
    bad.write_bytes(good.read_bytes()[:5000])

    class LocalFile:
        def __init__(self, path):
            self.path, self.filename = path, path.name

        def locate(self):
            return self.path

        def describe(self):
            return str(self.path)

    reg = Registry()
    for name, path in (("broken", bad), ("fine", good)):
        reg.register(ModelSpec(name=name, task="toy", title=name, source="bundled", files=(LocalFile(path),),
                               build=build_tflite, licence="Apache-2.0"))
    with pytest.raises(ModelUnavailable, match="failed to load"):
        reg.load("broken")
    assert reg.status("broken") == "unavailable" and "failed to load" in reg.status_reason("broken")
    assert reg.load("fine") is not None and reg.status("fine") == "loaded"


def test_a_model_whose_python_package_is_missing_says_which_package(tmp_path):
    """An image without a working torchvision (say) keeps serving; that model names what is missing."""
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"weights")

    class LocalFile:
        filename = "w.bin"

        def locate(self):
            return weights

        def describe(self):
            return str(weights)

    def build(paths, device):
        import cvlab_no_such_package  # noqa: F401 - the missing dependency

    reg = Registry()
    reg.register(ModelSpec(name="needs-pkg", task="toy", title="t", source="bundled", files=(LocalFile(),),
                           build=build, licence="MIT"))
    with pytest.raises(ModelUnavailable, match="needs the Python package 'cvlab_no_such_package'"):
        reg.load("needs-pkg")
    assert reg.status("needs-pkg") == "unavailable" and "not installed here" in reg.status_reason("needs-pkg")
