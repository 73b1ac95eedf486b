"""Write RGB frames as a YUV4MPEG2 (.y4m) file, the format Chromium's fake webcam plays."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
from PIL import Image


def write_y4m(frames_rgb: Iterable[np.ndarray], path: str | Path, fps: int = 10) -> Path:
    """Frames: RGB uint8 (H, W, 3), all the same even size. 4:2:0 chroma, JPEG range."""
    path = Path(path)
    frames = list(frames_rgb)
    h, w = frames[0].shape[:2]
    if h % 2 or w % 2:
        raise ValueError("y4m frames need even width and height")
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:
            y, u, v = Image.fromarray(rgb).convert("YCbCr").split()
            half = (w // 2, h // 2)
            f.write(b"FRAME\n")
            f.write(y.tobytes())
            f.write(u.resize(half, Image.Resampling.BILINEAR).tobytes())
            f.write(v.resize(half, Image.Resampling.BILINEAR).tobytes())
    return path


def photo_to_frame(path: str | Path, width: int = 640, height: int = 480) -> np.ndarray:
    """A photo letterboxed onto a width x height grey frame (aspect kept)."""
    img = Image.open(path).convert("RGB")
    img.thumbnail((width, height))
    frame = Image.new("RGB", (width, height), (40, 40, 40))
    frame.paste(img, ((width - img.width) // 2, (height - img.height) // 2))
    return np.asarray(frame)
