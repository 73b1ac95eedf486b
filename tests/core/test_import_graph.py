"""No import cycles anywhere under core/ (module- and function-level imports both count).

Every ``import core.x`` / ``from core.x import y`` in every module under ``core/`` is an edge; a
``from package import name`` where ``name`` is a submodule is an edge to that submodule, otherwise
to the package's ``__init__``. A package's implicit import of its parents is not an edge (that is
how Python packages work, and ``__init__`` files only import downwards).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def core_modules() -> dict[str, Path]:
    return {module_name(p): p for p in (ROOT / "core").rglob("*.py")}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Core modules that the file at ``path`` imports, anywhere in its body."""
    out: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:
                    out.add(sub)
                elif base in known:
                    out.add(base)
    return out


def import_graph() -> dict[str, set[str]]:
    mods = core_modules()
    return {m: imports_of(p, set(mods)) - {m} for m, p in mods.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of module names (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state and (c := visit(n)):
                return c
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (c := visit(m)):
            return c
    return None


def test_the_graph_sees_the_imports():
    graph = import_graph()
    assert "core.models" in graph["core.segmentation.catalog.people"]
    assert "core.segmentation.semantic" in graph["core.segmentation"]  # the dispatcher's import


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_under_core():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_core_never_imports_gradio():
    for name, path in core_modules().items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(m.split(".")[0] == "gradio" for m in mods), f"{name} imports gradio"


# ----------------------------------------------------------------------------------- house rules
# The project's own Python: the app, the inference layer, the tabs, the benchmarks and the tests.
PROJECT_DIRS = ("core", "demos", "bench", "tests")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60
DECLARATIVE_TABLES = {"specs"}
"""Functions that are data, not logic (a registry's list of model specs): exempt from the length rule."""


def project_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for folder in PROJECT_DIRS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


PROJECT_PACKAGES = {"app", "core", "demos", "bench", "tests"}


def is_project_module(name: str, level: int = 0) -> bool:
    return level > 0 or name.split(".")[0] in PROJECT_PACKAGES


def private_reaches(path: Path) -> list[str]:
    """Places where ``path`` uses another project module's private name: ``from m import _x``
    (relative imports included) or ``alias._x`` where ``alias`` is a project module the file imported.
    (The standard library's and other packages' underscores are theirs to keep.)"""
    tree = ast.parse(path.read_text())
    found: list[str] = []
    module_aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and is_project_module(node.module or "", node.level):
            found += [f"{path.name}:{node.lineno} from {'.' * node.level}{node.module or ''} import {a.name}"
                      for a in node.names if is_private(a.name)]
            module_aliases.update(a.asname or a.name for a in node.names if not is_private(a.name))
        elif isinstance(node, ast.Import):
            module_aliases.update(a.asname or a.name.split(".")[0] for a in node.names if is_project_module(a.name))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and is_private(node.attr) and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases and node.value.id not in {"self", "cls"}):
            found.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def test_private_reach_finder_sees_both_forms(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from core.image import _check\nfrom . import _x\nimport demos.live as live\n"
                      "live._register()\nfrom core import render\nrender.draw()\nimport os\nos._exit(0)\n")
    assert len(private_reaches(sample)) == 3  # os._exit is the standard library's own business


def test_no_module_reaches_into_another_modules_private_names():
    offenders = [hit for p in project_files() for hit in private_reaches(p)]
    assert not offenders, "private names used across modules:\n" + "\n".join(offenders)


def test_no_module_over_600_lines():
    too_long = {str(p.relative_to(ROOT)): n for p in project_files()
                if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines: {too_long}"


def test_no_function_over_60_lines():
    too_long = []
    for p in project_files():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name not in DECLARATIVE_TABLES:
                if (n := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES:
                    too_long.append(f"{p.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(too_long)
