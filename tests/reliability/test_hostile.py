"""Hostile config and data: names with quotes, dots, SQL keywords and unicode; types that
change between pages; 10,000 columns; objects nested 50 deep; duplicate keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import orjson
import pytest

from rest_assets import asset_key, build_definitions
from rest_assets.demo.server import LocalAPI
from rest_assets.errors import ConfigError
from tests.reliability.harness import record, serve_pages


def _source(local: LocalAPI, name: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "client": {
            "base_url": local.url,
            "paginator": {"type": "json_link", "next_url_path": "next"},
            "rate_limit": {"max_retries": 0},
        },
        "resources": resources,
    }


def _materialize(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets or []), instance=instance, resources=defs.resources, raise_on_error=False
    )


HOSTILE_NAMES = ['we"ird', "dotted.name", "select", "order by", "ünïcødé_表", "drop table x;--"]


def test_hostile_resource_table_and_column_names(
    local: LocalAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    columns = {'quo"te': 1, "do.t": 2, "select": 3, "from where": 4, "ключ": 5, "🔑": 6}
    serve_pages(local, "/things", [[{"id": i, **columns} for i in range(1, 4)]])
    resources = [
        {"name": name, "primary_key": "id", "endpoint": {"path": "things", "data_selector": "data"}}
        for name in HOSTILE_NAMES
    ]
    db = tmp_path / "w.duckdb"
    # about verbatim names: naming direct keeps them as the API and the config spell them
    source = {**_source(local, "odd", resources), "naming": "direct"}
    defs = build_definitions({"sources": [source]}, database=db)
    result = _materialize(defs, instance)
    assert result.success
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw_odd'"
            ).fetchall()
        }
        assert tables == set(HOSTILE_NAMES)
        for name in HOSTILE_NAMES:
            quoted = '"' + name.replace('"', '""') + '"'
            row = con.execute(
                f'SELECT count(*), min("quo""te"), min("do.t"), min("select"), min("ключ"), '
                f'min("🔑") FROM raw_odd.{quoted}'
            ).fetchone()
            assert row == (3, 1, 2, 3, 5, 6)
    for name in HOSTILE_NAMES:
        event = instance.get_latest_materialization_event(asset_key("odd", name))
        assert event is not None
    record(
        f"hostile resource/table/column names ({len(HOSTILE_NAMES)} resources)",
        3 * len(HOSTILE_NAMES),
        3 * len(HOSTILE_NAMES),
        None,
        None,
        "run succeeded; every name quoted, not interpreted",
    )


@pytest.mark.parametrize("name", ['a"b', "a.b", "select x", "ünï", "a;drop"])
def test_hostile_source_names_fail_at_load_naming_the_rule(name: str, tmp_path: Path) -> None:
    source = {"name": name, "client": {"base_url": "http://127.0.0.1:9"}, "resources": ["x"]}
    with pytest.raises(ConfigError, match="letters, digits and underscores"):
        build_definitions({"sources": [source]}, database=tmp_path / "w.duckdb")


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"leaf": depth}
    for level in range(depth - 1, 0, -1):
        node = {"n": node, "level": level}
    return node


def test_hostile_data(local: LocalAPI, instance: dg.DagsterInstance, tmp_path: Path) -> None:
    # types that change between pages: int, then string, then object, then list
    serve_pages(
        local,
        "/mixed",
        [
            [{"id": 1, "v": 1, "when": "2024-01-01"}],
            [{"id": 2, "v": "two", "when": 20240102}],
            [{"id": 3, "v": {"x": 3}, "when": None}],
            [{"id": 4, "v": [4, 4], "when": True}],
        ],
    )
    wide = {"id": 1, **{f"c{i}": i for i in range(10_000)}}
    serve_pages(local, "/wide", [[wide, {**wide, "id": 2}]])
    serve_pages(local, "/deep", [[{"id": 1, "tree": _nested(50)}]])
    # duplicate JSON keys inside an object (the last one wins, as in JavaScript), and the same
    # primary key twice in one load and across pages (merge: the last record wins)
    serve_pages(
        local,
        "/dupes",
        [
            b'{"data": [{"id": 1, "v": "first", "v": "second"}, {"id": 2, "v": "a"}], '
            b'"next": "' + local.url.encode() + b'/dupes?page=2"}',
            [{"id": 2, "v": "b"}, {"id": 3, "v": "c"}, {"id": 3, "v": "d"}],
        ],
    )
    resources = [
        {"name": n, "primary_key": "id", "endpoint": {"path": n, "data_selector": "data"}}
        for n in ("mixed", "wide", "deep")
    ]
    resources.append(
        {
            "name": "dupes",
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {"path": "dupes", "data_selector": "data"},
        }
    )
    db = tmp_path / "w.duckdb"
    defs = build_definitions({"sources": [_source(local, "data", resources)]}, database=db)
    result = _materialize(defs, instance)
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]

    with duckdb.connect(str(db), read_only=True) as con:
        mixed = con.execute('SELECT id, v, "when" FROM raw_data.mixed ORDER BY id').fetchall()
        assert [r[0] for r in mixed] == [1, 2, 3, 4]
        # the column became JSON: every value kept with its own type
        assert [orjson.loads(r[1]) for r in mixed] == [1, "two", {"x": 3}, [4, 4]]
        wide_cols = con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'raw_data' "
            "AND table_name = 'wide' AND column_name LIKE 'c%'"
        ).fetchone()
        assert wide_cols == (10_000,)
        assert con.execute("SELECT count(*), sum(c9999) FROM raw_data.wide").fetchone() == (
            2,
            2 * 9999,
        )
        deep_cols = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw_data' "
                "AND table_name = 'deep'"
            ).fetchall()
        ]
        leaf = [c for c in deep_cols if c.endswith("leaf")]
        assert len(leaf) == 1 and leaf[0].count("n__") == 49
        assert con.execute(f'SELECT "{leaf[0]}" FROM raw_data.deep').fetchone() == (50,)
        dupes = con.execute("SELECT id, v FROM raw_data.dupes ORDER BY id").fetchall()
        assert dupes == [(1, "second"), (2, "b"), (3, "d")]
    record(
        "types conflicting across 4 pages (int, str, object, list)",
        4,
        len(mixed),
        None,
        None,
        "run succeeded; column became JSON, each value kept",
    )
    record(
        "10,000 columns",
        2,
        2,
        None,
        None,
        "run succeeded (failed before the fix: >200 fields read as a MAP)",
    )
    record(
        "objects nested 50 deep", 1, 1, None, None, "run succeeded; flattened to one leaf column"
    )
    record(
        "duplicate keys (in an object; same id in a load and across pages, merge)",
        3,
        len(dupes),
        None,
        None,
        "run succeeded; last value wins",
    )
