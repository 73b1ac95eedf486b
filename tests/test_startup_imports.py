"""Start-up stays light: building the whole UI and configuring `--device auto` import no torch.

Importing torch takes seconds (4 s of a 10 s start on a busy 2-core machine); each model imports it
on first use instead, so the page is served about as soon as a bare Gradio app's."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

CODE = """
import sys
from core.config import SETTINGS, configure
configure(offline=True, device="auto")
import app
app.build_app()
assert not app.FAILED_TABS, app.FAILED_TABS
heavy = sorted(m for m in ("torch", "torchvision", "segmentation_models_pytorch", "timm", "facenet_pytorch")
               if m in sys.modules)
print("heavy:", ",".join(heavy))
print("device:", SETTINGS.device)
print("after:", "torch" in sys.modules)
"""


def test_building_the_app_imports_no_torch_until_a_model_needs_it():
    out = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = dict(line.split(": ", 1) for line in out.stdout.strip().splitlines()[-3:])
    assert lines["heavy"] == ""
    # reading the device resolves "auto" (and only then imports torch)
    assert lines["device"] in ("cpu", "cuda", "mps") and lines["after"] == "True"
