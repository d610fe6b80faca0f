"""The package's layers, enforced: each test fails naming the module, the line and the import.

Two tools, each for what it does best:

- import-linter runs the contracts declared in pyproject.toml's [tool.importlinter] (one test
  per contract): cli > app > engine; inside the app, the entry points > main_window >
  panels | lab | io > views | lessons > state | style; the engine imports no Qt, pyqtgraph or
  torch; only the entry points know the main window; no view imports another; no two sibling
  packages import each other.
- An AST walk of every module under rnnviz/ (imports inside functions included) checks what
  import-linter cannot: no import circle between modules (a package's __init__ counts as a
  module), no private name (``_name``) used across modules, app/state imports PySide6.QtCore
  and nothing else from Qt, torch is only imported inside a function, and module sizes.

A runtime check in a fresh interpreter adds what the source does not show: importing the engine,
the command line or the app's state loads none of the packages they must not need.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rnnviz"

MAX_LINES = 600  # a hard limit: a module longer than this is split before it is merged
AIM_LINES = 400  # what a module should stay under; listed in the failure message


# the modules and their imports, read from the source -----------------------------------------
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


def _absolute(module: str, node: ast.ImportFrom) -> str:
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


def imports_of(module: str) -> list[Import]:
    """Every import statement of a module, at any depth, resolved to the modules it loads."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"), filename=str(MODULES[module]))
    found = []
    for node, in_function in _walk_with_function_flag(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, _known_prefix(alias.name), (), node.lineno, in_function))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
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


def test_no_import_circles_between_modules():
    graph = internal_graph()
    circles = []
    for component in strongly_connected(graph):
        if len(component) > 1:
            chain = shortest_circle(graph, component[0], set(component))
            circles.append(f"{' ↔ '.join(component)}, e.g.\n" + "\n".join(f"    {i.where()}" for i in chain))
    assert not circles, (
        "import circles (imports inside functions count: break the circle by moving what both need "
        "into a module both import, or by handing it in as an argument):\n  " + "\n  ".join(circles))


# private names ----------------------------------------------------------------------------------
def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(module: str) -> list[str]:
    """`from X import _name` of another module's private name (a private submodule may be
    imported from inside its own package)."""
    found = []
    for imp in IMPORTS[module]:
        if imp.target not in MODULES or imp.target == module:
            continue
        for name in imp.names:
            if not is_private(name):
                continue
            if imp.target.endswith("." + name):  # a private submodule: private to its package
                package = imp.target.rpartition(".")[0]
                if module == package or module.startswith(package + "."):
                    continue
            found.append(f"{imp.where()}  ← {name}")
    return found


