"""The whole slice: local API -> RestClient -> staging -> DuckDB -> Dagster events and metadata."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from rest_assets import DuckDBIOManager, asset_key, build_definitions, rest_api_assets
from rest_assets.demo.api import DemoAPI, make_comments
from rest_assets.demo.server import Request, Response

DEMO_YAML = Path(__file__).resolve().parents[2] / "rest_assets" / "demo" / "sources.yml"
POSTS = asset_key("blog", "posts")
COMMENTS = asset_key("blog", "comments")
USERS = asset_key("directory", "users")


def _materialize(defs: dg.Definitions, instance: dg.DagsterInstance, selection=None):
    return dg.materialize(
        list(defs.assets or []),
        instance=instance,
        resources=defs.resources,
        selection=selection,
        raise_on_error=False,
    )


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey) -> dict:
    event = instance.get_latest_materialization_event(key)
    assert event is not None and event.asset_materialization is not None
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def _fast_failing_demo() -> dict:
    """The demo config with one retry, so tests of failures do not wait through backoff."""
    config = yaml.safe_load(DEMO_YAML.read_text())
    for source in config["sources"]:
        if "client" in source:
            source["client"]["rate_limit"] = {"max_retries": 1}
    return config


def _error_text(result: dg.ExecuteInProcessResult) -> str:
    """The step failure's message with its causes (Dagster wraps the user exception)."""
    error = result.get_step_failure_events()[0].step_failure_data.error
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)


def _count(db: Path, table: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_demo_project_lands_in_duckdb_with_lineage_and_metadata(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "warehouse.duckdb"
    defs = build_definitions(DEMO_YAML, database=db)
    graph = defs.resolve_asset_graph()
    assert graph.get(COMMENTS).parent_keys == {POSTS}
    assert graph.get(POSTS).parent_keys == set()
    spec = graph.get(POSTS)
    assert spec.group_name == "blog"
    assert {"rest", "duckdb"} <= set(spec.kinds)
    assert "GET posts" in (spec.description or "")

    result = _materialize(defs, instance)
    assert result.success

    expected_comments = sum(len(make_comments(i)) for i in range(1, 251))
    posts = _latest(instance, POSTS)
    assert posts["dagster/row_count"] == 250
    assert posts["dagster/table_name"] == "warehouse.raw_blog.posts"
    assert posts["pages"] == 5
    assert posts["requests"] == 5
    columns = {c.name: c.type for c in posts["dagster/column_schema"].columns}
    assert {"id", "title", "author__id", "author__name"} <= set(columns)
    comments = _latest(instance, COMMENTS)
    assert comments["dagster/row_count"] == expected_comments
    assert comments["requests"] == 250
    users = _latest(instance, USERS)
    assert users["dagster/row_count"] == 40
    assert users["dagster/table_name"] == "warehouse.raw_directory.users"

    assert _count(db, "raw_blog.posts") == 250
    assert _count(db, "raw_blog.comments") == expected_comments
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "SELECT post_id, _posts_title FROM raw_blog.comments WHERE id = 71"
        ).fetchone()
    assert row == (7, "Post number 7")
    # Every comment request reached the server once per post, authenticated.
    comment_requests = [r for r in demo_api.server.requests if r.path.endswith("/comments")]
    assert len(comment_requests) == 250
    assert all(r.header("Authorization") == f"Bearer {demo_api.token}" for r in comment_requests)


def test_failed_run_keeps_table_and_records_no_materialization(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "warehouse.duckdb"
    defs = build_definitions(_fast_failing_demo(), database=db)
    assert _materialize(defs, instance, selection=[POSTS]).success
    before = instance.get_latest_materialization_event(POSTS)
    assert _count(db, "raw_blog.posts") == 250

    # Page 3 now fails for good: the run must fail and change nothing.
    healthy = demo_api._posts

    def broken(request: Request) -> Response:
        if request.arg("offset") == "100":
            return Response({"error": "boom"}, 500)
        return healthy(request)

    demo_api.server.route("GET", "/posts", broken)
    demo_api.posts = demo_api.posts[:120]  # a replace would shrink the table if it landed
    result = _materialize(defs, instance, selection=[POSTS])
    assert not result.success
    text = _error_text(result)
    assert "'posts'" in text and "status 500" in text and "/posts?limit=50&offset=100" in text
    assert _count(db, "raw_blog.posts") == 250
    after = instance.get_latest_materialization_event(POSTS)
    assert after is not None and before is not None
    assert after.run_id == before.run_id and after.timestamp == before.timestamp


def test_missing_env_var_fails_only_the_run_and_names_it(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEMO_API_TOKEN")
    defs = build_definitions(DEMO_YAML, database=tmp_path / "w.duckdb")  # loads fine
    result = _materialize(defs, instance, selection=[POSTS])
    assert not result.success
    assert "DEMO_API_TOKEN" in _error_text(result)


def test_dict_config_in_dlt_shape(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    assets = rest_api_assets(
        {
            "client": {
                "base_url": demo_api.url,
                "auth": {"token": demo_api.token},
            },
            "resources": [
                {
                    "name": "users",
                    "primary_key": "id",
                    "endpoint": {
                        "path": "users",
                        "data_selector": "users",
                        "paginator": {
                            "type": "page_number",
                            "base_page": 1,
                            "total_path": "total_pages",
                        },
                    },
                }
            ],
        },
        name="people",
    )
    db = tmp_path / "dict.duckdb"
    result = dg.materialize(
        assets, instance=instance, resources={"io_manager": DuckDBIOManager(database=str(db))}
    )
    assert result.success
    assert _count(db, "raw_people.users") == 40
    assert _latest(instance, asset_key("people", "users"))["pages"] == 3


def test_secret_token_never_lands_in_metadata_events_or_duckdb(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "warehouse.duckdb"
    defs = build_definitions(DEMO_YAML, database=db)
    assert _materialize(defs, instance).success
    logs = instance.all_logs(_materialize(defs, instance).run_id)
    blob = "\n".join(str(entry) for entry in logs)
    assert demo_api.token not in blob
    with duckdb.connect(str(db), read_only=True) as con:
        for schema, table in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall():
            dump = str(con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall())
            assert demo_api.token not in dump
