"""``cvlab models`` (the registry with live status) and ``cvlab prefetch`` (download weights)."""
from __future__ import annotations

from typing import Any


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("models", help="list every model with its status")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_models)

    p = subparsers.add_parser("prefetch", help="download downloadable weights (all, or the named ones)")
    p.add_argument("names", nargs="*")
    p.set_defaults(func=cmd_prefetch)


def cmd_models(args) -> Any:
    from core.models import registry

    rows = registry().report()
    if args.json:
        return rows
    widths = (24, 14, 13, 13, 9)
    lines = ["%-24s %-14s %-13s %-13s %9s  %s" % ("name", "task", "source", "status", "size_mb", "licence")]
    for r in rows:
        lines.append("%-24s %-14s %-13s %-13s %9.1f  %s" % (
            r["name"][: widths[0]], r["task"][: widths[1]], r["source"], r["status"], r["size_mb"], r["licence"]))
    print("\n".join(lines))
    return None


def cmd_prefetch(args) -> Any:
    from core.models import registry

    reg = registry()
    names = args.names or [s.name for s in reg.specs() if s.source == "downloadable"]
    done = []
    for name in names:
        paths = reg.fetch(name, progress=True)
        done.append({"name": name, "status": reg.status(name), "files": [str(p) for p in paths]})
    return done
