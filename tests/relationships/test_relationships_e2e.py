"""Dependent resources end to end through Dagster: placeholders, include_from_parent, holes,
legacy resolve with several params, Python parents, selected: false, parallel determinism."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from rel_support import (
    IssuesAPI,
    error_text,
    latest,
    make_comments,
    make_issue,
    materialize,
    sql,
)

from rest_assets import asset_key, rest_api_assets
from rest_assets.errors import ConfigError

ISSUES = asset_key("gh", "issues")
COMMENTS = asset_key("gh", "comments")


def _source(url: str, *resources: dict[str, Any], **client: Any) -> dict[str, Any]:
    return {
        "client": {
            "base_url": f"{url}/repos/dagster/",
            "paginator": "single_page",
            "rate_limit": {"max_retries": 0},
            **client,
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [{"name": "issues", "endpoint": "issues"}, *resources],
    }


def _comments(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "comments",
        "endpoint": {
            "path": "issues/{resources.issues.number}/comments",
            "response_actions": [{"status_code": 404, "action": "ignore"}],
        },
        "include_from_parent": ["id", "title", "user.login"],
        **overrides,
    }


def test_issue_comments_with_include_from_parent_and_ignored_404_holes(
    github: IssuesAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    github.missing = {2, 4}
    db = tmp_path / "w.duckdb"
    assets = rest_api_assets(_source(github.url, _comments()), name="gh")
    graph = dg.Definitions(assets=assets).resolve_asset_graph()
    assert graph.get(COMMENTS).parent_keys == {ISSUES}

    assert materialize(assets, instance, db).success
    expected = [c for n in (1, 3, 5) for c in make_comments("dagster", n)]
    rows = sql(
        db,
        "SELECT id, body, _issues_id, _issues_title, _issues_user_login "
        "FROM raw_gh.comments ORDER BY id",
    )
    assert [(r[0], r[1]) for r in rows] == [(c["id"], c["body"]) for c in expected]
    for comment_id, _, issue_id, title, login in rows:
        number = comment_id // 100
        assert (issue_id, title, login) == (1000 + number, f"Issue {number}", f"user{number % 3}")
    # every issue was asked for exactly once, the 404 holes included
    assert github.comment_calls() == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
    meta = latest(instance, COMMENTS)
    assert meta["parents_read"] == 5
    assert meta["parent_load_id"] == latest(instance, ISSUES)["load_id"]


def test_placeholders_in_params_json_body_and_headers(
    github: IssuesAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    url = github.url
    source = _source(
        url,
        {
            "name": "by_param",
            "endpoint": {
                "path": f"{url}/comments",
                "params": {"repo": "dagster", "issue": "{resources.issues.number}"},
            },
        },
        {
            "name": "by_body",
            "endpoint": {
                "path": f"{url}/search",
                "method": "POST",
                "json": {"repo": "dagster", "filters": {"issue": "{resources.issues.number}"}},
            },
        },
        {
            "name": "by_header",
            "endpoint": {
                "path": f"{url}/comments",
                "params": {"repo": "dagster"},
                "headers": {"X-Issue": "{resources.issues.number}"},
            },
        },
    )
    db = tmp_path / "w.duckdb"
    assert materialize(rest_api_assets(source, name="gh"), instance, db).success
    expected = sorted(c["id"] for n in range(1, 6) for c in make_comments("dagster", n))
    for table in ("by_param", "by_body", "by_header"):
        assert [r[0] for r in sql(db, f"SELECT id FROM raw_gh.{table} ORDER BY id")] == expected
    bodies = [r.json() for r in github.server.requests_to("/search", "POST")]
    # a value that is exactly one placeholder keeps its type in a JSON body
    assert sorted(b["filters"]["issue"] for b in bodies) == [1, 2, 3, 4, 5]
    headers = [r.header("X-Issue") for r in github.server.requests_to("/comments")]
    assert sorted(h for h in headers if h is not None) == ["1", "2", "3", "4", "5"]
    params = sorted(
        r.arg("issue") for r in github.server.requests_to("/comments") if r.arg("issue")
    )
    assert params == ["1", "2", "3", "4", "5"]


def repositories() -> Any:
    """A Python resource in dlt's style: yields one list of records."""
    yield [{"name": "dagster"}, {"name": "dlt"}]


