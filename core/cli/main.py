"""The ``cvlab`` entry point: global flags, one sub-command group per module, JSON on stdout,
one-line errors on stderr (exit code 2 for bad input, 1 for bugs, 130 when interrupted)."""
from __future__ import annotations

import argparse
import json
import sys

from core.cli import faces, models, segment, style
from core.config import configure

COMMAND_GROUPS = (models, segment, faces, style)
"""Modules that add sub-commands with ``add_parser(subparsers)``; their ``func`` returns JSON-able data."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cvlab", description="CV Lab command line (also: python -m core).")
    parser.add_argument("--offline", action="store_true", help="never try to download weights")
    parser.add_argument("--device", default="cpu", help="auto|cpu|cuda|mps (default cpu)")
    parser.add_argument("--max-side", type=int, default=None,
                        help="downscale images so the longest side is at most this (pixels)")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from core.image import ImageError, VideoGivenError
    from core.models import ModelError

    parser = build_parser()
    args = parser.parse_args(argv)
    configure(offline=args.offline or None, device=args.device,
              max_side=args.max_side if args.max_side is not None else None)
    try:
        result = args.func(args)
    except VideoGivenError as exc:
        print(f"error: {exc} This command reads photos; clips go to cvlab segment, cvlab style or "
              "cvlab faces identify, with --out DIR.",
              file=sys.stderr)
        return 2
    except (ImageError, ModelError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    if result is not None:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0
