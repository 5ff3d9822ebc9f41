"""What the UI's asset page reads, through Dagster's GraphQL on a code location loaded in its
own process (as `dagster dev` loads `definitions.py`): code version, qualified table name,
code reference to the config line, column descriptions, and an edited endpoint showing as
changed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql

from rest_assets import asset_key, build_definitions
from rest_assets.demo.api import DemoAPI

DEMO_YAML = Path(__file__).resolve().parents[2] / "rest_assets" / "demo" / "sources.yml"
POSTS = asset_key("blog", "posts")
COMMENTS = asset_key("blog", "comments")

ENTRY = """
fragment Entry on MetadataEntry {
  label
  __typename
  ... on TextMetadataEntry { text }
  ... on PathMetadataEntry { path }
  ... on IntMetadataEntry { intValue }
  ... on TableSchemaMetadataEntry {
    schema { columns { name type description constraints { nullable unique other } } }
  }
  ... on CodeReferencesMetadataEntry {
    codeReferences { __typename ... on LocalFileCodeReference { filePath lineNumber label } }
  }
  ... on TableColumnLineageMetadataEntry {
    lineage { columnName columnDeps { assetKey { path } columnName } }
  }
}
"""
ASSETS = (
    ENTRY
    + """
query Assets($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    opVersion
    description
    kinds
    storageAddress { tableName storageKind }
    staleStatus
    staleCauses { key { path } category reason }
    metadataEntries { ...Entry }
    assetMaterializations(limit: 1) { metadataEntries { ...Entry } }
  }
}
"""
)

pytestmark = pytest.mark.timeout(300)


def _project(tmp_path: Path) -> tuple[Path, Path, Path]:
    project = tmp_path / "project"
    project.mkdir()
    config = Path(shutil.copy(DEMO_YAML, project / "sources.yml"))
    database = tmp_path / "warehouse.duckdb"
    code = project / "definitions.py"
    code.write_text(
        "from pathlib import Path\n"
        "from rest_assets import build_definitions\n"
        "here = Path(__file__).parent\n"
        f"defs = build_definitions(here / 'sources.yml', database={str(database)!r})\n"
    )
    return config, database, code


def _nodes(code: Path, instance: dg.DagsterInstance) -> dict[str, dict[str, Any]]:
    with define_out_of_process_context(str(code), "defs", instance) as context:
        keys = [{"path": list(k.path)} for k in (POSTS, COMMENTS)]
        result = execute_dagster_graphql(context, ASSETS, {"keys": keys})
    assert not result.errors, result.errors
    return {"/".join(n["assetKey"]["path"]): n for n in result.data["assetNodes"]}


def _entries(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["label"]: e for e in entries}


def test_the_asset_page_shows_where_the_data_is_its_columns_and_code(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    config, database, code = _project(tmp_path)
    defs = build_definitions(config, database=database)
    selection = [POSTS, COMMENTS]
    assets = list(defs.assets or [])
    assert dg.materialize(
        assets, instance=instance, resources=defs.resources, selection=selection
    ).success
    graph = defs.resolve_asset_graph()

    nodes = _nodes(code, instance)
    posts = nodes["blog/posts"]
    assert posts["opVersion"] == graph.get(POSTS).code_version
    assert posts["staleStatus"] == "FRESH"
    assert posts["storageAddress"] == {
        "tableName": "warehouse.raw_blog.posts",
        "storageKind": "duckdb",
    }
    assert set(posts["kinds"]) == {"rest", "duckdb"}
    assert "`" not in posts["description"]
    definition = _entries(posts["metadataEntries"])
    assert definition["dagster/table_name"]["text"] == "warehouse.raw_blog.posts"
    assert definition["duckdb_file"]["path"] == str(database)
    assert definition["request"]["text"] == "GET ${DEMO_API_URL}/posts?limit=50"
    (reference,) = definition["dagster/code_references"]["codeReferences"]
    assert reference["__typename"] == "LocalFileCodeReference"
    assert reference["filePath"] == str(config)
    assert config.read_text().splitlines()[reference["lineNumber"] - 1].strip() == "- name: posts"

    latest = posts["assetMaterializations"][0]["metadataEntries"]
    assert [e["label"] for e in latest][:2] == ["dagster/table_name", "dagster/storage_kind"]
    materialized = _entries(latest)
    columns = materialized["dagster/column_schema"]["schema"]["columns"]
    assert all(c["description"] for c in columns)
    by_name = {c["name"]: c for c in columns}
    assert by_name["id"]["constraints"] == {
        "nullable": False,
        "unique": True,
        "other": ["primary key"],
    }
    assert by_name["author__name"]["description"] == "author.name of each record"
    tags = materialized["child_tables/posts__tags/column_schema"]["schema"]["columns"]
    assert {c["name"] for c in tags} >= {"value", "_ra_parent_id", "_ra_list_idx"}
    assert materialized["child_tables/posts__tags/row_count"]["intValue"] == 500

    comments = _entries(nodes["blog/comments"]["assetMaterializations"][0]["metadataEntries"])
    (copied,) = comments["dagster/column_lineage"]["lineage"]
    assert copied == {
        "columnName": "_posts_title",
        "columnDeps": [{"assetKey": {"path": ["blog", "posts"]}, "columnName": "title"}],
    }


def test_an_edited_endpoint_shows_as_a_changed_code_version(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    config, database, code = _project(tmp_path)
    defs = build_definitions(config, database=database)
    assert dg.materialize(
        list(defs.assets or []), instance=instance, resources=defs.resources, selection=[POSTS]
    ).success
    before = _nodes(code, instance)["blog/posts"]
    assert before["staleStatus"] == "FRESH"

    edited = yaml.safe_load(config.read_text())
    edited["sources"][0]["resources"][0]["endpoint"]["params"]["limit"] = 25
    config.write_text(yaml.safe_dump(edited, sort_keys=False))
    after = _nodes(code, instance)["blog/posts"]
    assert after["opVersion"] != before["opVersion"]
    assert after["staleStatus"] == "STALE"
    assert any(cause["category"] == "CODE" for cause in after["staleCauses"])
    assert _entries(after["metadataEntries"])["request"]["text"].endswith("?limit=25")
