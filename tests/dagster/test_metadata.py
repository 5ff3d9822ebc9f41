"""What a Dagster user sees on an asset: definition and materialization metadata.

Definitions are read through `defs.resolve_asset_graph()`, materializations from a real
instance after real runs against the loopback demo API.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import yaml

# Dagster 1.13 does not export its standard metadata sets at the top level
from dagster._core.definitions.metadata import CodeReferencesMetadataSet, TableMetadataSet

from rest_assets import asset_key, build_definitions, rest_api_assets
from rest_assets.dagster.state import CURSOR_KEY
from rest_assets.demo.api import DemoAPI
from rest_assets.demo.server import LocalAPI, Response
from tests.support.metadata import child_figures

DEMO_YAML = Path(__file__).resolve().parents[2] / "rest_assets" / "demo" / "sources.yml"
POSTS = asset_key("blog", "posts")
COMMENTS = asset_key("blog", "comments")
USERS = asset_key("directory", "users")
SECRET = "sk-literal-0123456789"


def _definition(defs: dg.Definitions, key: dg.AssetKey) -> dict[str, Any]:
    node = defs.resolve_asset_graph().get(key)
    return dict(node.metadata)


def _values(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, dg.MetadataValue) else v for k, v in metadata.items()}


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict[str, Any]:
    event = instance.get_latest_materialization_event(key)
    assert event is not None and event.asset_materialization is not None
    return dict(event.asset_materialization.metadata)


def _run(defs: dg.Definitions, instance: dg.DagsterInstance, **kwargs: Any) -> Any:
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    return dg.materialize(assets, instance=instance, resources=defs.resources, **kwargs)


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """The demo's sources.yml in a project folder of its own."""
    project = tmp_path / "project"
    project.mkdir()
    return Path(shutil.copy(DEMO_YAML, project / "sources.yml"))


def test_definitions_say_where_the_table_is_what_is_requested_and_which_line_made_it(
    demo_copy: Path, tmp_path: Path
) -> None:
    db = tmp_path / "warehouse.duckdb"
    defs = build_definitions(demo_copy, database=db)
    posts = _definition(defs, POSTS)
    values = _values(posts)
    assert values["dagster/table_name"] == "warehouse.raw_blog.posts"
    assert values["dagster/storage_kind"] == "duckdb"
    assert values["duckdb_file"] == str(db.resolve())
    assert values["sample_query"] == 'SELECT * FROM "warehouse"."raw_blog"."posts" LIMIT 10'
    # the request as configured, defaults merged, references as written
    assert values["request"] == "GET ${DEMO_API_URL}/posts?limit=50"
    assert values["auth"] == "bearer (token=${DEMO_API_TOKEN})"
    assert values["paginator"] == {"type": "json_link"}
    assert values["data_selector"] == "data"
    assert (values["write_disposition"], values["primary_key"]) == ("merge", "id")
    assert "endpoint" not in values and "base_url" not in values
    # Dagster's own standard keys parse
    table = TableMetadataSet.extract(posts)
    assert (table.table_name, table.storage_kind) == ("warehouse.raw_blog.posts", "duckdb")

    lines = demo_copy.read_text().splitlines()
    for key, text, name in [
        (POSTS, "- name: posts", "blog/posts"),
        (COMMENTS, "- name: comments", "blog/comments"),
        (USERS, "- path: /users", "directory/users"),  # Dango's dialect
    ]:
        references = CodeReferencesMetadataSet.extract(_definition(defs, key))
        assert references.code_references is not None
        (reference,) = references.code_references.code_references
        assert isinstance(reference, dg.LocalFileCodeReference)
        assert reference.file_path == str(demo_copy.resolve())
        assert reference.line_number is not None
        assert lines[reference.line_number - 1].strip() == text
        assert reference.label == f"sources.yml: {name}"

    comments = _values(_definition(defs, COMMENTS))
    lineage = comments["dagster/column_lineage"]
    assert lineage.deps_by_column == {"_posts_title": [dg.TableColumnDep(POSTS, "title")]}
    assert comments["request"] == "GET ${DEMO_API_URL}/posts/{resources.posts.id}/comments"
    # the path does not end in a placeholder: the client's paginator, as in dlt
    assert comments["paginator"] == {"type": "json_link"}


