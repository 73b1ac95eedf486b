"""The app's flags for what one request may make the server read, decode and keep (README, Security:
Uploads and memory), and applying them at launch."""
from __future__ import annotations

import argparse

from core.faces.gallery import set_max_photos
from core.image import DEFAULT_MAX_DECODE_MB, set_decode_limits
from demos import session_files


def add_flags(p: argparse.ArgumentParser) -> None:
    """--max-decode-mb, --max-gallery-photos, --session-file-ttl."""
    p.add_argument("--max-decode-mb", type=float, default=DEFAULT_MAX_DECODE_MB,
                   help=f"memory one image decode may take, MB (default {DEFAULT_MAX_DECODE_MB}); a bigger "
                        "photo is read downscaled (JPEG) or refused")
    p.add_argument("--max-gallery-photos", type=int, default=5000,
                   help="photos one face gallery may hold (enrol, import, calibrate; default 5000)")
    p.add_argument("--session-file-ttl", type=float, default=session_files.DEFAULT_TTL_S,
                   help="seconds a visitor's export files stay on the server at most (they also go when the "
                        f"page closes; default {session_files.DEFAULT_TTL_S})")


def apply(args: argparse.Namespace) -> None:
    """Set the limits and start the sweeper of old session files (once, at launch)."""
    set_decode_limits(max_decode_mb=args.max_decode_mb)
    set_max_photos(args.max_gallery_photos)
    session_files.start_sweeper(args.session_file_ttl)
