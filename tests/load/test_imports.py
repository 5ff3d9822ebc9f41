"""load/ keeps its shape: it imports only config and itself, without cycles (not even inside
functions), and it is the only part of the package that imports duckdb."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "rest_assets"
ALLOWED = ("rest_assets.load", "rest_assets.config", "rest_assets.errors")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            # `from rest_assets.load import tempdirs` imports a module too
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _load_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in (PACKAGE / "load").glob("*.py")}
    return {
        name: {m for m in _imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_load_imports_only_config_and_itself() -> None:
    for path in (PACKAGE / "load").glob("*.py"):
        ours = {m for m in _imports(path) if m.split(".")[0] == "rest_assets"}
        outside = sorted(m for m in ours if not m.startswith(ALLOWED))
        assert not outside, f"{path.name} imports {outside}"


def test_load_modules_have_no_import_cycle() -> None:
    graph = _load_graph()
    # the package's __init__ re-exports its modules: only cycles among the modules count
    graph.pop("rest_assets.load", None)
    for deps in graph.values():
        deps.discard("rest_assets.load")
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if name in stack:
            raise AssertionError(f"import cycle: {' -> '.join([*stack, name])}")
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*stack, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_config_does_not_import_load() -> None:
    for path in (PACKAGE / "config").glob("*.py"):
        assert not [m for m in _imports(path) if m.startswith("rest_assets.load")], path.name


def test_only_load_imports_duckdb() -> None:
    for path in PACKAGE.rglob("*.py"):
        if (PACKAGE / "load") in path.parents:
            continue
        duck = [m for m in _imports(path) if m == "duckdb" or m.startswith("duckdb.")]
        assert not duck, f"{path.relative_to(PACKAGE)} imports duckdb"
