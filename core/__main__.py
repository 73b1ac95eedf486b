"""``python -m core``: the command-line interface (see core/cli/); installed as the ``cvlab`` command."""
import sys

from core.cli import main

sys.exit(main())
