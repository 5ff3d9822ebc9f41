"""Records DuckDB cannot read as they are (rest_assets.load.repair): every value is kept under
a documented name, or stored as JSON, and the load says what it did. Real DuckDB files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rest_assets.load import LoadSpec, StagingArea, commit
from rest_assets.load.repair import DEPTH_LIMIT, looks_renamed


class Loader:
    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "w.duckdb"
        self.stage = tmp_path / "stage"
        self.n = 0

    def __call__(self, batches: list[list[Any]], table: str = "t", **kw: Any) -> Any:
        self.n += 1
        with StagingArea(self.stage) as area:
            for batch in batches:
                area.write(batch)
            return commit(self.db, area, LoadSpec("raw", table, load_id=f"l{self.n}", **kw))

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(query).fetchall()

    def columns(self, table: str = "t") -> list[str]:
        rows = self.sql(
            f"SELECT column_name FROM duckdb_columns() WHERE table_name = '{table}' "
            "ORDER BY column_index"
        )
        return [c for (c,) in rows if not c.startswith("_ra_")]


@pytest.fixture
def load(tmp_path: Path) -> Loader:
    return Loader(tmp_path)


@pytest.mark.parametrize("naming", ["snake_case", "direct"])
def test_keys_differing_only_in_case_keep_every_value(load: Loader, naming: str) -> None:
    # in one record, and on another page
    result = load(
        [[{"id": 1, "Name": "upper", "name": "lower"}], [{"id": 2, "name": "p2"}]], naming=naming
    )
    if naming == "snake_case":
        # the key already spelled as the column keeps the name
        assert load.sql("SELECT id, name, name_2 FROM raw.t ORDER BY id") == [
            (1, "lower", "upper"),
            (2, "p2", None),
        ]
    else:
        # direct: the first in code-point order (Name) keeps it
        assert load.sql('SELECT id, "Name", name_2 FROM raw.t ORDER BY id') == [
            (1, "upper", "lower"),
            (2, None, "p2"),
        ]
    assert any("differ only in case" in n for n in result.notes)


def test_keys_differing_only_in_case_get_one_column_each_over_the_whole_load(
    load: Loader,
) -> None:
    # decided by the keys seen anywhere in the load, not by which page showed one first
    load(
        [
            [{"id": 1, "Name": "upper"}],
            [{"id": 2, "name": "lower"}],
            [{"id": 3, "NAME": "x", "name": "y"}],
        ]
    )
    rows = load.sql("SELECT id, name, name_2, name_3 FROM raw.t ORDER BY id")
    assert rows == [(1, None, None, "upper"), (2, "lower", None, None), (3, "y", "x", None)]


def test_the_rename_does_not_depend_on_record_order(load: Loader) -> None:
    load([[{"name": "a", "Name": "A"}]], table="one")
    load([[{"Name": "A", "name": "a"}]], table="two")
    assert (
        load.sql("SELECT name, name_2 FROM raw.one")
        == load.sql("SELECT name, name_2 FROM raw.two")
        == [("a", "A")]
    )


def test_empty_and_nested_case_keys(load: Loader) -> None:
    load([[{"id": 1, "": "blank", "obj": {"K": 1, "k": 2}, "items": [{"A": 1, "a": 2}]}]])
    assert load.sql("SELECT _empty, obj__k, obj__k_2 FROM raw.t") == [("blank", 2, 1)]
    assert load.sql("SELECT a, a_2 FROM raw.t__items") == [(2, 1)]


def test_genuinely_suffixed_keys_are_left_alone(load: Loader) -> None:
    assert looks_renamed([("address", "VARCHAR"), ("address_1", "VARCHAR")])
    result = load([[{"address": "a", "address_1": "b"}]])
    assert load.columns() == ["address", "address_1"]
    assert result.notes == ()


@pytest.mark.parametrize(
    "records", [[1, 2, 3], ["a", "b"], [{"id": 1}, 2]], ids=["ints", "strings", "mixed"]
)
def test_records_that_are_not_objects_are_wrapped(load: Loader, records: list[Any]) -> None:
    result = load([records])
    rows = load.sql("SELECT * EXCLUDE (_ra_load_id, _ra_id) FROM raw.t")
    assert len(rows) == len(records)
    assert "value" in load.columns()
    assert any('{"value": record}' in n for n in result.notes)


def _deep(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"leaf": depth}
    for _ in range(depth - 1):
        node = {"n": node}
    return node


@pytest.mark.parametrize("depth", [130, 300], ids=["beyond DuckDB", "beyond orjson"])
@pytest.mark.parametrize("nested_as_json", [False, True])
def test_nesting_deeper_than_duckdb_reads_is_kept_as_json(
    load: Loader, depth: int, nested_as_json: bool
) -> None:
    tree = _deep(depth)
    result = load(
        [[{"id": 1, "tree": tree}, {"id": 2, "tree": {"n": {"leaf": 0}}}]],
        nested_as_json=nested_as_json,
    )
    json_cols = [
        c for (c,) in load.sql("SELECT column_name FROM duckdb_columns() WHERE data_type = 'JSON'")
    ]
    assert len(json_cols) == 1
    (value,) = load.sql(f'SELECT "{json_cols[0]}" FROM raw.t WHERE id = 1')[0]
    stored = json.loads(value)
    probe = tree
    for _ in range(json_cols[0].count("__")):
        probe = probe["n"]
    assert stored == probe  # every level below is there
    assert any(f"deeper than {DEPTH_LIMIT} levels" in n for n in result.notes)


def test_a_string_of_tens_of_megabytes(load: Loader) -> None:
    big = "x" * (40 * 1024 * 1024)
    load([[{"id": 1, "body": big}, {"id": 2, "body": "small"}]])
    assert load.sql("SELECT id, length(body) FROM raw.t ORDER BY id") == [(1, len(big)), (2, 5)]
