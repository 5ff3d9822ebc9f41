"""StagingArea: one orjson file per batch, counters, cleanup; LoadSpec validation."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import duckdb
import orjson
import pytest

from rest_assets.errors import ConfigError
from rest_assets.load import LoadSpec, StagedLoad, StagingArea, new_load_id


def test_one_file_per_batch_with_counters(tmp_path: Path) -> None:
    area = StagingArea(tmp_path / "stage")
    assert area.write([{"id": 1}, {"id": 2}]) == 2
    assert area.write([]) == 0  # an empty batch writes no file
    assert area.write([{"id": 3, "extra": {"a": [1, 2]}}]) == 1
    assert (area.rows, len(area.files)) == (3, 2)
    assert all(p.parent == tmp_path / "stage" for p in area.files)
    assert [orjson.loads(p.read_bytes()) for p in area.files] == [
        [{"id": 1}, {"id": 2}],
        [{"id": 3, "extra": {"a": [1, 2]}}],
    ]


def test_files_are_json_arrays_duckdb_reads_in_order(tmp_path: Path) -> None:
    with StagingArea(tmp_path / "s") as area:
        for b in range(3):
            area.write([{"n": b * 10 + i} for i in range(10)])
        files = ", ".join(f"'{p}'" for p in area.files)
        rows = duckdb.sql(f"SELECT n FROM read_json([{files}], format = 'array')").fetchall()
    assert [r[0] for r in rows] == list(range(30))


def test_non_json_values_are_stringified(tmp_path: Path) -> None:
    with StagingArea(tmp_path) as area:
        area.write(
            [
                {
                    "price": decimal.Decimal("1.10"),
                    "at": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
                    "by_id": {1: "one"},
                }
            ]
        )
        assert orjson.loads(area.files[0].read_bytes()) == [
            {"price": "1.10", "at": "2024-01-02T03:04:05+00:00", "by_id": {"1": "one"}}
        ]


def test_context_manager_removes_only_its_files(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    keep = shared / "someone-else.json"
    keep.write_text("[]")
    with StagingArea(shared) as area:
        area.write([{"a": 1}])
        other = StagingArea(shared)
        other.write([{"b": 2}])
        assert len(list(shared.iterdir())) == 3
    assert sorted(p.name for p in shared.iterdir()) == sorted([keep.name, other.files[0].name])
    assert area.files == []


def test_private_temporary_directory_is_removed() -> None:
    area = StagingArea()
    area.write([{"a": 1}])
    directory = area.directory
    assert directory.is_dir()
    area.cleanup()
    assert not directory.exists()


def test_created_directory_is_removed_when_empty(tmp_path: Path) -> None:
    target = tmp_path / "new" / "stage"
    with StagingArea(target) as area:
        area.write([{"a": 1}])
    assert not target.exists()
    assert (tmp_path / "new").exists()


def test_load_spec_validates_and_normalizes(tmp_path: Path) -> None:
    area = StagingArea(tmp_path)
    spec = LoadSpec("raw_x", "t", "merge", primary_key="id")
    assert spec.primary_key == ("id",)
    assert spec.load_id
    assert StagedLoad(area, spec).spec is spec
    with pytest.raises(ConfigError, match="write_disposition"):
        LoadSpec("raw_x", "t", "upsert")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_table_nesting"):
        LoadSpec("raw_x", "t", max_table_nesting=-1)
    with pytest.raises(ConfigError, match="money"):
        LoadSpec("raw_x", "t", columns={"amount": "money"})  # before any database is touched


def test_load_ids_sort_by_time() -> None:
    ids = [new_load_id() for _ in range(50)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 50
