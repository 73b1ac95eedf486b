"""A gallery from a folder of people (ROOT/<person>/<photos>), for the command line: each photo enrolled
under its folder's name, with the enrolment rule (``core.faces.enrolment``) applied: the same photo twice
is filed once, and a photo that looks like someone else already enrolled is filed as the folder says but
named in the warnings (the folder may hold a mislabelled photo)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from core.faces.enrolment import check_enrol
from core.faces.gallery import Gallery, GalleryError
from core.faces.pipeline import DEFAULT_DETECTOR, DEFAULT_EMBEDDER, FaceError, embedder_meta, enrol_photo
from core.image import IMAGE_SUFFIXES, ImageError, load_image


def person_name_from_folder(folder: str) -> str:
    """'Grace_Hopper' -> 'Grace Hopper' (underscores in folder names stand for spaces)."""
    return " ".join(re.sub(r"_+", " ", folder).split())


@dataclass
class FolderGallery:
    """The gallery built from a folder; ``skipped``: files not enrolled, with the reason; ``warnings``:
    photos enrolled that the enrolment rule flags (look-alikes of another person, duplicates)."""

    gallery: Gallery
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _person_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        raise FaceError(f"The gallery folder '{root}' does not exist.")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise FaceError(f"'{root}' has no sub-folders; put each person's photos in a folder named after them.")
    return folders


def enrol_folder(root: str | Path, *, embedder: str = DEFAULT_EMBEDDER, detector: str = DEFAULT_DETECTOR,
                 threshold: float | None = None) -> FolderGallery:
    """Build a gallery from ROOT/<person>/<photos> (``threshold`` in the model's measure, default the
    model's own, decides what counts as a look-alike)."""
    meta = embedder_meta(embedder)
    thr = float(meta["threshold"] if threshold is None else threshold)
    out = FolderGallery(Gallery.empty(embedder, int(meta["dim"])))
    for folder in _person_folders(Path(root)):
        name = person_name_from_folder(folder.name)
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            label = f"{folder.name}/{path.name}"
            try:
                new, faces, idx = enrol_photo(out.gallery, name, load_image(path), source=path.name,
                                              embedder=embedder, detector=detector)
            except (ImageError, FaceError, GalleryError) as exc:
                out.skipped.append(f"{label}: {exc}")
                continue
            check = check_enrol(out.gallery, faces.embeddings[idx], name, threshold=thr, metric=meta["metric"])
            if check.kind == "duplicate":
                out.skipped.append(check.describe(label, name))
                continue
            if check.kind == "lookalike":
                out.warnings.append(check.describe(label, name) + " Enrolled as the folder says; check the photo.")
            out.gallery = new
    if not len(out.gallery):
        raise FaceError(f"No usable face photo found under '{root}'.")
    return out


def gallery_from_folder(root: str | Path, *, embedder: str = DEFAULT_EMBEDDER,
                        detector: str = DEFAULT_DETECTOR) -> tuple[Gallery, list[str]]:
    """(gallery, skipped files with the reason) of ``enrol_folder``."""
    built = enrol_folder(root, embedder=embedder, detector=detector)
    return built.gallery, built.skipped
