"""The examples in examples/ run as written."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from rest_assets.demo.api import DemoAPI, make_comments

ROOT = Path(__file__).resolve().parents[1]


def test_python_api_example_materializes(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "examples.duckdb"
    monkeypatch.setenv("REST_ASSETS_DATABASE", str(db))
    spec = importlib.util.spec_from_file_location("python_api", ROOT / "examples" / "python_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    defs: dg.Definitions = module.defs
    result = dg.materialize(list(defs.assets or []), instance=instance, resources=defs.resources)
    assert result.success
    kept = sum(1 for i in range(1, 251) for c in make_comments(i) if c["id"] % 10 != 0)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_blog.comments").fetchone() == (kept,)
        assert con.execute("SELECT sum(comments) FROM main.comments_per_post").fetchone() == (kept,)
        assert con.execute("SELECT count(*) FROM main.users_escape_hatch").fetchone() == (40,)
