"""The package's modules and their imports, read from the source (for tests/test_architecture.py).

Every import statement counts, at any depth (inside functions too), each resolved to the module
it loads: `from rnnviz.app.state import playback` loads rnnviz.app.state.playback,
`from rnnviz.engine import run` loads rnnviz.engine (the package's __init__, a module like any
other). Each import keeps its line and whether it sits in a function, so that a failure can
name it.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rnnviz"


@dataclass(frozen=True)
class Import:
    """One import statement's target, as the importing module sees it."""

    importer: str  # the module holding the statement
    target: str  # the module imported (for `from m import name`: m.name if that is a module, else m)
    names: tuple[str, ...]  # the names taken by `from m import ...` (empty for `import m`)
    line: int
    in_function: bool  # inside a def: runs only when the function does

    def where(self) -> str:
        text = f"from {self.target} import {', '.join(self.names)}" if self.names else f"import {self.target}"
        return f"{self.importer} line {self.line}{' (in a function)' if self.in_function else ''}: {text}"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_modules() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its __init__.py)."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = source_modules()


def _known_prefix(dotted: str) -> str:
    """The longest prefix of a dotted name that is one of our modules (or the name itself)."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in MODULES:
            return ".".join(parts[:n])
    return dotted


def absolute_name(module: str, node: ast.ImportFrom) -> str:
    """The module a `from ... import` statement in module names, a relative one made absolute."""
    if not node.level:
        return node.module or ""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _walk_with_function_flag(tree: ast.AST):
    """Every node with whether it sits inside a function."""
    stack = [(tree, False)]
    while stack:
        node, in_function = stack.pop()
        yield node, in_function
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))


TREES = {m: ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for m, p in MODULES.items()}


def imports_of(module: str) -> list[Import]:
    """Every import statement of a module, at any depth, resolved to the modules it loads."""
    found = []
    for node, in_function in _walk_with_function_flag(TREES[module]):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, _known_prefix(alias.name), (), node.lineno, in_function))
        elif isinstance(node, ast.ImportFrom):
            base = absolute_name(module, node)
            if base == "__future__":
                continue
            by_target: dict[str, list[str]] = {}
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if base.split(".")[0] == "rnnviz":
                    target = sub if sub in MODULES else _known_prefix(base)
                else:  # `from PySide6 import QtWidgets` takes a module; elsewhere, names from base
                    target = sub if base == "PySide6" else base
                by_target.setdefault(target, []).append(alias.name)
            found += [Import(module, t, tuple(names), node.lineno, in_function) for t, names in by_target.items()]
    return sorted(found, key=lambda i: (i.line, i.target))


IMPORTS = {m: imports_of(m) for m in MODULES}


def internal_graph() -> dict[str, list[Import]]:
    """Each module's imports of other rnnviz modules."""
    return {m: [i for i in imps if i.target in MODULES and i.target != m] for m, imps in IMPORTS.items()}


# circles ----------------------------------------------------------------------------------------
def strongly_connected(graph: dict[str, list[Import]]) -> list[list[str]]:
    """Tarjan's components of the module graph, iteratively (the graph is small, but no recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = [imp.target for imp in graph[node]]
            if i < len(targets):
                work.append((node, i + 1))
                nxt = targets[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def shortest_circle(graph: dict[str, list[Import]], start: str, members: set[str]) -> list[Import]:
    """The shortest chain of imports from start back to start, inside one component."""
    paths: dict[str, list[Import]] = {start: []}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for imp in graph[node]:
                if imp.target == start:
                    return paths[node] + [imp]
                if imp.target in members and imp.target not in paths:
                    paths[imp.target] = paths[node] + [imp]
                    following.append(imp.target)
        frontier = following
    raise AssertionError(f"{start} is in a component but on no circle")


def reachable(start: str, graph: dict[str, list[Import]]) -> dict[str, list[Import]]:
    """Every rnnviz module start loads (at import or when its functions run), with the chain."""
    chains: dict[str, list[Import]] = {start: []}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for imp in graph[node]:
                if imp.target not in chains:
                    chains[imp.target] = chains[node] + [imp]
                    following.append(imp.target)
        frontier = following
    return chains
