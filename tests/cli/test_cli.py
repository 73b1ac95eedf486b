"""CLI smoke tests: JSON on stdout, one-line errors with a non-zero exit code."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_models_json_lists_bundled_models_ready():
    out = cli("--offline", "models", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    for r in rows:
        assert {"name", "task", "source", "status", "size_mb", "licence"} <= set(r)
    bundled = [r for r in rows if r["source"] == "bundled"]
    assert bundled and all(r["status"] == "ready" for r in bundled)
    offline_downloadable = [r for r in rows if r["source"] == "downloadable" and r["status"] != "cached"]
    assert all(r["status"] == "unavailable" for r in offline_downloadable)


def test_models_table():
    out = cli("models")
    assert out.returncode == 0 and "name" in out.stdout.splitlines()[0]


def test_bad_file_is_one_line_error(tmp_path):
    bad = tmp_path / "photo.jpg"
    bad.write_text("not a photo")
    out = cli("segment", "semantic", str(bad))
    assert out.returncode == 2
    assert out.stdout == "" and len(out.stderr.strip().splitlines()) == 1
    assert out.stderr.startswith("error:") and "not an image" in out.stderr


def test_unknown_model_is_one_line_error(photos):
    out = cli("segment", "semantic", str(photos / "coffee.png"), "--model", "no-such-model")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "Known models" in out.stderr


def test_prefetch_offline_names_the_file():
    rows = json.loads(cli("--offline", "models", "--json").stdout)
    missing = [r["name"] for r in rows if r["source"] == "downloadable" and r["status"] == "unavailable"]
    if not missing:
        return
    out = cli("--offline", "prefetch", missing[0])
    assert out.returncode == 2 and "offline" in out.stderr.lower() and "prefetch" in out.stderr


def test_cvlab_command_runs_from_any_folder(tmp_path):
    """`pip install -e .` (make setup) puts a `cvlab` console command next to the venv's python; it and
    `python -m core` work outside the repository."""
    import shutil
    import subprocess
    import sys

    cvlab = Path(sys.executable).with_name("cvlab")
    assert cvlab.exists() or shutil.which("cvlab"), "the cvlab command is not installed (make setup)"
    for cmd in ([str(cvlab), "models", "--json"], [sys.executable, "-m", "core", "models", "--json"]):
        out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        names = {row["name"] for row in json.loads(out.stdout)}
        assert "blazepose-multi" in names and "sface" in names
