"""The layout stays a graph without cycles: no package of evalkit imports, directly or
through others, a package that imports it (lazy imports inside functions count too)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import evalkit

ROOT = Path(evalkit.__file__).parent


def _part_of(path: Path) -> str:
    """The top-level package or module of evalkit a file belongs to."""
    return path.relative_to(ROOT).with_suffix("").parts[0]


def _imported(tree: ast.AST) -> set[str]:
    """The top-level parts of evalkit a module imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
            if node.module == "evalkit":
                names = [f"evalkit.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("evalkit.")}
    return found - {"__version__"}


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for file in ROOT.rglob("*.py"):
        part = _part_of(file)
        graph[part] |= _imported(ast.parse(file.read_text(encoding="utf-8"))) - {part}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = []
            while True:
                member = stack.pop()
                part.append(member)
                if member == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_package_imports_one_that_imports_it():
    assert cycles(import_graph()) == []
