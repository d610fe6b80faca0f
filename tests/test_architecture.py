"""The package's layers, enforced: each test fails naming the module, the line and the import.

Two tools, each for what it does best:

- import-linter runs the contracts declared in pyproject.toml's [tool.importlinter], one test
  per contract: cli > app > engine; inside the cli, the commands > parser > errors; inside
  the app, the entry points > main_window > its window parts > panels | lab | io >
  views | lessons > state | style, every room placed; the views independent over what they
  share; inside the engine, its uses (io, gradcheck, baseline, trainer) > run > cells >
  kernels | inputs > model and the other leaves > activations, with Qt, pyqtgraph and torch
  nowhere and no file format under the computing; the textbook engine (reference.py) plain
  and run by nothing; only the entry points know the main window; no two sibling packages
  import each other.
- An AST walk of every module under rnnviz/ (tests/source_graph.py; imports inside functions
  count) checks what import-linter cannot: no import circle between modules (a package's
  __init__ is a module too), no private name (``_name``) used outside its module, app/state
  uses PySide6.QtCore and no other part of Qt, torch is only imported inside a function, and
  no module is over 600 lines.

A run in a fresh interpreter adds what the source does not show: importing the engine, the
command line or the app's state loads none of the packages they must not need.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from tests.source_graph import (IMPORTS, MODULES, ROOT, TREES, absolute_name, internal_graph, reachable,
                                shortest_circle, strongly_connected)

MAX_LINES = 600  # a hard limit: a module longer than this is split before it is merged
AIM_LINES = 400  # what a module should stay under; listed in the failure message


# circles ----------------------------------------------------------------------------------------
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


def module_aliases(module: str) -> dict[str, str]:
    """The names this module binds to rnnviz modules by importing them (name -> module)."""
    bound = {}
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "rnnviz":
                    bound[alias.asname or "rnnviz"] = alias.name if alias.asname else "rnnviz"
        elif isinstance(node, ast.ImportFrom):
            base = absolute_name(module, node)
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    bound[alias.asname or alias.name] = f"{base}.{alias.name}"
    return bound


def defined_private_names(module: str) -> set[str]:
    """The private names a module defines: functions, classes, and what it assigns, be it a
    global, a class attribute or an attribute of some object (self._x = ..., item._x = ...)."""
    names = set()
    for node in ast.walk(TREES[module]):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
    return {n for n in names if is_private(n)}


DEFINED_PRIVATE = {m: defined_private_names(m) for m in MODULES}


def private_attribute_uses(module: str) -> list[str]:
    """Another module's private names reached through an attribute:

    - `mod._name` where mod is an rnnviz module this one imported;
    - `obj._name` on any object but self, cls or super(), where _name is defined in another
      rnnviz module and not in this one (by name: the source does not say what obj is).
    """
    aliases = module_aliases(module)
    found = {}
    for node in ast.walk(TREES[module]):
        if not (isinstance(node, ast.Attribute) and is_private(node.attr)):
            continue
        chain = [node.attr]  # the dotted names from the private one inwards: a.b._c gives [_c, b]
        inner = node.value
        while isinstance(inner, ast.Attribute):
            chain.append(inner.attr)
            inner = inner.value
        if isinstance(inner, ast.Name) and inner.id in aliases:
            # a module: walk down its submodules to the one that should hold the name
            owner = aliases[inner.id]
            for part in reversed(chain[1:]):
                if f"{owner}.{part}" not in MODULES:
                    owner = None  # an attribute of something in the module, not the module
                    break
                owner = f"{owner}.{part}"
            if owner is not None and owner != module:
                found[node.lineno, node.attr] = f"{module} line {node.lineno}: {ast.unparse(node)}  ← {owner}"
            if owner is not None:
                continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        if isinstance(node.value, ast.Call) and getattr(node.value.func, "id", None) == "super":
            continue
        # another object's private attribute: flagged when another module defines that name,
        # even if this module defines one of the same spelling too (`self.view._camera` beside a
        # `self._camera` of its own is still a reach into the view)
        owners = sorted(m for m, names in DEFINED_PRIVATE.items() if node.attr in names and m != module)
        if owners:
            found[node.lineno, node.attr] = (f"{module} line {node.lineno}: {ast.unparse(node)}  ← "
                                             f"defined in {', '.join(owners)}")
    return [found[k] for k in sorted(found)]


def test_no_private_names_used_across_modules():
    found = [v for m in MODULES for v in private_imports(m) + private_attribute_uses(m)]
    assert not found, (
        "private names (_name) used outside their module: make the name public (and name it for what it "
        "does), or move the code that needs it into its module:\n  " + "\n  ".join(found))


# what a layer may import from outside the package ----------------------------------------------
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
def contracts() -> list[dict]:
    from importlinter.api import read_configuration

    return read_configuration(str(ROOT / "pyproject.toml"))["contracts_options"]


def test_every_contract_has_an_id():
    # the test below runs each contract by its id: one without would be checked by none
    assert [c["name"] for c in contracts() if "id" not in c] == []


@pytest.mark.parametrize("contract", [c["id"] for c in contracts() if "id" in c])
def test_import_contract_is_kept(contract):
    # import-linter's command line, run by this interpreter; its report names each import chain
    # that breaks the contract
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                               "sys.exit(lint_imports_command())",
         "--no-cache", "--no-logo", "--contract", contract],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"import-linter contract {contract!r} (pyproject.toml) is broken:\n{run.stdout}{run.stderr}"


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
ONLY_QTCORE = "m.split('.')[0] in ('pyqtgraph', 'torch') or (m.startswith('PySide6.Qt') and m != 'PySide6.QtCore')"
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