def test_code_versions_hash_the_config_so_an_edited_endpoint_changes_only_its_asset(
    demo_copy: Path, tmp_path: Path
) -> None:
    before = build_definitions(demo_copy, database=tmp_path / "w.duckdb").resolve_asset_graph()
    config = yaml.safe_load(demo_copy.read_text())
    config["sources"][0]["resources"][0]["endpoint"]["params"]["limit"] = 25
    demo_copy.write_text(yaml.safe_dump(config, sort_keys=False))
    after = build_definitions(demo_copy, database=tmp_path / "w.duckdb").resolve_asset_graph()
    assert before.get(POSTS).code_version != after.get(POSTS).code_version
    assert before.get(COMMENTS).code_version == after.get(COMMENTS).code_version
    assert _values(dict(after.get(POSTS).metadata))["request"].endswith("?limit=25")


def test_descriptions_are_plain_text_and_fall_back_to_the_source(tmp_path: Path) -> None:
    config = {
        "sources": [
            {
                "name": "shop",
                "description": "The shop's catalogue",
                "client": {"base_url": "https://shop.example.com/api"},
                "resources": [
                    {"name": "items", "primary_key": "id"},
                    {
                        "name": "details",
                        "partition_by_parent": True,
                        "endpoint": "items/{resources.items.id}",
                    },
                ],
                "outputs": [{"name": "publish", "from": "items", "path": "bulk"}],
            }
        ]
    }
    defs = build_definitions(config, database=tmp_path / "w.duckdb")
    graph = defs.resolve_asset_graph()
    items = graph.get(asset_key("shop", "items")).description or ""
    details = graph.get(asset_key("shop", "details")).description or ""
    publish = graph.get(asset_key("shop", "publish")).description or ""
    assert items.startswith("The shop's catalogue\n")
    assert "GET items on https://shop.example.com/api, replace into w.raw_shop.items." in items
    assert "One partition per items row." in details
    for text in (items, details, publish):
        assert "`" not in text


def test_a_python_resource_says_where_its_records_come_from(tmp_path: Path) -> None:
    def seeds() -> list[dict[str, Any]]:
        return [{"code": "fr"}, {"code": "jp"}]

    config = {
        "sources": [
            {
                "name": "geo",
                "client": {"base_url": "https://geo.example.com"},
                "resources": [
                    {"name": "countries", "records": seeds},
                    {"name": "listed", "records": [{"n": 1}, {"n": 2}, {"n": 3}]},
                ],
            }
        ]
    }
    defs = build_definitions(config, database=tmp_path / "w.duckdb")
    graph = defs.resolve_asset_graph()
    countries = _values(dict(graph.get(asset_key("geo", "countries")).metadata))
    assert countries["records_from"] == (
        f"the Python function {seeds.__module__}:{seeds.__qualname__}"
    )
    for key in ("request", "endpoint", "base_url", "paginator", "auth"):
        assert key not in countries
    assert set(graph.get(asset_key("geo", "countries")).kinds) == {"python", "duckdb"}
    description = graph.get(asset_key("geo", "countries")).description or ""
    assert "GET" not in description and "Records from the Python function" in description
    listed = _values(dict(graph.get(asset_key("geo", "listed")).metadata))
    assert listed["records_from"] == "3 records given in the config"


def test_request_shape_masks_literal_secrets_and_keeps_references(tmp_path: Path) -> None:
    config = {
        "sources": [
            {
                "name": "feed",
                "client": {
                    "base_url": "https://feed.example.com/v1",
                    "headers": {"X-Api-Key": SECRET, "Accept": "application/json"},
                    "paginator": {"type": "offset", "limit": 100},
                },
                "resources": [
                    {
                        "name": "events",
                        "endpoint": {
                            "path": "events",
                            "params": {
                                "api_key": SECRET,
                                "token": "${FEED_TOKEN}",
                                "since": "{incremental.start_value}",
                                "kind": "click",
                            },
                            "json": {"filter": {"password": SECRET, "level": 3}},
                            "incremental": {
                                "cursor_path": "ts",
                                "initial_value": "2024-01-01",
                                "end_param": "until",
                            },
                        },
                    }
                ],
            }
        ]
    }
    defs = build_definitions(config, database=tmp_path / "w.duckdb")
    node = defs.resolve_asset_graph().get(asset_key("feed", "events"))
    values = _values(dict(node.metadata))
    assert values["request"] == (
        "GET https://feed.example.com/v1/events?api_key=***&token=${FEED_TOKEN}"
        "&since={incremental.start_value}&kind=click&until={incremental.end_value}"
    )
    assert values["request_headers"] == {"X-Api-Key": "***", "Accept": "application/json"}
    assert values["request_body"] == {"filter": {"password": "***", "level": 3}}
    assert values["paginator"] == {"type": "offset", "limit": 100}
    assert values["incremental"] == {
        "cursor_path": "ts",
        "initial_value": "2024-01-01",
        "end_param": "until",
        "last_value_func": "max",
    }
    assert SECRET not in repr(node.metadata) and SECRET not in (node.description or "")


