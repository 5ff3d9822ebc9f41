"""Hostile data, wave 2 (issue 16): keys that collide, records that are not objects, very
wide, long and deep values, huge integers, and database paths a load could never write.
Each fault runs through a real DagsterInstance (or the CLI's runner in a child process, to
measure its memory) against a loopback API and adds a row to the fault table."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from rest_assets import build_definitions
from rest_assets.demo.server import LocalAPI, Response
from tests.reliability.harness import error_text, record, serve_pages
from tests.reliability.processes import result_of, spawn, write_config

MIB = 1024 * 1024


def _source(local: LocalAPI, name: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "client": {
            "base_url": local.url,
            "paginator": {"type": "json_link", "next_url_path": "next"},
            "rate_limit": {"max_retries": 0},
        },
        "resource_defaults": {"endpoint": {"data_selector": "data"}},
        "resources": resources,
    }


def _run(
    source: dict[str, Any], db: Path, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    defs = build_definitions({"sources": [source]}, database=db)
    return dg.materialize(
        list(defs.assets or []), instance=instance, resources=defs.resources, raise_on_error=False
    )


def _sql(db: Path, query: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query).fetchall()


def _logs(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> str:
    """The run's log lines (what rest-assets said about the load)."""
    return "\n".join(e.user_message for e in instance.all_logs(result.run_id))


