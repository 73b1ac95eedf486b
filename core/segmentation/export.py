"""Writing segmentation results to files other tools can read.

* :func:`write_semantic` (any :class:`Segmentation`): a label-index PNG, whose pixel values are
  class ids (8-bit palette PNG, the Pascal VOC format, when ids fit in a byte; 16-bit greyscale
  otherwise) plus a JSON file with the label list, the palette and each class's area.
* :func:`write_result` picks the writer registered for ``seg.task`` in :data:`WRITERS` (the
  instance and panoptic tasks add theirs), falling back to :func:`write_semantic`.

Pixels that no segment covers get the value :data:`IGNORE_8BIT` (255, VOC's "void") or
:data:`IGNORE_16BIT`; a semantic result covers every pixel.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from core.types import Segmentation

IGNORE_8BIT = 255
IGNORE_16BIT = 65535


def label_image(seg: Segmentation) -> tuple[Image.Image, int]:
    """The label map of ``seg`` as a PIL image and the value used for uncovered pixels.

    Up to 255 classes: mode "P" (uint8 class ids + a palette of the app's class colours, so
    any viewer shows the colours and any reader gets the ids). More: mode "I;16" (uint16 ids).
    """
    from core.render import class_color

    n = len(seg.labels)
    covered = seg.masks.any(axis=0) if len(seg) else np.zeros(seg.image_size, bool)
    if n <= IGNORE_8BIT:
        ignore = IGNORE_8BIT
        ids = seg.label_map(fill=0).astype(np.uint8)
        ids[~covered] = ignore
        img = Image.fromarray(ids)  # mode "L"; putpalette turns it into "P"
        palette = np.zeros((256, 3), np.uint8)
        for cid, label in enumerate(seg.labels):
            palette[cid] = class_color(cid, label)
        palette[ignore] = (255, 255, 255)
        img.putpalette(palette.reshape(-1).tolist())
        return img, ignore
    ignore = IGNORE_16BIT
    ids16 = seg.label_map(fill=0).astype(np.uint16)
    ids16[~covered] = ignore
    return Image.fromarray(ids16), ignore


def semantic_json(seg: Segmentation, *, label_png: str | None = None, ignore: int | None = None) -> dict:
    """JSON-ready description: labels, palette (hex by class id), per-class areas, timings."""
    from core.render import class_color, to_hex

    h, w = seg.image_size
    areas = seg.areas
    segments = []
    for i, row in enumerate(seg.summary()):
        row = dict(row)
        row["area_px"] = int(areas[i])
        row["color"] = to_hex(class_color(int(seg.class_ids[i]), seg.labels[seg.class_ids[i]]))
        segments.append(row)
    out = {
        "task": seg.task,
        "model": seg.model,
        "image_size": [h, w],
        "labels": list(seg.labels),
        "palette": {str(c): to_hex(class_color(c, lab)) for c, lab in enumerate(seg.labels)},
        "segments": segments,
        "timings_ms": seg.timings_ms.rounded(),
    }
    if label_png is not None:
        out["label_png"] = label_png
        out["ignore_index"] = ignore
    return out


def write_semantic(seg: Segmentation, rgb: np.ndarray | None, out_dir: str | Path,
                   stem: str | None = None) -> list[Path]:
    """Write ``<stem>_labels.png`` and ``<stem>_labels.json`` into ``out_dir``; return both paths.

    ``stem`` defaults to the task name. ``rgb`` (the image the result belongs to) is only checked
    for size; the CLI writes the overlay itself.
    """
    if rgb is not None and tuple(np.asarray(rgb).shape[:2]) != seg.image_size:
        raise ValueError(f"image is {np.asarray(rgb).shape[:2]} but the result is {seg.image_size}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = stem or seg.task
    png = out_dir / f"{stem}_labels.png"
    js = out_dir / f"{stem}_labels.json"
    img, ignore = label_image(seg)
    img.save(png)
    js.write_text(json.dumps(semantic_json(seg, label_png=png.name, ignore=ignore), indent=2))
    return [png, js]


def read_label_png(path: str | Path) -> np.ndarray:
    """(H, W) int32 class ids from a label PNG written by :func:`write_semantic`."""
    with Image.open(path) as img:
        return np.asarray(img).astype(np.int32)


def write_panoptic(seg: Segmentation, rgb: np.ndarray | None, out_dir: str | Path) -> list[Path]:
    """COCO panoptic PNG + segments_info JSON (see ``core.segmentation.panoptic.write_panoptic``)."""
    from core.segmentation.panoptic import write_panoptic as write

    return write(seg, Path(out_dir), seg.task)


def write_instance(seg: Segmentation, rgb: np.ndarray | None, out_dir: str | Path) -> list[Path]:
    """COCO-style instance JSON with RLE masks and keypoints (see ``core.segmentation.coco``)."""
    from core.segmentation.coco import write_coco

    return [write_coco(seg, Path(out_dir) / f"{seg.model}_instances_coco.json")]


Writer = Callable[[Segmentation, "np.ndarray | None", Path], list[Path]]
WRITERS: dict[str, Writer] = {"semantic": write_semantic, "panoptic": write_panoptic, "instance": write_instance}
"""Task -> writer; other tasks register theirs here (``WRITERS["panoptic"] = ...``)."""


def write_result(seg: Segmentation, rgb: np.ndarray | None, out_dir: str | Path) -> list[Path]:
    """Write the files for ``seg`` with the writer of its task (label PNG + JSON by default)."""
    return WRITERS.get(seg.task, write_semantic)(seg, rgb, Path(out_dir))
