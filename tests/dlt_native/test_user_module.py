"""Importing a dlt_native source's module from its project folder (no dlt needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rest_assets.dagster.dlt_native.errors import DltNativeError
from rest_assets.dagster.dlt_native.user_module import import_source_module


def _package(folder: Path, package: str, files: dict[str, str]) -> Path:
    (folder / package).mkdir(parents=True)
    (folder / package / "__init__.py").write_text("")
    for name, code in files.items():
        (folder / package / name).write_text(code)
    return folder


@pytest.fixture(autouse=True)
def _forget_test_packages() -> None:
    for name in [m for m in sys.modules if m.split(".")[0].startswith("ra_test_")]:
        del sys.modules[name]


def test_the_module_comes_from_the_project_folder_and_sys_path_is_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _package(
        tmp_path / "p", "ra_test_pkg", {"mod.py": "from ra_test_pkg import helper\nX = helper.Y\n"}
    )
    (folder / "ra_test_pkg" / "helper.py").write_text("Y = 42\n")
    monkeypatch.chdir(tmp_path)  # not the project folder
    before = list(sys.path)
    module = import_source_module("ra_test_pkg.mod", folder)
    assert module.X == 42
    assert Path(module.__file__ or "").parent == (folder / "ra_test_pkg").resolve()
    assert sys.path == before
    assert import_source_module("ra_test_pkg.mod", folder) is module  # cached, as imports are


def test_annotations_are_not_evaluated_at_import(tmp_path: Path) -> None:
    folder = _package(
        tmp_path / "p",
        "ra_test_ann",
        {"mod.py": "import json\n\ndef f(x: json.Nothing) -> json.AlsoNothing:\n    return x\n"},
    )
    module = import_source_module("ra_test_ann.mod", folder)
    assert module.f(3) == 3
    assert module.f.__annotations__["return"] == "json.AlsoNothing"


def test_each_project_gets_its_own_copy(tmp_path: Path) -> None:
    first = _package(tmp_path / "a", "ra_test_same", {"mod.py": "NAME = 'a'\n"})
    second = _package(tmp_path / "b", "ra_test_same", {"mod.py": "NAME = 'b'\n"})
    assert import_source_module("ra_test_same.mod", first).NAME == "a"
    assert import_source_module("ra_test_same.mod", second).NAME == "b"
    assert import_source_module("ra_test_same.mod", first).NAME == "a"
    empty = tmp_path / "c"
    empty.mkdir()
    with pytest.raises(DltNativeError) as info:  # not another project's module
        import_source_module("ra_test_same.mod", empty)
    assert f"there is no {empty.resolve()}/ra_test_same/mod.py" in str(info.value)


@pytest.mark.parametrize(
    ("code", "fragments"),
    [
        ("def f(:\n", ["SyntaxError", "mod.py, line 1"]),
        ("\n\nraise RuntimeError('boom')\n", ["RuntimeError: boom", "mod.py, line 3"]),
        ("import ra_test_not_installed\n", ["ModuleNotFoundError", "ra_test_not_installed"]),
    ],
)
def test_a_module_that_fails_to_import_names_the_file_and_line(
    code: str, fragments: list[str], tmp_path: Path
) -> None:
    folder = _package(tmp_path / "p", "ra_test_bad", {"mod.py": code})
    with pytest.raises(DltNativeError) as info:
        import_source_module("ra_test_bad.mod", folder)
    text = str(info.value)
    assert text.startswith(f"cannot import ra_test_bad.mod from {folder.resolve()}: ")
    for fragment in fragments:
        assert fragment in text
    assert "ra_test_bad.mod" not in sys.modules


def test_a_module_in_place_of_a_package_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "ra_test_flat.py").write_text("X = 1\n")
    with pytest.raises(DltNativeError, match=r"ra_test_flat \(.*\) is a module, not a package"):
        import_source_module("ra_test_flat.mod", folder)
