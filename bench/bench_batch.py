"""Batch throughput: ``cvlab segment semantic FOLDER --workers 1|2`` on 40 photos against a loop of 40
single-image ``cvlab segment`` calls (each a new process that loads its models), same photos, same run.

Every figure is whole-command wall time (start-up and model loading included), so the ratio shows what
loading the models once per worker buys."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageOps

from bench.paths import ROOT
PHOTOS = ("astronaut.png", "two_people.jpg", "chelsea.png", "coffee.png", "rocket.jpg")
N_IMAGES = 40


def make_folder(folder: Path, n: int = N_IMAGES) -> list[Path]:
    """``n`` distinct 640x480 JPEGs: the bundled photos, cropped, shifted and mirrored."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        img = Image.open(ROOT / "assets" / "photos" / PHOTOS[i % len(PHOTOS)]).convert("RGB")
        w, h = img.size
        k = i // len(PHOTOS)
        img = img.crop((k * w // 40, k * h // 40, w - (k % 3) * w // 40, h))
        if k % 2:
            img = ImageOps.mirror(img)
        path = folder / f"photo_{i:02d}.jpg"
        img.resize((640, 480)).save(path, quality=90)
        out.append(path)
    return out


def _cvlab(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "core", *args], cwd=cwd, check=True, capture_output=True, timeout=1800)


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photos = make_folder(tmp / "photos")
        t = time.perf_counter()
        for p in photos:
            _cvlab("segment", "semantic", str(p), "--out", str(tmp / "loop" / p.stem), cwd=tmp)
        loop_s = time.perf_counter() - t
        rates = {}
        for workers in (1, 2):
            t = time.perf_counter()
            _cvlab("segment", "semantic", str(tmp / "photos"), "--out", str(tmp / f"batch{workers}"),
                   "--workers", str(workers), cwd=tmp)
            rates[workers] = len(photos) / (time.perf_counter() - t)
    loop_rate = len(photos) / loop_s
    return [{
        "name": f"batch.images_per_s.workers{w}", "value": round(r, 2), "unit": "images/s",
        "baseline": round(loop_rate, 2), "ratio": round(r / loop_rate, 2),
        "notes": f"cvlab segment semantic on a folder of {len(photos)} 640x480 photos, --workers {w}, vs a loop "
                 f"of {len(photos)} single-image calls ({loop_s:.0f} s); whole-command wall time",
    } for w, r in rates.items()]


if __name__ == "__main__":
    for entry in run():
        print(entry)
