"""An isolated process for each test: environment, home folder, `.dlt` values."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from rest_assets.config.project_files import PROJECT_VALUES


@pytest.fixture(autouse=True)
def isolated_process(tmp_path: Path) -> Iterator[Path]:
    saved = dict(os.environ)
    home = tmp_path / "home"
    home.mkdir()
    # not monkeypatch: its undo runs after this teardown and would bring back values that
    # `.env` files loaded between its setenv and the end of the test
    os.environ["HOME"] = str(home)
    PROJECT_VALUES.clear()
    try:
        yield home
    finally:
        PROJECT_VALUES.clear()
        os.environ.clear()
        os.environ.update(saved)
