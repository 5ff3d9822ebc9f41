"""Write dispositions and merge strategies (rest_assets.load.dispositions) on real DuckDB
files: delete-insert with primary and merge keys, dedup_sort, hard_delete, upsert,
insert-only, scd2, source_filter / destination_scope, tables several resources share.
dlt's own results for the same loads are compared in tests/dlt_parity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rest_assets.config.tables import MergeStrategyConfig
from rest_assets.errors import ConfigError
from rest_assets.load import LoadError, LoadSpec, StagingArea, commit

UTC = dt.timezone.utc


class Loader:
    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "w.duckdb"
        self.stage = tmp_path / "stage"
        self.n = 0

    def __call__(self, records: list[Any], table: str = "t", **kw: Any) -> Any:
        self.n += 1
        strategy = kw.pop("strategy", None)
        options = kw.pop("options", {})
        if strategy is not None:
            kw["merge"] = MergeStrategyConfig(strategy=strategy, **options)
            kw.setdefault("write_disposition", "merge")
        with StagingArea(self.stage) as area:
            area.write(records)
            return commit(self.db, area, LoadSpec("raw", table, load_id=f"l{self.n}", **kw))

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(query).fetchall()


@pytest.fixture
def load(tmp_path: Path) -> Loader:
    return Loader(tmp_path)


MERGE = {"write_disposition": "merge"}


# ------------------------------------------------------------------------ delete-insert


def test_merge_key_replaces_the_partitions_in_the_load(load: Loader) -> None:
    load(
        [{"day": "d1", "id": 1}, {"day": "d1", "id": 2}, {"day": "d2", "id": 3}],
        **MERGE,
        merge_key="day",
    )
    load([{"day": "d1", "id": 9}, {"day": "d1", "id": 9}], **MERGE, merge_key="day")
    # the d1 partition replaced (no de-duplication without a primary key), d2 untouched
    assert load.sql("SELECT day, id FROM raw.t ORDER BY all") == [("d1", 9), ("d1", 9), ("d2", 3)]


def test_primary_and_merge_key_delete_either_match(load: Loader) -> None:
    first = [{"day": "d1", "id": 1}, {"day": "d1", "id": 2}, {"day": "d2", "id": 3}]
    load(first, **MERGE, merge_key="day", primary_key="id")
    load(
        [{"day": "d1", "id": 9}, {"day": "d9", "id": 3}], **MERGE, merge_key="day", primary_key="id"
    )
    assert load.sql("SELECT day, id FROM raw.t ORDER BY all") == [("d1", 9), ("d9", 3)]


def test_merge_key_as_a_column_hint(load: Loader) -> None:
    hint = {"columns": {"day": {"merge_key": True}}}
    load([{"day": "d1", "v": 1}, {"day": "d2", "v": 2}], **MERGE, **hint)
    load([{"day": "d1", "v": 10}], **MERGE, **hint)
    assert load.sql("SELECT day, v FROM raw.t ORDER BY all") == [("d1", 10), ("d2", 2)]


@pytest.mark.parametrize(
    ("sort", "kept"), [("desc", ("y", 2)), ("asc", ("z", 0)), (None, ("z", 0))]
)
def test_dedup_sort_picks_the_record_a_key_keeps(
    load: Loader, sort: str | None, kept: tuple[str, int]
) -> None:
    columns = {"s": {"dedup_sort": sort}} if sort else None
    records = [
        {"id": 1, "v": "x", "s": 1},
        {"id": 1, "v": "y", "s": 2},
        {"id": 1, "v": "z", "s": 0},
    ]
    load(records, **MERGE, primary_key="id", columns=columns)
    # without dedup_sort the last record of the load wins
    assert load.sql("SELECT v, s FROM raw.t") == [kept]


def test_deduplicated_keeps_every_record_of_a_key(load: Loader) -> None:
    records = [{"id": 1, "v": "x"}, {"id": 1, "v": "y"}]
    load(records, strategy="delete-insert", options={"deduplicated": True}, primary_key="id")
    assert load.sql("SELECT v FROM raw.t ORDER BY v") == [("x",), ("y",)]


def test_hard_delete_bool_and_any_value(load: Loader) -> None:
    hint = {"columns": {"deleted": {"hard_delete": True}}}
    load(
        [{"id": 1, "v": "a", "deleted": False}, {"id": 2, "v": "b", "deleted": False}],
        **MERGE,
        primary_key="id",
        **hint,
    )
    load(
        [
            {"id": 1, "v": "a", "deleted": True},
            {"id": 3, "v": "c", "deleted": True},
            {"id": 2, "v": "b2", "deleted": None},
        ],
        **MERGE,
        primary_key="id",
        **hint,
    )
    assert load.sql("SELECT id, v FROM raw.t ORDER BY id") == [(2, "b2")]
    stamp = {"columns": {"deleted_at": {"hard_delete": True}}}
    load([{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], table="u", **MERGE, primary_key="id", **stamp)
    load(
        [{"id": 1, "v": "a", "deleted_at": "2024-01-01"}, {"id": 2, "v": "b2"}],
        table="u",
        **MERGE,
        primary_key="id",
        **stamp,
    )
    assert load.sql("SELECT id, v FROM raw.u ORDER BY id") == [(2, "b2")]


def test_hard_delete_uses_the_record_dedup_sort_ranks_first(load: Loader) -> None:
    # dlt's docs example: the latest record of a key decides whether it is deleted
    hint = {"columns": {"deleted": {"hard_delete": True}, "at": {"dedup_sort": "desc"}}}
    load([{"id": 1, "at": 1, "deleted": False}], **MERGE, primary_key="id", **hint)
    load(
        [{"id": 1, "at": 3, "deleted": False}, {"id": 1, "at": 2, "deleted": True}],
        **MERGE,
        primary_key="id",
        **hint,
    )
    assert load.sql('SELECT id, "at" FROM raw.t') == [(1, 3)]


def test_merge_replaces_child_rows_and_skips_children_of_dropped_duplicates(load: Loader) -> None:
    load([{"id": 1, "tags": ["a", "b"]}], **MERGE, primary_key="id")
    load([{"id": 1, "tags": ["old"]}, {"id": 1, "tags": ["c"]}], **MERGE, primary_key="id")
    assert load.sql("SELECT value FROM raw.t__tags") == [("c",)]


# ------------------------------------------------------------------------ upsert, insert-only


def test_upsert_updates_inserts_and_deduplicates(load: Loader) -> None:
    load([{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], strategy="upsert", primary_key="id")
    load(
        [{"id": 2, "v": "B"}, {"id": 3, "v": "c"}, {"id": 3, "v": "C"}],
        strategy="upsert",
        primary_key="id",
    )
    assert load.sql("SELECT id, v FROM raw.t ORDER BY id") == [(1, "a"), (2, "B"), (3, "C")]


def test_upsert_ignores_the_merge_key(load: Loader) -> None:
    load(
        [{"id": 1, "v": "a"}, {"id": 2, "v": "a"}],
        strategy="upsert",
        primary_key="id",
        merge_key="v",
    )
    load([{"id": 3, "v": "a"}], strategy="upsert", primary_key="id", merge_key="v")
    assert load.sql("SELECT id FROM raw.t ORDER BY id") == [(1,), (2,), (3,)]


def test_upsert_hard_delete_deletes_matches_and_never_inserts_flagged(load: Loader) -> None:
    hint = {"columns": {"deleted": {"hard_delete": True}}}
    load([{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], strategy="upsert", primary_key="id", **hint)
    load(
        [{"id": 1, "v": "a", "deleted": True}, {"id": 5, "v": "e", "deleted": True}],
        strategy="upsert",
        primary_key="id",
        **hint,
    )
    assert load.sql("SELECT id FROM raw.t ORDER BY id") == [(2,)]


def test_upsert_skip_unchanged_rows_keeps_their_load_id(load: Loader) -> None:
    opts = {"skip_unchanged_rows": True}
    load(
        [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}],
        strategy="upsert",
        options=opts,
        primary_key="id",
    )
    load(
        [{"id": 1, "v": "a"}, {"id": 2, "v": "B"}],
        strategy="upsert",
        options=opts,
        primary_key="id",
    )
    assert load.sql("SELECT id, v, _ra_load_id FROM raw.t ORDER BY id") == [
        (1, "a", "l1"),
        (2, "B", "l2"),
    ]
    # compared on a version column: same version, no update even though v differs
    opts = {"skip_unchanged_rows": True, "row_version_column_name": "ver"}
    load(
        [{"id": 1, "v": "a", "ver": 1}],
        table="u",
        strategy="upsert",
        options=opts,
        primary_key="id",
    )
    load(
        [{"id": 1, "v": "CHANGED", "ver": 1}],
        table="u",
        strategy="upsert",
        options=opts,
        primary_key="id",
    )
    assert load.sql("SELECT v FROM raw.u") == [("a",)]


def test_upsert_and_insert_only_need_a_primary_key() -> None:
    for strategy in ("upsert", "insert-only"):
        with pytest.raises(ConfigError, match="needs a primary_key"):
            LoadSpec("raw", "t", "merge", merge=MergeStrategyConfig(strategy=strategy))


def test_insert_only_never_updates(load: Loader) -> None:
    load([{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], strategy="insert-only", primary_key="id")
    load([{"id": 2, "v": "B"}, {"id": 3, "v": "c"}], strategy="insert-only", primary_key="id")
    assert load.sql("SELECT id, v FROM raw.t ORDER BY id") == [(1, "a"), (2, "b"), (3, "c")]


# ------------------------------------------------------------------------ scd2


def _versions(load: Loader, table: str = "t") -> list[tuple[Any, ...]]:
    return load.sql(
        f"SELECT id, v, _dlt_valid_to IS NULL FROM raw.{table} ORDER BY id, _dlt_valid_from, v"
    )


def test_scd2_retires_changed_and_absent_records(load: Loader) -> None:
    load([{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}], strategy="scd2")
    load([{"id": 1, "v": "a"}, {"id": 2, "v": "B"}], strategy="scd2")
    assert _versions(load) == [(1, "a", True), (2, "b", False), (2, "B", True), (3, "c", False)]
    # validity columns: timestamps with time zone, one boundary per load
    cols = dict(
        load.sql("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 't'")
    )
    assert cols["_dlt_valid_from"] == cols["_dlt_valid_to"] == "TIMESTAMP WITH TIME ZONE"
    (retired,) = load.sql("SELECT _dlt_valid_to FROM raw.t WHERE v = 'b'")[0]
    (born,) = load.sql("SELECT _dlt_valid_from FROM raw.t WHERE v = 'B'")[0]
    assert retired == born
    # a record that comes back gets a new active row with its old row id
    load([{"id": 1, "v": "a"}, {"id": 2, "v": "B"}, {"id": 3, "v": "c"}], strategy="scd2")
    ids = load.sql("SELECT count(DISTINCT _ra_id), count(*) FROM raw.t WHERE id = 3")
    assert ids == [(1, 2)]


def test_scd2_with_merge_key_retires_only_keys_in_the_load(load: Loader) -> None:
    load(
        [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}],
        strategy="scd2",
        merge_key="id",
    )
    load([{"id": 2, "v": "B"}], strategy="scd2", merge_key="id")
    assert _versions(load) == [(1, "a", True), (2, "b", False), (2, "B", True), (3, "c", True)]


def test_scd2_options(load: Loader) -> None:
    opts = {
        "validity_column_names": ["valid_from", "valid_to"],
        "active_record_timestamp": "9999-12-31",
        "boundary_timestamp": "2024-06-01T12:00:00+02:00",
    }
    load([{"id": 1, "v": "a"}], strategy="scd2", options=opts)
    assert load.sql("SELECT valid_from, valid_to FROM raw.t") == [
        (dt.datetime(2024, 6, 1, 10, tzinfo=UTC), dt.datetime(9999, 12, 31, tzinfo=UTC))
    ]
    load([{"id": 1, "v": "b"}], strategy="scd2", options=opts)
    assert load.sql("SELECT v, valid_to = TIMESTAMPTZ '9999-12-31' FROM raw.t ORDER BY v") == [
        ("a", False),
        ("b", True),
    ]


def test_scd2_row_version_column_decides_what_is_a_new_version(load: Loader) -> None:
    opts = {"row_version_column_name": "ver"}
    load([{"id": 1, "v": "a", "ver": 1}], strategy="scd2", options=opts)
    load([{"id": 1, "v": "CHANGED", "ver": 1}], strategy="scd2", options=opts)
    assert _versions(load) == [(1, "a", True)]
    load([{"id": 1, "v": "b", "ver": 2}], strategy="scd2", options=opts)
    assert _versions(load) == [(1, "a", False), (1, "b", True)]


def test_scd2_hard_delete_retires_and_inserts_nothing(load: Loader) -> None:
    hint = {"columns": {"deleted": {"hard_delete": True}}, "merge_key": "id"}
    load([{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], strategy="scd2", **hint)
    load([{"id": 1, "v": "a", "deleted": True}], strategy="scd2", **hint)
    assert _versions(load) == [(1, "a", False), (2, "b", True)]


def test_scd2_inserts_identical_records_once_and_keeps_old_child_rows(load: Loader) -> None:
    load([{"id": 1, "tags": ["a"]}, {"id": 1, "tags": ["a"]}], strategy="scd2")
    assert load.sql("SELECT count(*) FROM raw.t") == [(1,)]
    load([{"id": 1, "tags": ["b"]}], strategy="scd2")
    assert load.sql("SELECT count(*) FROM raw.t") == [(2,)]
    # each version keeps its own child rows
    assert load.sql(
        "SELECT c.value, r._dlt_valid_to IS NULL FROM raw.t__tags c JOIN raw.t r "
        "ON c._ra_parent_id = r._ra_id ORDER BY 1"
    ) == [("a", False), ("b", True)]


# ------------------------------------------------------------------------ filters


def test_source_filter_and_destination_scope(load: Loader) -> None:
    opts = {"source_filter": "id > 1"}
    load(
        [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}],
        strategy="delete-insert",
        options=opts,
        primary_key="id",
    )
    assert load.sql("SELECT id FROM raw.t") == [(2,)]
    load([{"id": 1, "day": "d1"}, {"id": 2, "day": "d2"}], table="u", **MERGE, primary_key="id")
    scope = {"destination_scope": "day = 'd2'"}
    load(
        [{"id": 1, "day": "x"}, {"id": 2, "day": "y"}],
        table="u",
        strategy="delete-insert",
        options=scope,
        primary_key="id",
    )
    # id 1's old row is outside the scope: kept next to the new one
    assert load.sql("SELECT id, day FROM raw.u ORDER BY all") == [(1, "d1"), (1, "x"), (2, "y")]


# ------------------------------------------------------------------------ shared tables


def test_a_table_several_resources_share(load: Loader) -> None:
    load([{"id": 1, "v": "a"}], write_disposition="replace", resource="list")
    load([{"id": 1, "v": "b"}, {"id": 2, "v": "b"}], write_disposition="replace", resource="detail")
    # a replace replaces only its own resource's rows
    load([{"id": 3, "v": "a"}], write_disposition="replace", resource="list")
    assert load.sql("SELECT id, v, _ra_resource FROM raw.t ORDER BY all") == [
        (1, "b", "detail"),
        (2, "b", "detail"),
        (3, "a", "list"),
    ]
    # a merge matches keys across every resource's rows
    result = load([{"id": 1, "v": "m"}], **MERGE, primary_key="id", resource="list")
    assert load.sql("SELECT id, v, _ra_resource FROM raw.t ORDER BY all") == [
        (1, "m", "list"),
        (2, "b", "detail"),
        (3, "a", "list"),
    ]
    assert result.row_count == 2  # this resource's rows


def test_a_failing_merge_changes_nothing(load: Loader) -> None:
    load([{"id": 1, "v": "a", "tags": ["x"]}], **MERGE, primary_key="id")
    with pytest.raises(LoadError):
        load(
            [{"id": 1, "v": "b", "tags": ["y"]}],
            **MERGE,
            primary_key="id",
            columns={"v": {"data_type": "bigint"}},
        )
    assert load.sql("SELECT id, v FROM raw.t") == [(1, "a")]
    assert load.sql("SELECT value FROM raw.t__tags") == [("x",)]
