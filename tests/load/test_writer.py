"""commit() / read_table() against real DuckDB files under tmp_path."""

from __future__ import annotations

import datetime as dt
import decimal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rest_assets.errors import ConfigError
from rest_assets.load import (
    DatabaseLockedError,
    LoadError,
    LoadResult,
    LoadSpec,
    StagingArea,
    commit,
    read_table,
    table_exists,
)


class Loader:
    """Stages batches and commits them, one load per call."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "data" / "warehouse.duckdb"
        self.stage_dir = tmp_path / "stage"
        self.loads = 0

    def __call__(
        self,
        batches: Sequence[list[dict[str, Any]]],
        *,
        schema: str = "raw_src",
        table: str = "items",
        disposition: str = "append",
        **kwargs: Any,
    ) -> LoadResult:
        self.loads += 1
        with StagingArea(self.stage_dir) as area:
            for batch in batches:
                area.write(batch)
            spec = LoadSpec(
                schema,
                table,
                disposition,  # type: ignore[arg-type]
                load_id=kwargs.pop("load_id", f"load-{self.loads:03d}"),
                **kwargs,
            )
            return commit(self.db, area, spec)

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(query, params or []).fetchall()

    def columns(self, table: str, schema: str = "raw_src") -> dict[str, str]:
        rows = self.sql(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
            [schema, table],
        )
        return dict(rows)

    def tables(self, schema: str = "raw_src") -> list[str]:
        rows = self.sql(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1", [schema]
        )
        return [r[0] for r in rows]


@pytest.fixture
def load(tmp_path: Path) -> Loader:
    return Loader(tmp_path)


# ----------------------------------------------------------------------------- dispositions


def test_replace_swaps_rows_and_reports_counts(load: Loader) -> None:
    first = load([[{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], [{"id": 3, "v": "c"}]])
    assert (first.row_count, first.rows_written) == (3, 3)
    assert first.table_name == "raw_src.items"
    result = load([[{"id": 9, "v": "z"}]], disposition="replace")
    assert (result.row_count, result.rows_written) == (1, 1)
    assert load.sql("SELECT id, v, _ra_load_id FROM raw_src.items") == [(9, "z", "load-002")]
    assert ("id", "BIGINT") in result.columns and ("_ra_load_id", "VARCHAR") in result.columns


def test_append_adds_rows_with_load_marker(load: Loader) -> None:
    load([[{"id": 1}, {"id": 2}]])
    result = load([[{"id": 2}, {"id": 3}]])
    assert (result.row_count, result.rows_written) == (4, 2)
    assert load.sql("SELECT _ra_load_id, count(*) FROM raw_src.items GROUP BY 1 ORDER BY 1") == [
        ("load-001", 2),
        ("load-002", 2),
    ]
    ids = load.sql("SELECT _ra_id FROM raw_src.items")
    assert len({r[0] for r in ids}) == 4 and all(r[0] for r in ids)


def test_merge_single_key_updates_inserts_and_last_duplicate_wins(load: Loader) -> None:
    load([[{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]], disposition="merge", primary_key="id")
    result = load(
        [
            [{"id": 2, "v": "b1"}, {"id": 3, "v": "c1"}, {"id": 2, "v": "b2"}],
            [{"id": 3, "v": "c2"}, {"id": 4, "v": "d"}],
        ],
        disposition="merge",
        primary_key=["id"],
    )
    assert load.sql("SELECT id, v FROM raw_src.items ORDER BY id") == [
        (1, "a"),
        (2, "b2"),
        (3, "c2"),
        (4, "d"),
    ]
    assert (result.row_count, result.rows_written) == (4, 3)


def test_merge_last_wins_across_many_large_batches(load: Loader) -> None:
    # order of rows across files must be preserved by the scan for "last one wins"
    batches = [[{"id": i, "batch": b} for i in range(20_000)] for b in range(5)]
    load(batches, disposition="merge", primary_key="id")
    assert load.sql("SELECT DISTINCT batch FROM raw_src.items") == [(4,)]
    assert load.sql("SELECT count(*) FROM raw_src.items") == [(20_000,)]


def test_merge_composite_key(load: Loader) -> None:
    key = ["tenant", "id"]
    load(
        [[{"tenant": "a", "id": 1, "v": 1}, {"tenant": "b", "id": 1, "v": 2}]],
        disposition="merge",
        primary_key=key,
    )
    load(
        [[{"tenant": "b", "id": 1, "v": 20}, {"tenant": "a", "id": 2, "v": 3}]],
        disposition="merge",
        primary_key=key,
    )
    assert load.sql("SELECT tenant, id, v FROM raw_src.items ORDER BY tenant, id") == [
        ("a", 1, 1),
        ("a", 2, 3),
        ("b", 1, 20),
    ]


def test_merge_null_key_matches_null(load: Loader) -> None:
    load([[{"id": None, "v": 1}]], disposition="merge", primary_key="id")
    load([[{"id": None, "v": 2}]], disposition="merge", primary_key="id")
    assert load.sql("SELECT id, v FROM raw_src.items") == [(None, 2)]


def test_merge_without_primary_key_appends(load: Loader) -> None:
    load([[{"id": 1}]], disposition="merge")
    assert load([[{"id": 1}]], disposition="merge").row_count == 2


def test_merge_with_unknown_key_fails_and_keeps_table(load: Loader) -> None:
    load([[{"id": 1}]])
    with pytest.raises(LoadError, match=r"primary key column.*missing_key"):
        load([[{"id": 2}]], disposition="merge", primary_key="missing_key")
    assert load.sql("SELECT id FROM raw_src.items") == [(1,)]


# ----------------------------------------------------------------------------- nesting


def test_nested_objects_are_flattened(load: Loader) -> None:
    load([[{"id": 1, "user": {"name": "ann", "geo": {"lat": 1.5, "lng": 2.5}}}]])
    assert load.sql("SELECT user__name, user__geo__lat, user__geo__lng FROM raw_src.items") == [
        ("ann", 1.5, 2.5)
    ]
    assert "user" not in load.columns("items")


def test_max_table_nesting_keeps_deeper_values_as_json(load: Loader) -> None:
    record = {"id": 1, "user": {"name": "ann", "geo": {"lat": 1.5}}, "tags": ["x"]}
    load([[record]], table="one", max_table_nesting=1)
    cols = load.columns("one")
    assert cols["user__geo"] == "JSON" and cols["user__name"] == "VARCHAR"
    assert load.sql("SELECT user__geo->>'$.lat' FROM raw_src.one") == [("1.5",)]
    assert "one__tags" in load.tables()  # lists at level 1 are still child tables

    load([[record]], table="zero", max_table_nesting=0)
    cols = load.columns("zero")
    assert cols["user"] == "JSON" and cols["tags"] == "JSON"
    assert not [t for t in load.tables() if t.startswith("zero__")]
    assert load.sql("SELECT tags FROM raw_src.zero") == [('["x"]',)]


def test_child_tables_are_linked_dlt_style(load: Loader) -> None:
    result = load(
        [
            [
                {
                    "id": 1,
                    "lines": [{"sku": "a", "qty": 1, "serials": ["s1", "s2"]}, {"sku": "b"}],
                    "tags": ["red", "blue"],
                },
                {"id": 2, "lines": [], "tags": None},
            ]
        ],
        table="orders",
    )
    assert result.child_tables == {
        "orders__lines": 2,
        "orders__lines__serials": 2,
        "orders__tags": 2,
    }
    assert "lines" not in load.columns("orders") and "tags" not in load.columns("orders")
    lines = load.sql(
        "SELECT o.id, l.sku, l.qty, l._ra_list_idx, l._ra_root_id = o._ra_id "
        "FROM raw_src.orders o JOIN raw_src.orders__lines l ON l._ra_parent_id = o._ra_id "
        "ORDER BY l._ra_list_idx"
    )
    assert lines == [(1, "a", 1, 0, True), (1, "b", None, 1, True)]
    serials = load.sql(
        "SELECT l.sku, s.value, s._ra_list_idx, s._ra_root_id = o._ra_id "
        "FROM raw_src.orders__lines__serials s "
        "JOIN raw_src.orders__lines l ON s._ra_parent_id = l._ra_id "
        "JOIN raw_src.orders o ON s._ra_root_id = o._ra_id ORDER BY s._ra_list_idx"
    )
    assert serials == [("a", "s1", 0, True), ("a", "s2", 1, True)]
    assert load.sql("SELECT value FROM raw_src.orders__tags ORDER BY _ra_list_idx") == [
        ("red",),
        ("blue",),
    ]
    assert load.sql("SELECT DISTINCT _ra_load_id FROM raw_src.orders__tags") == [("load-001",)]


def test_nested_as_json_keeps_lists_in_a_column(load: Loader) -> None:
    load([[{"id": 1, "tags": ["a", "b"], "obj": {"k": 1}}]], nested_as_json=True)
    assert load.tables() == ["items"]
    assert load.sql("SELECT tags, obj__k FROM raw_src.items") == [('["a","b"]', 1)]


def test_merge_replaces_child_rows_of_replaced_parents(load: Loader) -> None:
    kw: dict[str, Any] = {"table": "orders", "disposition": "merge", "primary_key": "id"}
    load(
        [
            [
                {"id": 1, "lines": [{"sku": "a", "parts": [1, 2]}, {"sku": "b"}]},
                {"id": 2, "lines": [{"sku": "c", "parts": [3]}]},
                {"id": 3, "lines": [{"sku": "d"}]},
            ]
        ],
        **kw,
    )
    load(
        [[{"id": 1, "lines": [{"sku": "a2"}]}, {"id": 2, "lines": []}, {"id": 4, "lines": None}]],
        **kw,
    )
    assert load.sql(
        "SELECT o.id, l.sku FROM raw_src.orders__lines l "
        "JOIN raw_src.orders o ON l._ra_parent_id = o._ra_id ORDER BY o.id, l._ra_list_idx"
    ) == [(1, "a2"), (3, "d")]
    # grandchildren of replaced parents are gone too; none are orphaned
    assert load.sql("SELECT count(*) FROM raw_src.orders__lines__parts") == [(0,)]
    assert load.sql(
        "SELECT count(*) FROM raw_src.orders__lines l "
        "ANTI JOIN raw_src.orders o ON l._ra_parent_id = o._ra_id"
    ) == [(0,)]


def test_replace_empties_child_tables(load: Loader) -> None:
    load([[{"id": 1, "tags": ["a", "b"]}]], table="t")
    load([[{"id": 2}]], table="t", disposition="replace")
    assert load.sql("SELECT count(*) FROM raw_src.t__tags") == [(0,)]
    assert load.sql("SELECT id FROM raw_src.t") == [(2,)]


# ----------------------------------------------------------------------------- types


def test_explicit_column_types_are_applied(load: Loader) -> None:
    columns = {
        "n": {"data_type": "bigint"},
        "i": {"data_type": "integer"},
        "f": "double",
        "price": {"data_type": "decimal"},
        "ok": {"data_type": "bool"},
        "at": {"data_type": "timestamp"},
        "day": {"data_type": "date"},
        "clock": {"data_type": "time"},
        "code": {"data_type": "text"},
        "payload": {"data_type": "json"},
        "raw": {"data_type": "binary"},
        "absent": {"data_type": "string"},
    }
    record = {
        "n": "5",
        "i": 7,
        "f": "2.5",
        "price": "10.25",
        "ok": "true",
        "at": "2024-01-02T03:04:05+02:00",
        "day": "2024-01-02",
        "clock": "12:30:00",
        "code": 123,
        "payload": {"deep": {"x": 1}},
        "raw": "abc",
    }
    load([[record]], columns=columns)
    cols = load.columns("items")
    assert cols["n"] == "BIGINT" and cols["i"] == "BIGINT" and cols["f"] == "DOUBLE"
    assert cols["price"] == "DECIMAL(38,9)" and cols["ok"] == "BOOLEAN"
    assert cols["at"] == "TIMESTAMP WITH TIME ZONE" and cols["day"] == "DATE"
    assert cols["clock"] == "TIME" and cols["code"] == "VARCHAR" and cols["payload"] == "JSON"
    assert cols["raw"] == "BLOB" and cols["absent"] == "VARCHAR"
    assert not any(c.startswith("payload__") for c in cols)  # a json hint stops flattening
    row = load.sql(
        "SELECT n, f, price, ok, \"at\", day, clock, code, payload->>'$.deep.x', raw, absent "
        "FROM raw_src.items"
    )[0]
    assert row == (
        5,
        2.5,
        decimal.Decimal("10.25"),
        True,
        dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=dt.timezone.utc),
        dt.date(2024, 1, 2),
        dt.time(12, 30),
        "123",
        "1",
        b"abc",
        None,
    )


def test_unknown_type_is_a_config_error_naming_column_and_types(load: Loader) -> None:
    with pytest.raises(ConfigError) as info:
        load([[{"a": 1}]], columns={"amount": {"data_type": "money"}})
    message = str(info.value)
    assert "amount" in message and "money" in message
    assert "bigint" in message and "timestamp" in message
    assert not load.db.exists()  # refused before the database was touched


def test_column_hints_without_a_type_keep_the_inferred_type(load: Loader) -> None:
    hints = {
        "id": {"data_type": None, "nullable": False, "primary_key": True},
        "v": {"data_type": "text", "nullable": True, "primary_key": False},
    }
    load([[{"id": 1, "v": 2}]], columns=hints)
    assert load.columns("items")["id"] == "BIGINT" and load.columns("items")["v"] == "VARCHAR"


def test_records_without_fields_are_counted(load: Loader) -> None:
    result = load([[{}, {}], [{}]])
    assert (result.row_count, [c for c, _ in result.columns]) == (3, ["_ra_load_id", "_ra_id"])


def test_non_nullable_column_rejects_nulls(load: Loader) -> None:
    load([[{"id": 1, "name": "x"}]])
    with pytest.raises(LoadError, match="name"):
        load([[{"id": 2, "name": None}]], columns={"name": {"nullable": False}})
    assert load.sql("SELECT id FROM raw_src.items") == [(1,)]


def test_new_columns_are_added_on_the_fly(load: Loader) -> None:
    load([[{"id": 1}]])
    result = load([[{"id": 2, "extra": "x", "obj": {"k": True}}]])
    assert load.sql("SELECT id, extra, obj__k FROM raw_src.items ORDER BY id") == [
        (1, None, None),
        (2, "x", True),
    ]
    assert dict(result.columns)["obj__k"] == "BOOLEAN"


def test_type_changes_between_loads_widen(load: Loader) -> None:
    load([[{"id": 1, "n": 1, "x": 1}]])
    load([[{"id": 2, "n": 2.5, "x": "abc"}]])
    assert load.columns("items")["n"] == "DOUBLE"
    assert load.columns("items")["x"] == "VARCHAR"
    assert load.sql("SELECT n, x FROM raw_src.items ORDER BY id") == [(1.0, "1"), (2.5, "abc")]


def test_type_changes_between_pages_of_one_load_widen(load: Loader) -> None:
    load([[{"id": 1, "x": 1, "o": {"a": 1}}], [{"id": 2, "x": "abc", "o": "plain"}]])
    cols = load.columns("items")
    assert cols["x"] == "VARCHAR"
    assert load.sql("SELECT x FROM raw_src.items ORDER BY id") == [("1",), ("abc",)]
    # an object in one page and a string in another: kept whole, as JSON
    assert cols["o"] == "JSON"


def test_all_null_column_is_queryable_then_takes_real_type(load: Loader) -> None:
    load([[{"id": 1, "maybe": None}]])
    assert load.sql("SELECT maybe FROM raw_src.items") == [(None,)]
    load([[{"id": 2, "maybe": 42}]])
    assert load.columns("items")["maybe"] == "BIGINT"
    assert load.sql("SELECT maybe FROM raw_src.items ORDER BY id") == [(None,), (42,)]


# ----------------------------------------------------------------------------- identifiers


def test_hostile_identifiers_are_quoted(load: Loader) -> None:
    # about verbatim names: naming direct keeps the API's keys as they are
    schema = 'we"ird.schema'
    table = 'select"; DROP TABLE x; --'
    record = {
        "na'me": 1,
        'q"uote': 2,
        "dot.ted": 3,
        "with space": 4,
        "select": 5,
        "ünïcode ✓": 6,
        "nest": {"in'ner": {"x.y": 7}},
        "lst": [{"a b": 8}],
    }
    result = load([[record]], schema=schema, table=table, naming="direct")
    assert result.table_name == '"we""ird.schema"."select""; DROP TABLE x; --"'
    frame = read_table(load.db, schema, table)
    assert frame.loc[0, "na'me"] == 1 and frame.loc[0, 'q"uote'] == 2
    assert frame.loc[0, "dot.ted"] == 3 and frame.loc[0, "with space"] == 4
    assert frame.loc[0, "select"] == 5 and frame.loc[0, "ünïcode ✓"] == 6
    assert frame.loc[0, "nest__in'ner__x.y"] == 7
    child = read_table(load.db, schema, f"{table}__lst")
    assert child.loc[0, "a b"] == 8
    assert table_exists(load.db, schema, table)
    # a merge on a hostile key works too
    load([[{**record, "select": 50}]], schema=schema, table=table, disposition="merge",
         primary_key=["na'me"], naming="direct")  # fmt: skip
    assert read_table(load.db, schema, table)["select"].tolist() == [50]


# ----------------------------------------------------------------------------- atomicity


def test_failing_cast_in_last_file_rolls_back_everything(load: Loader) -> None:
    load([[{"id": 1, "n": "1", "tags": ["a"]}, {"id": 2, "n": "2"}]], table="t")
    before = load.sql("SELECT * FROM raw_src.t ORDER BY id")
    before_cols = load.columns("t")
    with pytest.raises(LoadError, match=r"rolled back.*four") as info:
        load(
            [
                [{"id": 3, "n": "3", "new_col": 1, "lst2": [1]}],
                [{"id": 4, "n": "four"}],  # cannot be cast to bigint
            ],
            table="t",
            disposition="replace",  # its DELETE ran before the failing INSERT
            columns={"n": {"data_type": "bigint"}},
        )
    assert isinstance(info.value.__cause__, duckdb.ConversionException)
    assert load.sql("SELECT * FROM raw_src.t ORDER BY id") == before
    assert load.columns("t") == before_cols
    assert load.tables() == ["t", "t__tags"]
    assert load.sql("SELECT value FROM raw_src.t__tags") == [("a",)]


# ----------------------------------------------------------------------------- empty loads


def test_empty_replace_empties_existing_table_and_keeps_columns(load: Loader) -> None:
    load([[{"id": 1, "tags": ["a"]}]])
    result = load([], disposition="replace")
    assert (result.row_count, result.rows_written) == (0, 0)
    assert load.sql("SELECT count(*) FROM raw_src.items") == [(0,)]
    assert load.sql("SELECT count(*) FROM raw_src.items__tags") == [(0,)]
    assert "id" in load.columns("items")


@pytest.mark.parametrize("disposition", ["append", "merge"])
def test_empty_append_or_merge_is_a_noop(load: Loader, disposition: str) -> None:
    load([[{"id": 1}, {"id": 2}]])
    result = load([], disposition=disposition, primary_key="id")
    assert (result.row_count, result.rows_written) == (2, 0)


def test_empty_load_creates_no_table(load: Loader) -> None:
    result = load([], disposition="replace")
    assert result.row_count == 0 and result.columns == []
    assert not table_exists(load.db, "raw_src", "items")


# ----------------------------------------------------------------------------- reading


def test_read_table_reads_some_columns(load: Loader) -> None:
    load([[{"id": 1, "v": "a"}]], load_id="0001")
    load([[{"id": 2, "v": "b"}, {"id": 3, "v": "c"}]], load_id="0002")
    frame = read_table(load.db, "raw_src", "items", columns=["id"])
    assert list(frame.columns) == ["id"] and sorted(frame["id"].tolist()) == [1, 2, 3]
    with pytest.raises(LoadError, match="does not exist"):
        read_table(load.db, "raw_src", "nope")


# ----------------------------------------------------------------------------- locking

HOLDER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("CREATE SCHEMA IF NOT EXISTS raw_src")
    con.execute("CREATE TABLE IF NOT EXISTS raw_src.other (x INTEGER)")
    con.execute("INSERT INTO raw_src.other VALUES (1)")
    print("locked", flush=True)
    if sys.argv[2] == "wait-stdin":
        sys.stdin.readline()
    else:
        time.sleep(float(sys.argv[2]))
    con.close()
    print("released", flush=True)
    """
)


def _hold_lock(db: Path, how: str) -> subprocess.Popen[str]:
    db.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), how],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_commit_waits_for_another_process_holding_the_lock(load: Loader) -> None:
    holder = _hold_lock(load.db, "1.0")
    try:
        # the other process holds the write lock now: the first attempt must fail, then retry
        result = load([[{"id": 1}]], lock_timeout=60)
    finally:
        holder.wait(timeout=60)
    assert result.row_count == 1
    assert load.sql("SELECT x FROM raw_src.other") == [(1,)]  # both writers' data is there


def test_lock_timeout_raises_a_clear_error(load: Loader) -> None:
    holder = _hold_lock(load.db, "wait-stdin")
    try:
        with pytest.raises(DatabaseLockedError, match="locked by another process"):
            load([[{"id": 1}]], lock_timeout=0.3)
    finally:
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
    assert not table_exists(load.db, "raw_src", "items")
