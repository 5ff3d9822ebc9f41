"""DuckDBIOManager through real Dagster runs on a file-backed instance and a real DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pytest

from rest_assets.dagster.io_manager import DuckDBIOManager, StagedTable, table_for_key
from rest_assets.load import LoadSpec, StagedLoad, StagingArea, commit
from tests.support.metadata import child_figures

UPSTREAM = dg.AssetKey(["blog", "posts"])


def _staged_asset(
    batches_by_run: list[list[list[dict[str, Any]]]],
    stage_dir: Path,
    **table_kwargs: Any,
) -> dg.AssetsDefinition:
    """An extraction-like asset: run n stages batches_by_run[n] and returns a StagedTable."""
    runs = iter(batches_by_run)

    @dg.asset(key=UPSTREAM)
    def posts() -> StagedTable:
        area = StagingArea(stage_dir)
        for batch in next(runs):
            area.write(batch)
        return StagedTable(
            StagedLoad(area, LoadSpec(schema="raw_blog", table="posts", **table_kwargs)),
            metadata={"pages": 2, "requests": 3, "cursor": "2024-01-01"},
        )

    return posts


def _metadata(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, Any]:
    event = instance.get_latest_materialization_event(key)
    assert event is not None and event.asset_materialization is not None
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A real, file-backed Dagster instance in its own temporary DAGSTER_HOME."""
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "dir" / "warehouse.duckdb"  # parents do not exist yet


def test_staged_table_is_committed_with_metadata(
    tmp_path: Path, database: Path, instance: dg.DagsterInstance
) -> None:
    stage_dir = tmp_path / "stage"
    posts = _staged_asset(
        [
            [[{"id": 1, "title": "a", "tags": ["x", "y"]}], [{"id": 2, "title": "b"}]],
            [[{"id": 2, "title": "b2", "tags": ["z"]}, {"id": 3, "title": "c"}]],
        ],
        stage_dir,
        write_disposition="merge",
        primary_key=["id"],
    )
    manager = DuckDBIOManager(database=str(database))
    result = dg.materialize([posts], instance=instance, resources={"io_manager": manager})
    assert result.success
    meta = _metadata(instance, UPSTREAM)
    assert meta["dagster/row_count"] == 2
    assert meta["dagster/table_name"] == "warehouse.raw_blog.posts"
    assert meta["rows_written"] == 2
    assert child_figures(meta, "rows_written") == {"posts__tags": 2}
    assert (meta["pages"], meta["requests"], meta["cursor"]) == (2, 3, "2024-01-01")
    schema = meta["dagster/column_schema"]
    assert isinstance(schema, dg.TableSchema)
    columns = {c.name: c.type for c in schema.columns}
    assert columns["id"] == "BIGINT" and columns["title"] == "VARCHAR"
    assert "_ra_load_id" in columns and "tags" not in columns
    first_load = meta["load_id"]
    assert _rows(database, "SELECT DISTINCT _ra_load_id FROM raw_blog.posts") == [(first_load,)]
    assert list(stage_dir.glob("*")) == []  # staged files removed after the commit

    result = dg.materialize([posts], instance=instance, resources={"io_manager": manager})
    assert result.success
    meta = _metadata(instance, UPSTREAM)
    assert (meta["dagster/row_count"], meta["rows_written"]) == (3, 2)
    assert meta["load_id"] != first_load
    assert _rows(database, "SELECT id, title FROM raw_blog.posts ORDER BY id") == [
        (1, "a"),
        (2, "b2"),
        (3, "c"),
    ]
    assert _rows(database, "SELECT value FROM raw_blog.posts__tags ORDER BY value") == [
        ("x",),
        ("y",),
        ("z",),
    ]


def test_failed_commit_fails_the_run_and_keeps_table(
    tmp_path: Path, database: Path, instance: dg.DagsterInstance
) -> None:
    stage_dir = tmp_path / "stage"
    posts = _staged_asset(
        [
            [[{"id": 1, "n": "1"}, {"id": 2, "n": "2"}]],
            [[{"id": 3, "n": "3"}], [{"id": 4, "n": "not a number"}]],
        ],
        stage_dir,
        write_disposition="replace",
        columns={"n": {"data_type": "bigint"}},
    )
    resources = {"io_manager": DuckDBIOManager(database=str(database))}
    assert dg.materialize([posts], instance=instance, resources=resources).success
    before = instance.get_latest_materialization_event(UPSTREAM)

    result = dg.materialize([posts], instance=instance, resources=resources, raise_on_error=False)
    assert not result.success
    after = instance.get_latest_materialization_event(UPSTREAM)
    assert before is not None and after is not None
    assert after.run_id == before.run_id  # no new materialization, no new metadata
    assert _rows(database, "SELECT id, n FROM raw_blog.posts ORDER BY id") == [(1, 1), (2, 2)]
    assert list(stage_dir.glob("*")) == []


