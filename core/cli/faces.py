"""``python -m core faces ...``: verification, identification and gallery export from the shell.

    python -m core faces verify IMAGE_A IMAGE_B [--model sface] [--detector yunet] [--threshold T]
    python -m core faces identify IMAGE --gallery DIR|FILE.json [--mode nearest|mean] [--threshold T]
    python -m core faces enrol DIR --out gallery.json

``--gallery DIR`` holds one sub-folder of photos per person, named after the person
(underscores read as spaces); a ``.json`` file made by ``faces enrol`` or by the app's
Gallery export works too. Output is JSON on stdout.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers) -> None:
    faces = subparsers.add_parser("faces", help="face verification and identification")
    sub = faces.add_subparsers(dest="faces_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--model", default="sface", help="embedding model (sface, facenet-vggface2, facenet-casia)")
        p.add_argument("--detector", default="yunet", help="face detector (yunet, mtcnn)")

    p = sub.add_parser("verify", help="are the (largest) faces of two photos the same person?")
    p.add_argument("image_a")
    p.add_argument("image_b")
    common(p)
    p.add_argument("--threshold", type=float, default=None,
                   help="decision threshold in the model's own measure (default: the model's)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("identify", help="name every face of a photo from a gallery")
    p.add_argument("image")
    p.add_argument("--gallery", required=True, type=Path,
                   help="folder with one sub-folder of photos per person, or a gallery .json")
    common(p)
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--mode", choices=("nearest", "mean"), default="nearest",
                   help="match the nearest enrolled photo or each person's mean embedding")
    p.add_argument("--out", type=Path, default=None, help="a clip: folder for <name>.mp4 and <name>.json")
    from core.cli.video import add_video_arguments

    add_video_arguments(p)
    p.set_defaults(func=cmd_identify)

    p = sub.add_parser("enrol", help="build an embeddings-only gallery .json from a folder of people")
    p.add_argument("folder", type=Path)
    p.add_argument("--out", required=True, type=Path)
    common(p)
    p.add_argument("--threshold", type=float, default=None,
                   help="look-alike warning threshold in the model's own measure (default: the model's)")
    p.set_defaults(func=cmd_enrol)


def _rgb(path: str):
    from core.config import SETTINGS
    from core.image import limit_side, load_image

    return limit_side(load_image(path), SETTINGS.max_side)


def cmd_verify(args) -> dict[str, Any]:
    from core.faces import verify

    result, _, _ = verify(_rgb(args.image_a), _rgb(args.image_b), embedder=args.model,
                          detector=args.detector, threshold=args.threshold)
    return result.to_dict()


def _load_gallery(path: Path, model: str, detector: str):
    from core.faces import Gallery, embedder_meta, gallery_from_folder

    if path.is_file():
        meta = embedder_meta(model)
        return Gallery.from_json(path.read_bytes(), model=model, dim=int(meta["dim"])), []
    if not path.exists():
        raise FileNotFoundError(f"The gallery '{path}' does not exist.")
    return gallery_from_folder(path, embedder=model, detector=detector)


def cmd_identify(args) -> dict[str, Any]:
    from core.faces import recognize

    from core.cli.video import clip_summary, faces_clip, is_clip, video_options

    gallery, skipped = _load_gallery(args.gallery, args.model, args.detector)
    if is_clip(args.image):
        result = faces_clip(Path(args.image), args.out, gallery, video_options(args), embedder=args.model,
                            detector=args.detector, threshold=args.threshold, mode=args.mode)
        return clip_summary(result, args.out, Path(args.image).stem)
    rec = recognize(_rgb(args.image), gallery, embedder=args.model, detector=args.detector,
                    threshold=args.threshold, mode=args.mode)
    out = rec.to_dict()
    out["gallery"] = {"people": gallery.names, "photos": gallery.n_photos, "skipped": skipped}
    return out


def cmd_enrol(args) -> dict[str, Any]:
    """Enrol every photo as its folder says; a photo that looks like another enrolled person is enrolled
    too, and named in ``warnings`` (and on stderr): the folder may hold a mislabelled photo."""
    import sys

    from core.faces import enrol_folder

    built = enrol_folder(args.folder, embedder=args.model, detector=args.detector, threshold=args.threshold)
    for line in built.warnings:
        print(f"warning: {line}", file=sys.stderr)
    gallery = built.gallery
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(gallery.to_json(), encoding="utf-8")
    return {"out": str(args.out), "model": gallery.model, "people": {n: len(e) for n, e in gallery.people.items()},
            "skipped": built.skipped, "warnings": built.warnings}
