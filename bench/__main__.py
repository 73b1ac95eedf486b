"""``python -m bench [NAME_SUBSTRING ...]``: run every benchmark and update bench/results.json
(see bench/run_all.py); e.g. ``python -m bench faces`` runs bench_faces only."""
import sys

from bench.run_all import main

sys.exit(main(sys.argv))