def private_attribute_uses(module: str) -> list[str]:
    """`mod._name` where mod is another rnnviz module bound by an import in this one."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    bound: dict[str, str] = {}  # local name -> module
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("rnnviz"):
                    bound[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    bound[alias.asname or alias.name] = f"{base}.{alias.name}"
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain = []
        inner: ast.AST = node
        while isinstance(inner, ast.Attribute):
            chain.append(inner.attr)
            inner = inner.value
        if not isinstance(inner, ast.Name) or inner.id not in bound:
            continue
        current = bound[inner.id]
        for part in reversed(chain):
            if is_private(part):
                if current != module:
                    found.append(f"{module} line {node.lineno}: {inner.id}.{'.'.join(reversed(chain))}  ← {current}.{part}")
                break
            if f"{current}.{part}" not in MODULES:
                break
            current = f"{current}.{part}"
    return sorted(set(found))


def test_no_private_names_used_across_modules():
    found = [v for m in MODULES for v in private_imports(m) + private_attribute_uses(m)]
    assert not found, (
        "private names (_name) used outside their module: make the name public (and name it for what it "
        "does), or move the code that needs it into its module:\n  " + "\n  ".join(found))


# what a layer may import from outside the package ----------------------------------------------
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


def is_gui(target: str) -> bool:
    """pyqtgraph, or any part of Qt beyond QtCore (widgets, painting, fonts, images)."""
    root, _, rest = target.partition(".")
    return root == "pyqtgraph" or (root == "PySide6" and rest != "" and rest.split(".")[0] != "QtCore")


def test_app_state_uses_only_qtcore():
    graph = internal_graph()
    found = []
    for module in sorted(m for m in MODULES if m == "rnnviz.app.state" or m.startswith("rnnviz.app.state.")):
        for reached, chain in reachable(module, graph).items():
            for imp in IMPORTS[reached]:
                if is_gui(imp.target):
                    found.append(" → ".join([i.where() for i in chain] + [imp.where()]))
    assert not found, (
        "rnnviz.app.state is the app without pixels (QtCore signals and timers only); it must not load "
        "QtWidgets, QtGui or pyqtgraph, not even through another module:\n  " + "\n  ".join(sorted(set(found))))


def test_torch_is_only_imported_inside_a_function():
    found = [imp.where() for imps in IMPORTS.values() for imp in imps
             if imp.target.split(".")[0] == "torch" and not imp.in_function]
    assert not found, (
        "torch is optional (only reading a PyTorch .pt file needs it): import it inside the function that "
        "uses it, never at a module's top:\n  " + "\n  ".join(found))


# sizes -------------------------------------------------------------------------------------------
def test_no_module_is_longer_than_600_lines():
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    too_long = {m: n for m, n in sizes.items() if n > MAX_LINES}
    long = sorted(((n, m) for m, n in sizes.items() if n > AIM_LINES), reverse=True)
    assert not too_long, (
        f"modules over {MAX_LINES} lines: {', '.join(sorted(too_long))}; split them by what they hold.\n"
        f"All modules over {AIM_LINES} lines (aim to stay under):\n  "
        + "\n  ".join(f"{n:5d}  {m}" for n, m in long))


# the contracts in pyproject.toml, through import-linter ------------------------------------------
def contract_ids() -> list[str]:
    from importlinter.api import read_configuration

    return [c["id"] for c in read_configuration(str(ROOT / "pyproject.toml"))["contracts_options"]]


@pytest.mark.parametrize("contract", contract_ids())
def test_import_contract_is_kept(contract):
    # the command-line tool, run by this interpreter: its report names each offending import chain
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                               "sys.exit(lint_imports_command())",
         "--no-cache", "--no-logo", "--contract", contract],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"import-linter contract {contract!r} (pyproject.toml) is broken:\n{run.stdout}{run.stderr}"


def test_every_contract_is_checked_by_a_test():
    # read_configuration would silently skip a contract without an id: every one needs one
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert text.count("[[tool.importlinter.contracts]]") == len(contract_ids()) > 0


# at run time ------------------------------------------------------------------------------------
def command_line_module() -> str:
    """The module the `rnnviz` command starts in ([project.scripts] in pyproject.toml)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^rnnviz\s*=\s*"([\w.]+):\w+"', text, re.M)
    assert found, "pyproject.toml's [project.scripts] names no `rnnviz` command"
    return found.group(1)


def layer_modules(package: str) -> list[str]:
    return sorted(m for m in MODULES if m == package or m.startswith(package + "."))


NO_GUI_NO_TORCH = "m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'torch')"
ONLY_QTCORE = "m.split('.')[0] in ('pyqtgraph', 'torch') or m.startswith(('PySide6.QtGui', 'PySide6.QtWidgets'))"
AT_IMPORT = {
    # every engine module: pure NumPy
    "the engine": (layer_modules("rnnviz.engine"), NO_GUI_NO_TORCH),
    # what `rnnviz train` or `rnnviz gradcheck` loads before it runs: the app comes in only
    # for the commands that need it
    "the command line": ([command_line_module()], NO_GUI_NO_TORCH),
    # the app without pixels
    "the app's state": (layer_modules("rnnviz.app.state"), ONLY_QTCORE),
}


@pytest.mark.parametrize("layer", sorted(AT_IMPORT))
def test_importing_a_layer_loads_nothing_it_must_not_need(layer):
    modules, forbidden = AT_IMPORT[layer]
    assert modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    before = set(sys.modules)\n"
        "    importlib.import_module(name)\n"
        f"    bad = sorted(m for m in set(sys.modules) - before if {forbidden})\n"
        "    if bad:\n"
        "        print('importing', name, 'loads', ', '.join(bad))\n"
        "        break\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "", f"{layer}: {out.stdout.strip()}"