def test_python_parent_legacy_resolve_and_several_params_from_one_parent(
    github: IssuesAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    config = {
        "client": {"base_url": github.url, "paginator": "single_page"},
        "resources": [
            repositories,
            {
                "name": "issues",
                "primary_key": ["repo", "number"],
                "endpoint": {
                    "path": "repos/{repository}/issues",
                    "params": {
                        "repository": {
                            "type": "resolve",
                            "resource": "repositories",
                            "field": "name",
                        }
                    },
                },
            },
            {
                "name": "comments",
                "endpoint": {
                    "path": "repos/{repo}/issues/{number}/comments",
                    "params": {
                        "repo": {"type": "resolve", "resource": "issues", "field": "repo"},
                        "number": {"type": "resolve", "resource": "issues", "field": "number"},
                    },
                },
                "include_from_parent": ["repo", "number"],
            },
        ],
    }
    db = tmp_path / "w.duckdb"
    assets = rest_api_assets(config, name="gh")
    graph = dg.Definitions(assets=assets).resolve_asset_graph()
    assert graph.get(asset_key("gh", "issues")).parent_keys == {asset_key("gh", "repositories")}
    assert materialize(assets, instance, db).success
    assert sql(db, "SELECT name FROM raw_gh.repositories ORDER BY name") == [("dagster",), ("dlt",)]
    assert latest(instance, asset_key("gh", "repositories"))["requests"] == 0
    got = sql(db, "SELECT _issues_repo, _issues_number, id FROM raw_gh.comments ORDER BY 1, 3")
    want = sorted(
        (repo, n, c["id"])
        for repo in ("dagster", "dlt")
        for n in range(1, 6)
        for c in make_comments(repo, n)
    )
    assert got == want
    # no legacy resolve parameter leaked into the query string
    assert all(not r.query for r in github.server.requests_to("/repos/", "GET"))


def test_python_resource_forms_and_the_same_placeholder_syntax(
    github: IssuesAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    seen: list[str] = []

    def numbers() -> Any:
        seen.append("called")
        yield {"n": 1}  # single records are grouped into batches
        yield {"n": 3}

    config = {
        "client": {"base_url": f"{github.url}/repos/dagster/", "paginator": "single_page"},
        "resources": [
            {
                "name": "picked",
                "records": numbers,
                "primary_key": "n",
                "write_disposition": "merge",
            },
            {"name": "static", "records": [{"n": 5}], "selected": False},
            {"name": "from_picked", "endpoint": "issues/{resources.picked.n}/comments"},
            {"name": "from_static", "endpoint": "issues/{resources.static.n}/comments"},
        ],
    }
    db = tmp_path / "w.duckdb"
    assets = rest_api_assets(config, name="gh")
    assert {k.path[-1] for a in assets for k in a.keys} == {"picked", "from_picked", "from_static"}
    assert materialize(assets, instance, db).success
    assert seen == ["called"]
    assert sql(db, "SELECT count(*) FROM raw_gh.from_picked") == [(2 + 1,)]
    assert sql(db, "SELECT count(*) FROM raw_gh.from_static") == [(3,)]
    assert github.comment_calls() == {1: 1, 3: 1, 5: 1}


def test_selected_false_parent_feeds_children_inline_with_truthful_lineage(
    github: IssuesAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    config = {
        "client": {"base_url": github.url, "paginator": "single_page"},
        "resource_defaults": {"write_disposition": "append"},
        "resources": [
            {"name": "repos", "records": [{"name": "dagster"}, {"name": "dlt"}]},
            {
                "name": "issues",
                "selected": False,
                "endpoint": "repos/{resources.repos.name}/issues",
                "processing_steps": [{"filter": lambda issue: issue["number"] != 3}],
            },
            {
                "name": "comments",
                "endpoint": "repos/{resources.issues.repo}/issues/"
                "{resources.issues.number}/comments",
                "include_from_parent": ["title", "labels[1].name"],
            },
        ],
    }
    db = tmp_path / "w.duckdb"
    assets = rest_api_assets(config, name="gh")
    graph = dg.Definitions(assets=assets).resolve_asset_graph()
    repos, comments = asset_key("gh", "repos"), asset_key("gh", "comments")
    assert {key for a in assets for key in a.keys} == {repos, comments}
    # the data of comments comes from repos' table through the inline issues fetch
    assert graph.get(comments).parent_keys == {repos}
    assert "selected: false" in (graph.get(comments).description or "")

    assert materialize(assets, instance, db).success
    tables = {r[0] for r in sql(db, "SELECT table_name FROM information_schema.tables")}
    assert "issues" not in tables
    want = sorted(
        (repo, c["id"])
        for repo in ("dagster", "dlt")
        for n in (1, 2, 4, 5)
        for c in make_comments(repo, n)
    )
    got = sql(db, "SELECT split_part(body, ' on ', 2), id FROM raw_gh.comments")
    assert sorted((b.split("#")[0], i) for b, i in got) == want
    assert set(sql(db, 'SELECT DISTINCT "_issues_labels_1_name" FROM raw_gh.comments')) == {
        ("all",)
    }
    meta = latest(instance, comments)
    assert meta["parent_requests"] == 2  # one issues request per repository
    assert meta["parents_read"] == 8  # issues 1, 2, 4, 5 of each repository
    assert meta["parent_load_id"] == latest(instance, repos)["load_id"]

    # append child, default parent_rows new: no new repos -> nothing fetched again
    before = len(github.server.requests)
    assert materialize(assets, instance, db, selection=[comments]).success
    assert len(github.server.requests) == before
    assert latest(instance, comments)["rows_written"] == 0


def test_json_path_parent_fields_from_a_json_column_and_clear_errors(
    github: IssuesAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    def source(nested_as_json: bool) -> dict[str, Any]:
        return _source(
            github.url,
            {
                "name": "by_label",
                "endpoint": {
                    "path": f"{github.url}/comments",
                    "params": {"repo": "dagster", "issue": "{resources.issues.number}"},
                },
                "include_from_parent": ["$.labels[0].name", "['user'].login"],
            },
        ) | {"resource_defaults": {"primary_key": "id", "nested_as_json": nested_as_json}}

    db = tmp_path / "w.duckdb"
    assert materialize(rest_api_assets(source(True), name="gh"), instance, db).success
    rows = sql(db, "SELECT id, _issues_labels_0_name, _issues_user_login FROM raw_gh.by_label")
    assert rows and all(label == f"label{(i // 100) % 2}" for i, label, _ in rows)
    assert all(login == f"user{(i // 100) % 3}" for i, _, login in rows)

    # labels became child table issues__labels: the child fails and says what to do
    db2 = tmp_path / "w2.duckdb"
    result = materialize(rest_api_assets(source(False), name="gh"), instance, db2)
    assert not result.success
    text = error_text(result)
    assert "child table raw_gh.issues__labels" in text and "nested_as_json" in text

    with pytest.raises(ConfigError, match=r"labels\[\*\]\.name.*wildcards"):
        rest_api_assets(_source(github.url, _comments(include_from_parent=["labels[*].name"])))


@pytest.mark.parametrize("concurrency", [3, 16])
def test_parallelized_output_is_the_sequential_output(
    github: IssuesAPI, instance: dg.DagsterInstance, tmp_path: Path, concurrency: int
) -> None:
    github.issues["dagster"] = [make_issue(n) for n in range(1, 41)]
    # later issues answer first, so completion order is the reverse of parent order
    github.delays = {n: 0.002 * (41 - n) for n in range(1, 41)}
    github.missing = {7}

    def table(parallelized: bool, name: str) -> list[tuple[Any, ...]]:
        db = tmp_path / f"{name}.duckdb"
        comments = _comments(parallelized=parallelized, concurrency=concurrency)
        assert materialize(
            rest_api_assets(_source(github.url, comments), name="gh"), instance, db
        ).success
        return sql(
            db,
            "SELECT id, body, _issues_id, _issues_title, _ra_id FROM raw_gh.comments "
            "ORDER BY rowid",
        )

    sequential = table(False, "seq")
    parallel = table(True, "par")
    assert [r[:4] for r in parallel] == [r[:4] for r in sequential]
    assert [r[0] for r in parallel] == [
        c["id"] for n in range(1, 41) if n != 7 for c in make_comments("dagster", n)
    ]
    assert latest(instance, COMMENTS)["parents_read"] == 40


def test_parallelized_failure_fails_the_run(
    github: IssuesAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    github.failing = {3}
    comments = _comments(parallelized=True, concurrency=2)
    result = materialize(
        rest_api_assets(_source(github.url, comments), name="gh"), instance, tmp_path / "w.duckdb"
    )
    assert not result.success
    assert "status 500" in error_text(result)
    assert instance.get_latest_materialization_event(COMMENTS) is None


def test_a_parent_that_never_had_rows_feeds_no_parents_and_a_missing_one_is_named(
    github: IssuesAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    assets = rest_api_assets(_source(github.url, _comments()), name="gh")
    result = materialize(assets, instance, db, selection=[COMMENTS])
    assert not result.success
    assert "materialize the parent asset first" in error_text(result)

    github.issues["dagster"] = []
    assert materialize(assets, instance, db).success  # issues loaded nothing: no table
    assert latest(instance, COMMENTS)["parents_read"] == 0
    assert github.comment_calls() == {}
