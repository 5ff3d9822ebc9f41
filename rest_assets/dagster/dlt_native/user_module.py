"""Importing a dlt_native source's module (`source_module`) from the project folder.

Dango imports `custom_sources.my_api` relative to the project folder (the one holding
`.dango/`), whatever the working directory. Here:

- the project folder is put first on `sys.path` only while the module is imported (its own
  `import` of sibling modules needs it) and taken off right after;
- a module of that name that this process imported from another folder (another project)
  is forgotten first, so each project runs its own code (and a project without the module
  does not get another project's); one imported from this folder is reused, as any import
  is;
- a module that is not in the project folder is imported from the installed packages;
- the module is compiled with postponed evaluation of annotations (PEP 563; Python 3.14
  does the same by default, PEP 649): an annotation is not evaluated at import. The custom
  API tutorial's `-> Iterator[dlt.DltResource]` names a class dlt exports only as
  `dlt.sources.DltResource`, which stops an ordinary import with an AttributeError; nothing
  else changes, dlt reads the signature's defaults (`dlt.secrets.value`, incremental
  objects), not its annotations.

A module that cannot be imported raises `DltNativeError` naming the module, the folder and
the file and line that failed.
"""

from __future__ import annotations
import __future__

import importlib
import importlib.machinery
import importlib.util
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType, ModuleType

from rest_assets.dagster.dlt_native.errors import DltNativeError


class _PostponedAnnotationsLoader(importlib.machinery.SourceFileLoader):
    """Compiles the file as if it began with `from __future__ import annotations`.

    Always from the source: a cached `.pyc` may have been compiled without the flag.
    """

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        source = self.get_data(path)
        flags = __future__.annotations.compiler_flag
        return compile(source, path, "exec", flags=flags, dont_inherit=True)


# top-level modules imported from a project folder, and from which (one at a time: callers
# hold rest_assets.dagster.dlt_native.engine.DLT_LOCK)
_FROM_PROJECTS: dict[str, Path] = {}


def import_source_module(name: str, folder: Path) -> ModuleType:
    """The module `name` (a dotted path) as the project in `folder` has it."""
    folder = folder.resolve()
    top = name.split(".")[0]
    holds = _in_folder_spec(top, folder)
    if holds or top in _FROM_PROJECTS:
        _forget_other_copies(top, folder)
    if holds:
        _FROM_PROJECTS[top] = folder
    cached = sys.modules.get(name)
    if cached is not None:
        return cached
    try:
        with _first_on_sys_path(folder):
            return _import(name, folder)
    except DltNativeError:
        raise
    except Exception as exc:
        raise DltNativeError(_failure_text(name, folder, exc)) from None


def _import(name: str, folder: Path) -> ModuleType:
    package, _, leaf = name.rpartition(".")
    parent: ModuleType | None = None
    search: list[str] | None = None  # None: sys.path, with the project folder first
    if package:
        try:
            parent = importlib.import_module(package)
        except ModuleNotFoundError as exc:
            # the package itself is missing, not a module the package imports
            if exc.name is not None and (package == exc.name or package.startswith(f"{exc.name}.")):
                raise _not_found(name, folder) from None
            raise
        search = list(getattr(parent, "__path__", None) or [])
        if not search:
            raise DltNativeError(
                f"cannot import {name}: {package} ({parent.__file__}) is a module, not a "
                "package; source_module is the dotted path of a Python file, e.g. "
                "custom_sources.my_api for custom_sources/my_api.py"
            )
    spec = importlib.machinery.PathFinder.find_spec(name, search)
    if spec is None or spec.origin is None:
        raise _not_found(name, folder)
    if spec.origin.endswith(".py"):
        spec.loader = _PostponedAnnotationsLoader(name, spec.origin)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        assert spec.loader is not None
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    if parent is not None:
        setattr(parent, leaf, module)  # as `import a.b` binds b on a
    return module


@contextmanager
def _first_on_sys_path(folder: Path) -> Iterator[None]:
    entry = str(folder)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        # the user's module may have edited sys.path itself: take off our entry only
        if entry in sys.path:
            sys.path.remove(entry)
        importlib.invalidate_caches()


def _in_folder_spec(top: str, folder: Path) -> bool:
    """Whether the project folder holds the top-level module or package `top`."""
    return importlib.machinery.PathFinder.find_spec(top, [str(folder)]) is not None


def _forget_other_copies(top: str, folder: Path) -> None:
    """Drop `top` and its submodules from sys.modules when another folder's copy is there."""
    cached = sys.modules.get(top)
    if cached is None or _comes_from(cached, folder):
        return
    for loaded in [m for m in sys.modules if m == top or m.startswith(f"{top}.")]:
        del sys.modules[loaded]


def _comes_from(module: ModuleType, folder: Path) -> bool:
    places = [getattr(module, "__file__", None), *list(getattr(module, "__path__", None) or [])]
    return any(p and Path(p).resolve().is_relative_to(folder) for p in places)


def _not_found(name: str, folder: Path) -> DltNativeError:
    expected = folder.joinpath(*name.split(".")).with_suffix(".py")
    return DltNativeError(
        f"cannot import {name}: there is no {expected} (source_module is a dotted path "
        f"relative to the project folder {folder}) and no installed module of that name"
    )


def _failure_text(name: str, folder: Path, exc: BaseException) -> str:
    """What failed while importing, with the user's file and line where there is one."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        # `<frozen importlib._bootstrap>` and the like are no files
        if not f.filename.startswith("<") and Path(f.filename).resolve().is_relative_to(folder)
    ]
    where = ""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f" ({exc.filename}, line {exc.lineno})"
    elif frames:
        where = f" ({frames[-1].filename}, line {frames[-1].lineno})"
    return f"cannot import {name} from {folder}: {type(exc).__name__}: {exc}{where}"
