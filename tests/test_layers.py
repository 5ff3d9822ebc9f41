"""The package keeps its shape: each layer imports only the layers below it, and no module
imports itself back through others, not even inside a function.

config <- http, load <- extract <- dagster <- inspect, wizard <- cli; `errors`, `heap` and
the demo API (a loopback server for examples and tests) sit below everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "rest_assets"

# the layer of each top-level part; a part may import its own modules and lower layers only
LAYERS = {
    "rest_assets.errors": 0,
    "rest_assets.heap": 0,
    "rest_assets.demo": 0,
    "rest_assets.config": 1,
    "rest_assets.http": 2,
    "rest_assets.load": 2,
    "rest_assets.extract": 3,
    "rest_assets.dagster": 4,
    "rest_assets.demo.definitions": 5,
    "rest_assets.inspect": 5,
    "rest_assets.wizard": 6,
    "rest_assets.cli": 7,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _part(module: str) -> str:
    """The entry of LAYERS a module belongs to (the longest matching prefix)."""
    matches = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    assert matches, f"{module} belongs to no layer: add it to LAYERS"
    return max(matches, key=len)


def _imports(path: Path) -> set[str]:
    """Our modules a file imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = [f"{node.module}.{a.name}" for a in node.names]
            named = [m for m in submodules if m in MODULES]
            # `from rest_assets import heap` imports the module heap, not the package's API
            found.update(named or [node.module])
    return {m for m in found if m in MODULES and m != "rest_assets"}


def test_every_layer_imports_only_lower_layers() -> None:
    breaches = []
    for name, path in sorted(MODULES.items()):
        if name == "rest_assets":  # the package's public API re-exports every layer
            continue
        own = _part(name)
        for target in sorted(_imports(path)):
            other = _part(target)
            if other != own and LAYERS[other] >= LAYERS[own]:
                breaches.append(f"{name} imports {target}")
    assert not breaches, "\n".join(breaches)


def test_no_import_cycles_between_modules() -> None:
    # a package __init__ re-exports its modules: the cycles that count are between modules
    graph = {
        name: {t for t in _imports(path) if MODULES[t].name != "__init__.py"}
        for name, path in MODULES.items()
        if path.name != "__init__.py"
    }
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if name in stack:
            raise AssertionError(
                f"import cycle: {' -> '.join([*stack[stack.index(name) :], name])}"
            )
        if name in done:
            return
        for dep in sorted(graph.get(name, ())):
            visit(dep, [*stack, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_no_module_imports_its_own_package_api() -> None:
    # a package's __init__ imports its modules: a module importing it back is a cycle
    offenders = []
    for name, path in MODULES.items():
        if path.name == "__main__.py":  # `python -m pkg` runs the package's API
            continue
        packages = {t for t in _imports(path) if MODULES[t].name == "__init__.py"}
        offenders.extend(f"{name} imports {pkg}" for pkg in packages if name.startswith(pkg + "."))
    assert not offenders, "\n".join(sorted(offenders))


def test_the_layer_table_is_complete() -> None:
    for name in MODULES:
        if name != "rest_assets":
            _part(name)
