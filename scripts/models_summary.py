"""Summarise the /models API answer (Gradio's server-sent events on stdin) in one line.

    curl .../gradio_api/call/models/EVENT_ID | python3 scripts/models_summary.py
prints e.g. ``24 models: ready 14 (yunet, sface, ...), downloadable 10 (...)``; exits 1 when the
answer is not a completed model table. Standard library only (runs on the host, outside the venv).
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict


def summarise(sse: str) -> str:
    """One line: the number of models, then each status with its count and model names."""
    lines = sse.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "event: complete" and i + 1 < len(lines) and lines[i + 1].startswith("data:"):
            table = json.loads(lines[i + 1][len("data:"):])[0]
            break
    else:
        raise ValueError(f"no completed answer in: {sse[:300]!r}")
    col = {h: k for k, h in enumerate(table["headers"])}
    by_status: dict[str, list[str]] = defaultdict(list)
    for row in table["data"]:
        by_status[row[col["status"]]].append(row[col["name"]])
    parts = [f"{s} {len(n)} ({', '.join(n)})" for s, n in sorted(by_status.items())]
    return f"{len(table['data'])} models: " + "; ".join(parts)


if __name__ == "__main__":
    try:
        print(summarise(sys.stdin.read()))
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        print(f"models_summary: {exc}", file=sys.stderr)
        sys.exit(1)
