"""Run every benchmark under bench/ and write bench/results.json.

Each ``bench/bench_*.py`` exposes ``run() -> list[dict]`` whose entries are
``{"name", "value", "unit", "baseline", "ratio", "notes"}``; the baseline is
measured in the same run, so ratios stay meaningful on a busy shared machine.

    python -m bench [NAME_SUBSTRING ...]   # e.g. `python -m bench faces` (`make bench ARGS=faces`)

A new benchmark is a new ``bench/bench_<x>.py`` with ``run()``; it is found by its name. Inside the
package, import shared paths from :mod:`bench.paths` (``ROOT``, ``ASSETS``) and helpers as
``from bench.timing import ...``: never change ``sys.path``.
"""
from __future__ import annotations

import importlib
import json
import sys
import time
import traceback

from bench.paths import ROOT

HERE = ROOT / "bench"
RESULTS = HERE / "results.json"
KEYS = ("name", "value", "unit", "baseline", "ratio", "notes")


def main(argv: list[str]) -> int:
    wanted = argv[1:]
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if wanted:
        modules = [m for m in modules if any(w in m for w in wanted)]
    previous = {r["name"]: r for r in json.loads(RESULTS.read_text())} if RESULTS.exists() else {}
    failed = []
    for name in modules:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        try:
            entries = importlib.import_module(f"bench.{name}").run()
        except Exception:  # noqa: BLE001 - one broken bench must not hide the others
            traceback.print_exc()
            failed.append(name)
            continue
        for e in entries:
            missing = [k for k in KEYS if k not in e]
            if missing:
                raise ValueError(f"{name}: entry {e.get('name')} lacks {missing}")
            previous[e["name"]] = {k: e[k] for k in KEYS}
            print(f"  {e['name']}: {e['value']} {e['unit']} (baseline {e['baseline']}, ratio {e['ratio']}) "
                  f"{e['notes']}", flush=True)
        print(f"  [{time.perf_counter() - start:.0f} s]")
    RESULTS.write_text(json.dumps(sorted(previous.values(), key=lambda r: r["name"]), indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
