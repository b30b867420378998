"""No import cycle between the modules of qa, embeddings and ui (read from the source, not imported)."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGES = ("qa", "embeddings", "ui")


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the packages by dotted name (a package's ``__init__`` by the package's name)."""
    out = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether an import sits under ``if TYPE_CHECKING:`` (never run, so it cannot close a cycle)."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules one module imports, at top level and inside functions alike.

    Function-level imports count: they run on the first call, and a cycle hidden in a function
    is still two modules that each need the other.

    Args:
        name: the module's dotted name.
        path: its file.
        known: every project module's dotted name.

    Returns:
        The dotted names of the project modules it imports (itself left out).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from qa import store` imports the module qa.store; `from qa.store import connect` imports qa.store.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        if _type_checking_only(node, parents):
            continue
        for target in targets:
            # `import qa.index.x` needs qa.index: take the longest project module the name starts with.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Each project module with the project modules it imports."""
    files = module_files(root)
    return {name: imported_modules(name, path, set(files)) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, …, a], or None when the graph has none (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_top_level_relative_and_function_level_imports():
    graph = import_graph()
    assert {"qa.store", "qa.index", "qa.api", "ui.chat", "embeddings.models"} <= set(graph)
    assert "qa.store" in graph["qa.index"]  # from qa import store
    assert "qa.upload" in graph["ui.chat"] and "qa.upload" in graph["qa.api"]
    assert "ui.chat" in graph["qa.api"]  # imported inside create_app
    assert "qa.api" not in graph["ui.chat"]  # the chat takes its upload checks from qa.upload


def test_a_cycle_is_found():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_a_function_level_import_back_is_a_cycle(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "qa" / "one.py").write_text("from qa.two import f\n")
    (tmp_path / "qa" / "two.py").write_text("def f():\n    from . import one\n    return one\n")
    assert find_cycle(import_graph(tmp_path)) == ["qa.one", "qa.two", "qa.one"]


def private_imports(root: Path = ROOT) -> list[str]:
    """``module: from other import _name`` for each private name a module takes from another project module."""
    files = module_files(root)
    out = []
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
                out += [f"{name}: from {node.module} import {a.name}" for a in node.names
                        if a.name.startswith("_") and f"{node.module}.{a.name}" not in files]
    return out


def test_no_module_imports_another_modules_private_names():
    assert private_imports() == []


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
