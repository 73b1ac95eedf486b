"""image.decode_peak_mb: peak memory of decoding a hostile-sized image, each in a fresh process.

Files: a 12000x9000 JPEG (108 MP, a few MB on the wire) and a 6000x6000 16-bit PNG (36 MP, a few hundred
kB). The baseline, in the same run, is the plain full decode (``PIL.Image.open(...).convert("RGB")`` then
numpy, what a naive reader does); ``core.image.decode_image`` reads the JPEG at 1/4 scale (draft) and
refuses the PNG from its header (over the 300 MB budget). Values: growth of the process's peak resident
memory over its value before the decode (VmHWM), MB.

    python bench/run_all.py decode
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from bench.paths import ROOT

_CHILD = r"""
import sys
def hwm_kb():  # this process's peak resident size (ru_maxrss would include the parent's, kept over exec)
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])
data = open(sys.argv[2], "rb").read()
import io, numpy as np
from PIL import Image
from core.image import ImageError, decode_image
Image.MAX_IMAGE_PIXELS = None
before = hwm_kb()
try:
    if sys.argv[1] == "naive":
        np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    else:
        decode_image(data)
except ImageError:
    pass
print((hwm_kb() - before) / 1024)
"""


def _peak_mb(mode: str, path: Path) -> float:
    out = subprocess.run([sys.executable, "-c", _CHILD, mode, str(path)], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run() -> list[dict]:
    import numpy as np
    from PIL import Image

    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        jpeg, png = Path(tmp) / "huge.jpg", Path(tmp) / "grey16.png"
        Image.new("RGB", (12000, 9000), (90, 120, 200)).save(jpeg, quality=50)
        Image.fromarray(np.zeros((6000, 6000), np.uint16)).save(png)
        for name, path, what in (("jpeg_108mp", jpeg, "read at 1/4 scale"),
                                 ("png16_36mp", png, "refused from its header")):
            base, new = _peak_mb("naive", path), _peak_mb("new", path)
            entries.append({"name": f"image.decode_peak_mb.{name}", "value": round(new, 1), "unit": "MB",
                            "baseline": round(base, 1), "ratio": round(base / max(new, 1.0), 1),
                            "notes": f"core.image {what}; baseline: PIL full decode + RGB numpy, same run"})
    return entries
