"""The import graph of tasks_core, workers and beat: no cycles, not even through imports
inside functions; the SDK never imports the CLI or the processes (ARCHITECTURE.md, Layout).

Imports under `if TYPE_CHECKING:` are not imports at run time and are left out. An import
of `pkg.mod` counts as an edge to that module only (not to the packages above it).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("tasks_core", "workers", "beat")
PROCESS_COMMANDS = {"tasks_core.cli.processes"}  # `worker`, `beat`, `up` start processes


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _imports(name: str, path: Path) -> set[str]:
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit_one(other)
            else:
                visit_one(child)

    def visit_one(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package
                for _ in range(node.level - 1):
                    up = up.rpartition(".")[0]
                base = f"{up}.{base}" if base else up
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
        visit(node)

    visit(ast.parse(path.read_text()))
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in GRAPH:
        if root in index:
            continue
        work = [(root, iter(sorted(GRAPH[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(GRAPH[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_the_graph_sees_function_level_imports() -> None:
    assert "tasks_core.engine.deployed_run" in GRAPH["workers.execute"]
    assert len(GRAPH) > 50


def test_no_import_cycles() -> None:
    assert _cycles() == []


def test_the_sdk_imports_neither_the_cli_nor_the_processes() -> None:
    for name, imported in GRAPH.items():
        if not name.startswith("tasks_core.") or name.startswith(("tasks_core.cli",
                                                                   "tasks_core.demo")):
            continue
        wrong = {m for m in imported if m.startswith(("tasks_core.cli", "workers", "beat"))}
        assert not wrong, f"{name} imports {sorted(wrong)}"


def test_workers_and_beat_never_import_each_other() -> None:
    for name, imported in GRAPH.items():
        other = "beat" if name.startswith("workers") else "workers"
        if name.startswith(("workers", "beat")):
            assert not {m for m in imported if m.split(".")[0] == other}, name


def test_the_cli_imports_processes_only_from_its_process_commands() -> None:
    for name, imported in GRAPH.items():
        if name.startswith("tasks_core.cli") and name not in PROCESS_COMMANDS:
            wrong = {m for m in imported if m.startswith(("workers", "beat"))}
            assert not wrong, f"{name} imports {sorted(wrong)}"
