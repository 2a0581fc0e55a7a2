"""The layering the README's "Architecture" section states holds in the code: packages import
one way, nothing imports in a cycle (between packages, between audit's sub-packages, or
between modules), and no module grows past 400 lines.

Imports are read from the source (``ast``), lazy ones inside functions included: an import
that only runs later is still a dependency. ``from pkg import name`` counts as an import of
the module ``pkg.name`` when that module exists, else of ``pkg`` itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("results", "attacks", "models", "reports", "audit")
# Which top-level packages each one may import (besides itself).
ALLOWED = {
    "results": set(),
    "attacks": {"results"},
    "models": {"results"},
    "reports": {"results", "attacks"},
    "audit": {"results", "attacks", "models", "reports"},
}
MAX_LINES = 400


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of our packages (``pkg`` for ``__init__``)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that module ``name`` (at ``path``) imports."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {m for m in found if m in modules and m != name}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), i.e. import cycles."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def collapse(graph: dict[str, set[str]], unit) -> dict[str, set[str]]:
    """The graph between units (``unit(module) -> name``), self-edges dropped."""
    edges: dict[str, set[str]] = {}
    for source, targets in graph.items():
        edges.setdefault(unit(source), set()).update(unit(t) for t in targets if unit(t) != unit(source))
    return edges


def test_packages_import_only_the_layers_below_them(graph):
    wrong = sorted(
        f"{source} imports {target}"
        for source, targets in graph.items()
        for target in targets
        if target.split(".")[0] != source.split(".")[0]
        and target.split(".")[0] not in ALLOWED[source.split(".")[0]]
    )
    assert wrong == []


def test_no_import_cycle_between_packages(graph):
    assert cycles(collapse(graph, lambda m: m.split(".")[0])) == []


def test_no_import_cycle_between_the_sub_packages_of_audit(graph):
    inside = {m: {t for t in ts if t.startswith("audit.")} for m, ts in graph.items() if m.startswith("audit.")}
    assert cycles(collapse(inside, lambda m: ".".join(m.split(".")[:2]))) == []


def test_no_import_cycle_between_modules(graph):
    assert cycles(graph) == []


def test_the_cycle_finder_finds_cycles():
    """The three tests above would pass vacuously if cycles() never reported anything."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_reports_and_the_leaves_never_import_torch(graph):
    """``reports`` renders results and imports nothing that trains; ``results`` and
    ``attacks`` are pure (``models`` is torch by nature)."""
    heavy = []
    for name, path in module_files().items():
        if name.split(".")[0] in ("results", "attacks", "reports"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                heavy += [f"{name}: {n}" for n in names if n.split(".")[0] in ("torch", "opacus", "torchvision")]
    assert heavy == []


def test_no_module_is_longer_than_400_lines():
    long = {name: n for name, path in module_files().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}
