"""Shaping the assets: key prefix, group, owners, tags, automation, code version; DuckDBResource."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from rest_assets import ResourceAssetData, RestAssetsTranslator, build_definitions
from rest_assets.demo.server import LocalAPI, Response


@pytest.fixture
def api() -> Iterator[LocalAPI]:
    api = LocalAPI()
    api.route("GET", "/posts", lambda r: Response([{"id": 1, "t": "a"}, {"id": 2, "t": "b"}]))
    api.route("GET", "/posts/", lambda r: Response({"id": 10, "c": "x"}), prefix=True)
    with api:
        yield api


def _config(api: LocalAPI, source: dict[str, Any] | None = None, **child: Any) -> dict[str, Any]:
    return {
        "sources": [
            {
                "name": "blog",
                "client": {"base_url": api.url, "paginator": "single_page"},
                "resources": [
                    {"name": "posts", "primary_key": "id"},
                    {"name": "comments", "endpoint": "posts/{resources.posts.id}", **child},
                ],
                **(source or {}),
            }
        ]
    }


def test_yaml_settings_shape_keys_groups_owners_tags_and_automation(
    api: LocalAPI, tmp_path: Path
) -> None:
    config = _config(
        api,
        {
            "key_prefix": ["raw"],
            "group": "ingest",
            "owners": ["team:data"],
            "tags": {"tier": "bronze"},
        },
        automation_condition="eager",
        tags={"pii": "no"},
        code_version="v7",
    )
    graph = build_definitions(config, database=tmp_path / "w.duckdb").resolve_asset_graph()
    posts, comments = (
        dg.AssetKey(["raw", "blog", "posts"]),
        dg.AssetKey(["raw", "blog", "comments"]),
    )
    assert graph.get(comments).parent_keys == {posts}
    node = graph.get(comments)
    assert node.group_name == "ingest"
    assert node.owners == ["team:data"]
    assert node.tags["tier"] == "bronze" and node.tags["pii"] == "no"
    assert node.automation_condition is not None
    assert node.automation_condition.get_label() == "eager"
    assert node.code_version == "v7"
    assert graph.get(posts).automation_condition is None
    # the checks follow the prefixed key
    assert dg.AssetCheckKey(posts, "primary_key_unique") in graph.asset_check_keys


def test_code_version_changes_with_the_resource_config(api: LocalAPI, tmp_path: Path) -> None:
    def version(**child: Any) -> str | None:
        graph = build_definitions(_config(api, **child), database=tmp_path / "w.duckdb")
        return graph.resolve_asset_graph().get(dg.AssetKey(["blog", "comments"])).code_version

    assert version() == version()
    assert version() != version(primary_key="id")
    assert version() is not None and len(version() or "") == 16


def test_on_cron_automation_and_a_clear_error_for_a_bad_one(api: LocalAPI, tmp_path: Path) -> None:
    config = _config(api, automation_condition={"on_cron": "0 * * * *"})
    graph = build_definitions(config, database=tmp_path / "w.duckdb").resolve_asset_graph()
    condition = graph.get(dg.AssetKey(["blog", "comments"])).automation_condition
    assert condition is not None and "0 * * * *" in str(condition.get_label())
    with pytest.raises(Exception, match="automation_condition"):
        build_definitions(_config(api, automation_condition="sometimes"), database=tmp_path / "x")


def test_a_python_translator_renames_keys_and_lineage_follows(
    api: LocalAPI, tmp_path: Path
) -> None:
    class Warehouse(RestAssetsTranslator):
        def get_asset_spec(self, data: ResourceAssetData) -> dg.AssetSpec:
            spec = super().get_asset_spec(data)
            return spec.replace_attributes(
                key=dg.AssetKey(["lake", data.source.name, data.resource.name.upper()]),
                group_name="lake",
            )

    defs = build_definitions(_config(api), database=tmp_path / "w.duckdb", translator=Warehouse())
    graph = defs.resolve_asset_graph()
    posts, comments = (
        dg.AssetKey(["lake", "blog", "POSTS"]),
        dg.AssetKey(["lake", "blog", "COMMENTS"]),
    )
    assert graph.get(comments).parent_keys == {posts}
    assert graph.get(posts).group_name == "lake"
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            list(defs.assets or []), instance=instance, resources=defs.resources
        )
        assert result.success
        assert {e.asset_key for e in result.get_asset_materialization_events()} == {posts, comments}


def test_user_sql_asset_reads_the_same_database_through_dagster_duckdb(
    api: LocalAPI, tmp_path: Path
) -> None:
    defs = build_definitions(_config(api), database=tmp_path / "w.duckdb")

    @dg.asset(deps=[dg.AssetKey(["blog", "posts"])])
    def post_count(duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as con:
            (count,) = con.execute("SELECT count(*) FROM raw_blog.posts").fetchone() or (0,)
        return dg.MaterializeResult(metadata={"posts": int(count)})

    @dg.asset(ins={"posts": dg.AssetIn(key=dg.AssetKey(["blog", "posts"]))})
    def titles(posts: pd.DataFrame) -> pd.DataFrame:
        return posts[["id", "t"]]

    merged = dg.Definitions.merge(defs, dg.Definitions(assets=[post_count, titles]))
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            list(merged.assets or []), instance=instance, resources=merged.resources
        )
        assert result.success
        (count,) = [
            e.materialization.metadata["posts"].value
            for e in result.get_asset_materialization_events()
            if e.asset_key == dg.AssetKey("post_count")
        ]
        assert count == 2
        assert result.output_for_node("titles")["t"].tolist() == ["a", "b"]