def test_configured_columns_are_published_before_any_run_and_described(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    api = LocalAPI()
    api.route("GET", "/items", lambda r: Response([{"id": 1, "price": "9.5", "tags": ["a"]}]))
    config = {
        "sources": [
            {
                "name": "shop",
                "client": {"base_url": "http://unused.invalid", "paginator": "single_page"},
                "resources": [
                    {
                        "name": "items",
                        "primary_key": "id",
                        "columns": {
                            "id": {"data_type": "bigint", "nullable": False},
                            "price": {
                                "data_type": "double",
                                "description": "Price in euros, tax included",
                            },
                        },
                    }
                ],
            }
        ]
    }
    with api:
        config["sources"][0]["client"]["base_url"] = api.url
        defs = build_definitions(config, database=tmp_path / "w.duckdb")
        schema = _values(_definition(defs, asset_key("shop", "items")))["dagster/column_schema"]
        columns = {c.name: c for c in schema.columns}
        assert (columns["id"].type, columns["price"].type) == ("BIGINT", "DOUBLE")
        assert columns["price"].description == "Price in euros, tax included"
        assert columns["id"].constraints.nullable is False
        assert columns["id"].constraints.other == ["primary key"]
        assert "_ra_load_id" in columns and "_ra_partition" not in columns

        assert _run(defs, instance).success
    meta = _values(_latest(instance, asset_key("shop", "items")))
    after = {c.name: c for c in meta["dagster/column_schema"].columns}
    assert after["price"].description == "Price in euros, tax included"
    assert after["id"].constraints.unique is True


def test_materializations_describe_every_column_and_show_child_tables(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "warehouse.duckdb"
    defs = build_definitions(DEMO_YAML, database=db)
    assert _run(defs, instance).success

    posts = _latest(instance, POSTS)
    values = _values(posts)
    assert values["dagster/table_name"] == "warehouse.raw_blog.posts"
    assert values["dagster/storage_kind"] == "duckdb"
    assert values["duckdb_file"] == str(db.resolve())
    with duckdb.connect(str(db), read_only=True) as con:  # the query pastes as it is
        assert len(con.execute(values["sample_query"]).fetchall()) == 10
    columns = {c.name: c for c in values["dagster/column_schema"].columns}
    assert all(c.description for c in columns.values())
    assert columns["author__name"].description == "author.name of each record"
    assert columns["_ra_load_id"].description.startswith("The load that wrote this row")
    assert columns["_ra_id"].constraints.unique is True
    assert columns["id"].constraints == dg.TableColumnConstraints(
        nullable=False, unique=True, other=["primary key"]
    )

    # the list field `tags` is its own table, with its schema, rows and links to posts
    assert child_figures(values, "row_count") == {"posts__tags": 500}
    assert child_figures(values, "rows_written") == {"posts__tags": 500}
    tags = {c.name: c for c in values["child_tables/posts__tags/column_schema"].columns}
    assert tags["_ra_parent_id"].description == "_ra_id of the posts row this list item belongs to"
    assert tags["value"].description == "The item itself: tags is a list of plain values"
    assert all(c.description for c in tags.values())
    links = values["child_tables/posts__tags/column_lineage"].deps_by_column
    assert links["_ra_parent_id"] == [dg.TableColumnDep(POSTS, "_ra_id")]
    assert "child_tables" not in values  # no JSON count any more

    comments = _values(_latest(instance, COMMENTS))
    copied = {c.name: c for c in comments["dagster/column_schema"].columns}["_posts_title"]
    assert copied.description == "title of the parent posts row"
    assert comments["dagster/column_lineage"].deps_by_column == {
        "_posts_title": [dg.TableColumnDep(POSTS, "title")]
    }
    assert comments["parents_read"] == 250


def test_one_name_per_figure(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(DEMO_YAML, database=tmp_path / "w.duckdb")
    assert _run(defs, instance).success
    meta = _values(_latest(instance, POSTS))
    # rows in the table, rows this load wrote, records the API returned: one name each
    assert (meta["dagster/row_count"], meta["rows_written"], meta["records_extracted"]) == (
        250,
        250,
        250,
    )
    for gone in ("records", "rows", "row_count", "child_tables", "endpoint", "base_url"):
        assert gone not in meta
    names = list(meta)
    assert names[:4] == [
        "dagster/table_name",
        "dagster/storage_kind",
        "duckdb_file",
        "sample_query",
    ]


def test_table_names_in_three_and_two_parts_are_read_back(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    """The IO manager finds a REST table from its qualified name (and from the two-part
    names earlier versions recorded); an output's `from:` takes either form."""
    db = tmp_path / "warehouse.duckdb"
    assets = rest_api_assets(yaml.safe_load(DEMO_YAML.read_text())["sources"][0], name="blog")

    @dg.asset(ins={"posts": dg.AssetIn(key=POSTS, metadata={"columns": ["id"]})})
    def post_count(posts: Any) -> None:
        assert len(posts) == 250

    from rest_assets import DuckDBIOManager

    # without a database (the user's IO manager has it) a definition knows schema and table
    spec = next(s for a in assets for s in a.specs if s.key == POSTS)
    assert spec.metadata["dagster/table_name"].value == "raw_blog.posts"
    assert "duckdb_file" not in spec.metadata
    resources = {"io_manager": DuckDBIOManager(database=str(db))}
    assert dg.materialize([*assets, post_count], instance=instance, resources=resources).success
    assert _values(_latest(instance, POSTS))["dagster/table_name"] == "warehouse.raw_blog.posts"
    # a materialization written before the table name was qualified
    instance.report_runless_asset_event(
        dg.AssetMaterialization(POSTS, metadata={"dagster/table_name": "raw_blog.posts"})
    )
    assert dg.materialize(
        [*assets, post_count], instance=instance, resources=resources, selection=[post_count.key]
    ).success

    for ref in ("warehouse.raw_blog.posts", "raw_blog.posts"):
        config = yaml.safe_load(DEMO_YAML.read_text())
        config["sources"][0]["outputs"] = [{"name": "publish", "from": ref, "path": "bulk"}]
        graph = build_definitions(config, database=db).resolve_asset_graph()
        publish = graph.get(asset_key("blog", "publish"))
        assert publish.parent_keys == {POSTS}
        assert _values(dict(publish.metadata))["source_table"] == "warehouse.raw_blog.posts"


def test_an_output_is_labelled_as_sending_not_ingesting(tmp_path: Path) -> None:
    config = yaml.safe_load(DEMO_YAML.read_text())
    config["sources"][0]["outputs"] = [
        {
            "name": "publish",
            "from": "posts",
            "path": "bulk",
            "columns": ["id", "title"],
            "batch_size": 50,
        }
    ]
    defs = build_definitions(config, database=tmp_path / "warehouse.duckdb")
    node = defs.resolve_asset_graph().get(asset_key("blog", "publish"))
    assert set(node.kinds) == {"rest", "duckdb", "reverse_etl"}
    values = _values(dict(node.metadata))
    assert values["destination"] == "POST ${DEMO_API_URL}/bulk"
    assert values["source_table"] == "warehouse.raw_blog.posts"
    assert values["columns_sent"] == "id, title"
    assert values["idempotency_key"] == (
        "Idempotency-Key header, a hash of each batch; rows in order of id"
    )
    assert values["batch_size"] == 50
    assert "endpoint" not in values and "base_url" not in values
    description = node.description or ""
    assert "Sends the rows of warehouse.raw_blog.posts to POST ${DEMO_API_URL}/bulk" in description
    assert "(columns: id, title)" in description and "Idempotency" in description


@pytest.fixture
def daily_api() -> Iterator[LocalAPI]:
    api = LocalAPI()
    api.route("GET", "/stats", lambda r: Response([{"id": i} for i in range(4)]))
    with api:
        yield api


def test_partitioned_loads_record_their_partition_row_count(
    daily_api: LocalAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    config = {
        "sources": [
            {
                "name": "shop",
                "client": {"base_url": daily_api.url, "paginator": "single_page"},
                "resources": [
                    {
                        "name": "stats",
                        "partitions": {"type": "daily", "start": "2024-01-01", "end": "2024-01-04"},
                    }
                ],
            }
        ]
    }
    defs = build_definitions(config, database=tmp_path / "w.duckdb")
    key = asset_key("shop", "stats")
    for day in ("2024-01-01", "2024-01-02"):
        assert _run(defs, instance, partition_key=day).success
    meta = _values(_latest(instance, key))
    assert (meta["dagster/row_count"], meta["dagster/partition_row_count"]) == (8, 4)
    assert TableMetadataSet.extract(_latest(instance, key)).partition_row_count == 4
    columns = {c.name: c for c in meta["dagster/column_schema"].columns}
    assert columns["_ra_partition"].description == "Partition key of the run that loaded this row"
    assert CURSOR_KEY not in meta  # not incremental: no cursor state