def test_keys_that_collide_keep_every_value(
    local: LocalAPI, shared_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    serve_pages(
        local,
        "/people",
        [
            [{"id": 1, "Name": "upper", "name": "lower"}],
            [{"id": 2, "name": "page two"}, {"id": 3, "Name": "only upper"}],
        ],
    )
    serve_pages(local, "/odd", [[{"id": 1, "": "blank", "obj": {"K": 1, "k": 2}}]])
    db = tmp_path / "w.duckdb"
    source = _source(local, "collide", [{"name": "people"}, {"name": "odd"}])
    result = _run(source, db, shared_instance)
    assert result.success, error_text(result)
    people = _sql(db, "SELECT id, name, name_2 FROM raw_collide.people ORDER BY id")
    assert people == [(1, "lower", "upper"), (2, "page two", None), (3, None, "only upper")]
    odd = _sql(db, "SELECT _empty, obj__k, obj__k_2 FROM raw_collide.odd")
    assert odd == [("blank", 2, 1)]
    assert "differ only in case" in _logs(shared_instance, result)
    record(
        "keys differing only in case (one record, across pages)",
        3,
        len(people),
        None,
        None,
        "run succeeded; name keeps 'name', Name becomes name_2 (logged); every value kept",
    )
    record(
        'empty key "" and nested {"K": 1, "k": 2}',
        1,
        len(odd),
        None,
        None,
        "run succeeded; columns _empty, obj__k, obj__k_2 (logged)",
    )


def test_one_record_with_10000_keys_stays_bounded(local: LocalAPI, tmp_path: Path) -> None:
    wide = {"id": 1, "m": {f"k{i}": i for i in range(10_000)}}
    serve_pages(local, "/wide", [[wide]])
    serve_pages(local, "/small", [[{"id": 1, "m": {"a": 1}}]])
    source = _source(local, "wide", [{"name": "wide"}])
    baseline = _source(local, "wide", [{"name": "wide", "endpoint": {"path": "small"}}])
    home = tmp_path / "dagster_home"
    home.mkdir()
    runs = {}
    for name, config in [("baseline", baseline), ("wide", source)]:
        path = write_config(tmp_path / f"{name}.yml", config)
        with dg.instance_for_test(temp_dir=str(home)):
            child = spawn(path, tmp_path / f"{name}.duckdb", home, serve=True)
            try:
                assert result_of(child) == {"ready": True}
                assert child.stdin is not None
                started = time.perf_counter()
                child.stdin.write("run\n")
                child.stdin.flush()
                runs[name] = {**result_of(child), "seconds": time.perf_counter() - started}
                child.stdin.write("exit\n")
                child.stdin.flush()
            finally:
                child.kill()
                child.wait(10)
    wide_run, base = runs["wide"], runs["baseline"]
    assert wide_run["success"], wide_run
    growth = (wide_run["maxrss_kb"] - base["maxrss_kb"]) * 1024
    assert growth < 300 * MIB, growth / MIB  # 8.1 GB before the column budget
    types = dict(
        _sql(
            tmp_path / "wide.duckdb",
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'wide'",
        )
    )
    assert types["m"] == "JSON"
    (value,) = _sql(tmp_path / "wide.duckdb", "SELECT m FROM raw_wide.wide")[0]
    assert json.loads(value) == wide["m"]
    record(
        "one record with 10,000 keys (a nested object)",
        1,
        1,
        None,
        None,
        f"run succeeded; object kept as JSON column m past max_columns (logged); child peak "
        f"RSS {wide_run['maxrss_kb'] // 1024} MiB (+{growth // MIB} MiB), "
        f"{wide_run['seconds']:.0f} s",
    )


def test_responses_that_are_not_lists_of_objects(
    local: LocalAPI, shared_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    local.route("GET", "/ids", lambda r: Response([3, 1, 2]))
    local.route("GET", "/motd", lambda r: Response("hello"))
    db = tmp_path / "w.duckdb"
    source = {
        "name": "shapes",
        "client": {"base_url": local.url, "paginator": "single_page"},
        "resources": ["ids", "motd"],
    }
    result = _run(source, db, shared_instance)
    assert result.success, error_text(result)
    ids = _sql(db, "SELECT value FROM raw_shapes.ids ORDER BY value")
    assert ids == [(1,), (2,), (3,)]
    assert _sql(db, "SELECT value FROM raw_shapes.motd") == [("hello",)]
    record(
        "top-level list of scalars, and a string body",
        4,
        len(ids) + 1,
        None,
        None,
        'run succeeded; each scalar stored as {"value": ...}, as Python resources are (logged)',
    )


def test_long_deep_and_huge_values(
    local: LocalAPI, shared_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    text = "x" * (40 * MIB)
    tree: dict[str, Any] = {"leaf": 1}
    for _ in range(199):
        tree = {"n": tree}
    big = 2**64 + 7
    serve_pages(
        local, "/long", [b'{"data": [{"id": 1, "body": "' + text.encode() + b'"}], "next": null}']
    )
    serve_pages(local, "/deep", [[{"id": 1, "tree": tree}]])
    serve_pages(
        local,
        "/huge",
        [
            b'{"data": [{"id": 1, "n": 18446744073709551623}, '
            b'{"id": 2, "n": -18446744073709551623}]}'
        ],
    )
    db = tmp_path / "w.duckdb"
    resources = [{"name": "long"}, {"name": "deep", "nested_as_json": True}, {"name": "huge"}]
    result = _run(_source(local, "values", resources), db, shared_instance)
    assert result.success, error_text(result)
    assert _sql(db, "SELECT length(body) FROM raw_values.long") == [(len(text),)]
    # the object is flattened down to where DuckDB can still read it, then kept as JSON
    (column,) = _sql(
        db,
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'deep' AND data_type = 'JSON'",
    )[0]
    (stored,) = _sql(db, f'SELECT "{column}" FROM raw_values.deep')[0]
    below = tree
    for _ in range(column.count("__")):
        below = below["n"]
    assert json.loads(stored) == below
    huge = _sql(db, "SELECT n FROM raw_values.huge ORDER BY id")
    assert huge == [(big,), (-big,)]
    assert _sql(
        db, "SELECT data_type FROM duckdb_columns() WHERE table_name = 'huge' AND column_name = 'n'"
    ) == [("HUGEINT",)]
    record(
        "a 40 MB string value",
        1,
        1,
        None,
        None,
        "run succeeded; read past DuckDB's 16 MB object limit",
    )
    record(
        "nesting 200 levels deep, nested_as_json",
        1,
        1,
        None,
        None,
        "run succeeded; kept as JSON, every level",
    )
    record(
        "integers beyond 2^64 (both signs)",
        2,
        len(huge),
        None,
        None,
        "run succeeded; HUGEINT, exact (no float)",
    )


def _read_only(path: Path) -> None:
    path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)


@pytest.mark.parametrize("case", ["read-only file", "folder that cannot be created", "not DuckDB"])
def test_a_database_path_that_cannot_be_written_fails_before_any_request(
    local: LocalAPI, shared_instance: dg.DagsterInstance, tmp_path: Path, case: str
) -> None:
    serve_pages(local, "/items", [[{"id": 1}]])
    if case == "read-only file":
        db = tmp_path / "ro.duckdb"
        duckdb.connect(str(db)).close()
        _read_only(db)
        expected = "read-only"
    elif case == "folder that cannot be created":
        parent = tmp_path / "locked"
        parent.mkdir()
        db = parent / "missing" / "w.duckdb"
        _read_only(parent)
        expected = "cannot write in"
    else:
        db = tmp_path / "notes.duckdb"
        db.write_text("these are my notes, not a database\n")
        expected = "not a DuckDB database"
    try:
        result = _run(_source(local, f"early{len(case)}", [{"name": "items"}]), db, shared_instance)
    finally:
        for path in (db, db.parent):
            if path.exists():
                path.chmod(stat.S_IMODE(path.stat().st_mode) | 0o200)
    assert not result.success
    text = error_text(result)
    assert expected in text and str(db) in text, text
    assert local.requests_to("/items") == []  # refused before the extraction ran
    if case == "not DuckDB":
        assert db.read_text() == "these are my notes, not a database\n"
    record(
        f"database path: {case}",
        1,
        0,
        None,
        None,
        "failed before any request: "
        + text.splitlines()[-1].replace(str(db), "<db>").split("DatabasePathError: ")[-1],
    )