def test_downstream_dataframe_assets(
    tmp_path: Path, database: Path, instance: dg.DagsterInstance
) -> None:
    posts = _staged_asset(
        [[[{"id": 1, "author": "ann"}, {"id": 2, "author": "bob"}, {"id": 3, "author": "ann"}]]],
        tmp_path / "stage",
        write_disposition="replace",
    )

    @dg.asset(key=["analytics", "authors"])
    def authors(posts: pd.DataFrame) -> pd.DataFrame:
        # the upstream key is blog/posts, its table raw_blog.posts: found via its metadata
        return posts.groupby("author", as_index=False).agg(n=("id", "count"))

    @dg.asset(ins={"authors": dg.AssetIn(key=["analytics", "authors"])})
    def top_author(authors: pd.DataFrame) -> pd.DataFrame:
        return authors.sort_values("n", ascending=False).head(1)

    resources = {"io_manager": DuckDBIOManager(database=str(database))}
    assert dg.materialize([posts], instance=instance, resources=resources).success
    # a later run of the downstream assets alone reads the upstream table found via the instance
    result = dg.materialize(
        [posts, authors, top_author],
        instance=instance,
        resources=resources,
        selection=[authors.key, top_author.key],
    )
    assert result.success
    meta = _metadata(instance, authors.key)
    assert meta["dagster/table_name"] == "warehouse.analytics.authors"
    assert meta["dagster/row_count"] == 2 and meta["rows_written"] == 2
    assert [c.name for c in meta["dagster/column_schema"].columns] == ["author", "n"]
    assert _rows(database, "SELECT author, n FROM analytics.authors ORDER BY author") == [
        ("ann", 2),
        ("bob", 1),
    ]
    assert _metadata(instance, top_author.key)["dagster/table_name"] == "warehouse.main.top_author"
    assert _rows(database, "SELECT author, n FROM main.top_author") == [("ann", 2)]

    # replacing again swaps the rows instead of adding to them
    assert dg.materialize(
        [posts, authors], instance=instance, resources=resources, selection=[authors.key]
    ).success
    assert _rows(database, "SELECT count(*) FROM analytics.authors") == [(2,)]


def test_upstream_table_from_definition_metadata(
    tmp_path: Path, database: Path, instance: dg.DagsterInstance
) -> None:
    # a table written outside Dagster, announced by the upstream's definition metadata
    with StagingArea(tmp_path / "s") as area:
        area.write([{"k": 1}, {"k": 2}])
        commit(database, area, LoadSpec("raw_ext", "things", "append", load_id="x"))

    @dg.asset(key=["ext", "things"], metadata={"dagster/table_name": "raw_ext.things"})
    def things() -> None:
        raise AssertionError("not selected")

    @dg.asset(ins={"things": dg.AssetIn(key=["ext", "things"], metadata={"columns": ["k"]})})
    def total(things: pd.DataFrame) -> pd.DataFrame:
        assert list(things.columns) == ["k"]
        return pd.DataFrame({"total": [int(things["k"].sum())]})

    resources = {"io_manager": DuckDBIOManager(database=str(database))}
    result = dg.materialize(
        [things, total], instance=instance, resources=resources, selection=[total.key]
    )
    assert result.success
    assert _rows(database, "SELECT total FROM main.total") == [(3,)]


def test_missing_upstream_table_loads_empty_frame_and_none_writes_nothing(
    database: Path, instance: dg.DagsterInstance
) -> None:
    @dg.asset(key=["src", "nothing"])
    def nothing() -> None:
        return None

    @dg.asset(ins={"nothing": dg.AssetIn(key=["src", "nothing"])})
    def count_nothing(nothing: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"rows": [len(nothing)]})

    resources = {"io_manager": DuckDBIOManager(database=str(database))}
    assert dg.materialize([nothing, count_nothing], instance=instance, resources=resources).success
    assert _rows(database, "SELECT rows FROM main.count_nothing") == [(0,)]
    assert _rows(database, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'src'") == [
        (0,)
    ]


def test_unsupported_output_type_is_a_clear_error(
    database: Path, instance: dg.DagsterInstance
) -> None:
    @dg.asset
    def bad() -> dict[str, int]:
        return {"a": 1}

    with pytest.raises(TypeError, match="StagedTable, a pandas DataFrame"):
        dg.materialize(
            [bad],
            instance=instance,
            resources={"io_manager": DuckDBIOManager(database=str(database))},
        )


def test_table_for_key_convention() -> None:
    assert table_for_key(dg.AssetKey(["a", "b", "c"])) == ("a_b", "c")
    assert table_for_key(dg.AssetKey(["solo"])) == ("main", "solo")


def test_staged_table_carries_its_own_metadata(tmp_path: Path) -> None:
    staged = StagedTable(StagedLoad(StagingArea(tmp_path), LoadSpec("raw_x", "t")))
    assert staged.metadata == {}
