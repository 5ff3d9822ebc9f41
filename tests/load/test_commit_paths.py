"""The commit's read paths land the same rows: streamed with the schema the staging area's
background probe inferred, streamed with a schema inferred at commit time (chunks
disagreed), and the temporary-table path taken for plain file lists. With lists in the
records, the first two parse the files once into a temporary table shared by the root and
child inserts; without, they stream the files straight into the table.

Real DuckDB files under tmp_path; tables are compared row for row, ids included.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rest_assets.load import LoadSpec, StagingArea, commit, probe

Batches = Sequence[list[dict[str, Any]]]

CASES: dict[str, list[Batches]] = {
    "uniform with nested object and scalar list": [
        [
            [{"id": i, "a": {"b": i, "c": "x"}, "tags": ["t", str(i)]} for i in range(5)],
            [{"id": i, "a": {"b": i, "c": "y"}, "tags": []} for i in range(5, 9)],
        ]
    ],
    "field appears in a later page": [
        [[{"id": 1, "name": "a"}], [{"id": 2, "name": "b", "late": 1.5}]],
    ],
    "type changes between pages": [
        [[{"id": 1, "v": 1}], [{"id": 2, "v": "two"}], [{"id": 3, "v": {"k": 1}}]],
    ],
    "nested key appears later, list of objects": [
        [
            [{"id": 1, "o": {"x": 1}, "items": [{"sku": "a", "q": 1}, {"sku": "b", "q": 2}]}],
            [{"id": 2, "o": {"x": 2, "y": "n"}, "items": [{"sku": "c", "q": 3, "extra": True}]}],
        ]
    ],
    "merge: duplicates across pages and loads, last wins": [
        [[{"id": 1, "v": "old", "l": [1]}, {"id": 2, "v": "keep"}], [{"id": 1, "v": "new"}]],
        [[{"id": 2, "v": "again", "l": [7, 8]}], [{"id": 3, "v": "third"}]],
    ],
    "nulls only in one page": [
        [[{"id": 1, "n": None}], [{"id": 2, "n": 5}]],
    ],
}


def _tables(db: Path) -> dict[str, tuple[list[tuple[str, str]], list[tuple[Any, ...]]]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        names = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw' ORDER BY 1"
        ).fetchall()
        for (name,) in names:
            cols = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE schema_name = 'raw' AND table_name = ? ORDER BY column_index",
                [name],
            ).fetchall()
            rows = con.execute(f'SELECT * FROM raw."{name}"').fetchall()
            out[name] = (cols, sorted(rows, key=repr))
        return out
    finally:
        con.close()


def _load(
    tmp: Path, loads: list[Batches], how: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    db = tmp / f"{how}.duckdb"
    disposition = "merge" if len(loads) > 1 else "replace"
    for n, batches in enumerate(loads):
        area = StagingArea(tmp / f"stage-{how}-{n}")
        with monkeypatch.context() as patch:
            if how == "probe_per_file":
                # every file is its own chunk: chunks that disagree make the probe give up
                patch.setattr(probe, "PROBE_CHUNK_BYTES", 1)
            for batch in batches:
                area.write(batch)
            source: Any = area
            if how == "file_list":
                source = area.files
            elif how == "no_probe":
                source = StagingArea(tmp / f"copy-{n}", infer_schema=False)
                for batch in batches:
                    source.write(batch)
            commit(db, source, LoadSpec("raw", "items", disposition, "id", load_id=f"load-{n}"))
        area.cleanup()
        if how == "no_probe":
            source.cleanup()
    return _tables(db)


@pytest.mark.parametrize("case", list(CASES))
def test_every_read_path_lands_the_same_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    reference = _load(tmp_path, CASES[case], "file_list", monkeypatch)
    assert reference["items"][1], "the reference load wrote nothing"
    for how in ("probe", "probe_per_file", "no_probe"):
        assert _load(tmp_path, CASES[case], how, monkeypatch) == reference, how


def test_probe_agrees_only_when_every_chunk_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe, "PROBE_CHUNK_BYTES", 1)
    with StagingArea(tmp_path / "same") as area:
        area.write([{"id": 1, "s": "a"}])
        area.write([{"id": 2, "s": "b"}])
        assert area.inferred_columns() == [("id", "BIGINT"), ("s", "VARCHAR")]
    with StagingArea(tmp_path / "differ") as area:
        area.write([{"id": 1}])
        area.write([{"id": 2, "s": "b"}])
        assert area.inferred_columns() is None


def test_rows_staged_after_the_probe_ended_are_committed(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with StagingArea(tmp_path / "s") as area:
        area.write([{"id": 1}])
        assert area.inferred_columns() == [("id", "BIGINT")]
        area.write([{"id": 2, "added": "later"}])
        assert area.inferred_columns() is None  # the later file was never probed
        result = commit(db, area, LoadSpec("raw", "t", "replace", load_id="l1"))
    assert result.rows_written == 2
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT id, added FROM raw.t ORDER BY id").fetchall()
    finally:
        con.close()
    assert rows == [(1, None), (2, "later")]


def test_child_rows_link_to_their_own_parent_across_files(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    with StagingArea(tmp_path / "s") as area:
        for page in range(3):
            area.write(
                [
                    {"id": page * 10 + i, "tags": [f"{page}-{i}-{j}" for j in range(i)]}
                    for i in range(4)
                ]
            )
        commit(db, area, LoadSpec("raw", "items", "replace", load_id="l1"))
    con = duckdb.connect(str(db), read_only=True)
    try:
        pairs = con.execute(
            "SELECT i.id, t.value, t._ra_list_idx FROM raw.items__tags t "
            "JOIN raw.items i ON i._ra_id = t._ra_parent_id ORDER BY 1, 3"
        ).fetchall()
        ids = con.execute("SELECT count(DISTINCT _ra_id), count(*) FROM raw.items").fetchone()
    finally:
        con.close()
    expected = [
        (page * 10 + i, f"{page}-{i}-{j}", j)
        for page in range(3)
        for i in range(4)
        for j in range(i)
    ]
    assert pairs == expected
    assert ids == (12, 12)


def test_memory_limit_is_accepted_and_none_keeps_duckdb_default(tmp_path: Path) -> None:
    for limit in ("64MB", None):
        db = tmp_path / f"m{limit}.duckdb"
        with StagingArea(tmp_path / "s") as area:
            area.write([{"id": i} for i in range(100)])
            spec = LoadSpec("raw", "t", "replace", load_id="l", memory_limit=limit)
            result = commit(db, area, spec)
        assert result.row_count == 100
    shutil.rmtree(tmp_path / "s", ignore_errors=True)


def test_a_load_over_the_memory_cap_is_retried_without_it(tmp_path: Path) -> None:
    # 400 columns: DuckDB buffers every column while inserting, more than a 2 MB cap holds
    records = [{f"c{j}": f"v{i}-{j}" for j in range(400)} | {"id": i} for i in range(50)]
    db = tmp_path / "wide.duckdb"
    with StagingArea(tmp_path / "s") as area:
        area.write(records)
        spec = LoadSpec("raw", "wide", "replace", load_id="l", memory_limit="2MB")
        result = commit(db, area, spec)
    assert result.rows_written == 50
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT c399 FROM raw.wide WHERE id = 49").fetchall() == [("v49-399",)]
    finally:
        con.close()
