"""bench/ is a package run as `python -m bench`: no file changes sys.path or computes the root itself,
and every bench_*.py exposes run() for bench/run_all.py."""
from __future__ import annotations

import ast
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _trees() -> dict[str, ast.Module]:
    return {p.name: ast.parse(p.read_text()) for p in sorted(BENCH.glob("*.py"))}


def test_no_bench_file_changes_sys_path():
    offenders = []
    for name, tree in _trees().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", "") == "sys":
                offenders.append(name)
    assert offenders == [], f"use `python -m bench...` and bench.paths instead of sys.path in {offenders}"


def test_the_root_is_computed_once_in_bench_paths():
    computed = [name for name, tree in _trees().items()
                for node in ast.walk(tree)
                if isinstance(node, ast.Attribute) and node.attr == "parent"
                and isinstance(node.value, ast.Call) and getattr(node.value.func, "attr", "") == "resolve"]
    assert computed == ["paths.py"]


def test_every_benchmark_module_has_run():
    for name, tree in _trees().items():
        if name.startswith("bench_"):
            assert any(isinstance(n, ast.FunctionDef) and n.name == "run" for n in tree.body), name
