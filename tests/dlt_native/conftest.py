"""Fixtures of the dlt_native tests: an isolated environment and Dango projects on disk."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from rest_assets.config.project_files import PROJECT_VALUES


@pytest.fixture(autouse=True)
def isolated_process(tmp_path: Path) -> Iterator[Path]:
    """The environment back as it was after each test, a home folder of its own (no
    `~/.dlt` of the machine) and dlt's telemetry off (nothing leaves the machine)."""
    saved = dict(os.environ)
    home = tmp_path / "home"
    home.mkdir()
    os.environ["HOME"] = str(home)
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    PROJECT_VALUES.clear()
    try:
        yield home
    finally:
        PROJECT_VALUES.clear()
        os.environ.clear()
        os.environ.update(saved)


MakeProject = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """`make_project(name, modules={path: code}, sources=[...], secrets=..., config=...)`:
    a Dango project folder with `.dango/sources.yml`, the modules and `.dlt/*.toml`."""

    def make(
        name: str = "project",
        *,
        modules: dict[str, str],
        sources: list[dict[str, object]],
        secrets: str = "",
        config: str = "",
    ) -> Path:
        folder = tmp_path / name
        (folder / ".dango").mkdir(parents=True)
        (folder / ".dango" / "sources.yml").write_text(yaml.safe_dump({"sources": sources}))
        for path, code in modules.items():
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(code))
        (folder / ".dlt").mkdir()
        if secrets:
            (folder / ".dlt" / "secrets.toml").write_text(textwrap.dedent(secrets))
        if config:
            (folder / ".dlt" / "config.toml").write_text(textwrap.dedent(config))
        return folder

    return make


def native(name: str, module: str, function: str) -> dict[str, object]:
    """A Dango `type: dlt_native` entry."""
    return {
        "name": name,
        "type": "dlt_native",
        "dlt_native": {"source_module": module, "source_name": function},
    }
