"""rest-assets never needs dlt: importing the package (and building and validating a
source) imports no dlt module, and without dlt installed the dlt-shaped configs still load;
objects we cannot use get a message that says what to write instead."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rest_assets.config.load import source_from_dict
from rest_assets.errors import ConfigError
from rest_assets.extract.plan import plan_source
from rest_assets.http.paginators import create_paginator

ROOT = Path(__file__).resolve().parents[2]

BLOCK_DLT = """
import importlib.abc, sys
class _NoDlt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "dlt" or name.startswith("dlt."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
        return None
sys.meta_path.insert(0, _NoDlt())
"""


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=str(ROOT),
        timeout=240,
    )


def test_importing_and_building_imports_no_dlt_module() -> None:
    done = _python(
        """
        import sys
        import rest_assets
        from rest_assets import build_definitions
        from tests.dlt_compat import configs
        project = {"sources": [{"name": "p", **configs.paginators_config("http://127.0.0.1:9")}]}
        build_definitions(project, database="/tmp/never-written.duckdb")
        loaded = sorted(m for m in sys.modules if m == "dlt" or m.startswith("dlt."))
        print("DLT MODULES:", loaded)
        assert not loaded, loaded
        """
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "DLT MODULES: []" in done.stdout


def test_without_dlt_installed_dlt_shaped_configs_still_load() -> None:
    done = _python(
        BLOCK_DLT
        + """
import dagster as dg
from rest_assets import build_definitions
from tests.dlt_compat import configs
for name in ("paginators", "placeholders", "actions", "incremental"):
    config = configs.SOURCES[name]("http://127.0.0.1:9")
    defs = build_definitions({"sources": [{"name": name, **config}]}, database="/tmp/x.duckdb")
    assert list(defs.assets or []), name
print("OK")
"""
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "OK" in done.stdout


class Stranger:
    """An object that is neither ours nor dlt's."""


def test_objects_we_cannot_use_say_what_to_write_instead() -> None:
    with pytest.raises(ValueError, match=r"give a config dict such as \{type: offset"):
        create_paginator(Stranger())
    with pytest.raises(ConfigError, match="must be a resource name or a mapping"):
        source_from_dict({"client": {"base_url": "http://x"}, "resources": [Stranger()]})
    shorthand = {"name": "a", "endpoint": {"path": "a", "paginator": "offset"}}
    source = source_from_dict({"client": {"base_url": "http://x"}, "resources": [shorthand]})
    with pytest.raises(ConfigError, match=r"needs parameters.*\{type: offset, limit: 100\}"):
        plan_source(source)
