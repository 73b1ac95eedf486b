"""Command line over the same functions the app uses: ``cvlab`` (or ``python -m core``), one
module per command group (models, segment, faces, style); results are JSON on stdout.

    cvlab models [--json]
    cvlab prefetch [NAMES...]
    cvlab segment {semantic,instance,panoptic} IMAGE [--model NAME] [--out DIR]
    cvlab faces {verify,identify,enrol} ...
    cvlab style CONTENT --style NAME_OR_FILE --mode fast|gatys ...
"""
from core.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
