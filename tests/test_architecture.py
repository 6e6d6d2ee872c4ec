"""The package's shape: no import cycles, and an engine that imports no writer, reader or store.

The import graph is read with ``ast`` from every module of xlplan/, imports inside functions
included and relative imports resolved, so a lazy import cannot hide a cycle or a layer
breach. The checks are tested on small fake graphs first, so each can fail.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "xlplan"
ENGINE = "xlplan.engine"
NOT_FROM_ENGINE = ("xlplan.workbook", "xlplan.consolidate", "xlplan.tracking", "xlplan.cli",
                   "xlplan.commands", "duckdb", "openpyxl", "xlsxwriter")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path, module: str) -> set[str]:
    """Every name ``path`` imports, anywhere in it: ``a.b`` for ``import a.b``, ``a`` and
    ``a.x`` for ``from a import x`` (x may be a module), relative imports made absolute."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[:len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module → xlplan modules it imports, module → every name it imports)."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    raw = {m: imported_names(p, m) for m, p in files.items()}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for m, names in raw.items():
        for name in names:
            while name and name not in files:  # xlplan.a.b.func → the module xlplan.a.b
                name = name.rsplit(".", 1)[0] if "." in name else ""
            if name and name != m:
                graph[m].add(name)
    return graph, raw


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path: list[str] = [start]
        todo: list[list[str]] = [sorted(graph.get(start, ()))]
        state[start] = 1
        while path:
            if not todo[-1]:
                state[path.pop()] = 2
                todo.pop()
                continue
            nxt = todo[-1].pop()
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                todo.append(sorted(graph.get(nxt, ())))
    return None


def engine_breaches(raw: Mapping[str, set[str]]) -> list[str]:
    """``module -> name`` for each import of a forbidden name by an engine module."""
    return sorted(f"{m} -> {name}" for m, names in raw.items()
                  if m == ENGINE or m.startswith(ENGINE + ".")
                  for name in names
                  if any(name == bad or name.startswith(bad + ".") for bad in NOT_FROM_ENGINE))


# --------------------------------------------------------------------------- the checks, tested


def test_cycle_finder_finds_a_cycle_and_passes_a_tree() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None  # a diamond is fine
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_import_reader_resolves_relative_and_function_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "xlplan" / "engine"
    pkg.mkdir(parents=True)
    f = pkg / "fake.py"
    f.write_text("from . import rounding\nfrom ..workbook.book import Book\n"
                 "def later():\n    import openpyxl\n", encoding="utf-8")
    names = imported_names(f, "xlplan.engine.fake")
    assert {"xlplan.engine.rounding", "xlplan.workbook.book", "openpyxl"} <= names
    assert engine_breaches({"xlplan.engine.fake": names}) == [
        "xlplan.engine.fake -> openpyxl", "xlplan.engine.fake -> xlplan.workbook.book",
        "xlplan.engine.fake -> xlplan.workbook.book.Book"]


# --------------------------------------------------------------------------- the package


def test_no_import_cycles() -> None:
    graph, _ = import_graph()
    assert len(graph) > 50  # the walk found the package
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_engine_imports_no_writer_reader_or_store() -> None:
    _, raw = import_graph()
    assert any(m.startswith(ENGINE + ".") for m in raw)
    breaches = engine_breaches(raw)
    assert not breaches, "the engine imports: " + ", ".join(breaches)
