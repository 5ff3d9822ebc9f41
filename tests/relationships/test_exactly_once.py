"""A child handles each parent row exactly once, across failed runs and later parent runs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg
from rel_support import IssuesAPI, latest, make_comments, make_issue, materialize, sql

from rest_assets import asset_key, rest_api_assets
from rest_assets.load import LoadSpec, StagingArea, commit

ISSUES = asset_key("gh", "issues")
COMMENTS = asset_key("gh", "comments")


def _assets(url: str, **comments: Any) -> list[dg.AssetsDefinition]:
    return rest_api_assets(
        {
            "client": {
                "base_url": f"{url}/repos/dagster/",
                "paginator": "single_page",
                "rate_limit": {"max_retries": 0},
            },
            "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
            "resources": [
                "issues",
                {
                    "name": "comments",
                    "endpoint": "issues/{resources.issues.number}/comments",
                    "include_from_parent": ["title"],
                    **comments,
                },
            ],
        },
        name="gh",
    )


class Calls:
    """Comment requests per issue since the last `take()`."""

    def __init__(self, api: IssuesAPI) -> None:
        self.api = api
        self.seen: Counter[int] = Counter()

    def take(self) -> dict[int, int]:
        now = Counter(self.api.comment_calls())
        delta = now - self.seen
        self.seen = now
        return dict(sorted(delta.items()))


def test_failed_child_then_new_parent_run_skips_no_parent_and_repeats_none(
    github: IssuesAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    assets = _assets(github.url)
    calls = Calls(github)
    github.issues["dagster"] = [make_issue(n) for n in (1, 2, 3)]
    assert materialize(assets, instance, db, selection=[ISSUES]).success

    github.failing = {2}
    assert not materialize(assets, instance, db, selection=[COMMENTS]).success
    assert calls.take() == {1: 1, 2: 1}  # it stopped at the failing parent
    assert instance.get_latest_materialization_event(COMMENTS) is None

    # the parent runs again and brings new rows (the API now lists only the new issues)
    github.failing = set()
    github.issues["dagster"] = [make_issue(n) for n in (4, 5)]
    assert materialize(assets, instance, db, selection=[ISSUES]).success
    github.issues["dagster"] = [make_issue(n) for n in (1, 2, 3, 4, 5)]  # all still exist

    assert materialize(assets, instance, db, selection=[COMMENTS]).success
    assert calls.take() == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
    want = sorted(c["id"] for n in range(1, 6) for c in make_comments("dagster", n))
    assert [r[0] for r in sql(db, "SELECT id FROM raw_gh.comments ORDER BY id")] == want
    meta = latest(instance, COMMENTS)
    assert meta["parents_read"] == 5 and meta["parent_rows"] == "new"
    assert meta["parent_load_id"] == latest(instance, ISSUES)["load_id"]

    # nothing new upstream: the child asks for nothing
    assert materialize(assets, instance, db, selection=[COMMENTS]).success
    assert calls.take() == {}
    assert latest(instance, COMMENTS)["parents_read"] == 0

    # one parent row changes (merge rewrites it): only that parent is handled again
    github.issues["dagster"] = [make_issue(2, title="Renamed")]
    assert materialize(assets, instance, db, selection=[ISSUES]).success
    github.issues["dagster"] = [make_issue(n) for n in (1, 2, 3, 4, 5)]
    assert materialize(assets, instance, db, selection=[COMMENTS]).success
    assert calls.take() == {2: 1}
    titles = dict(sql(db, "SELECT id, _issues_title FROM raw_gh.comments"))
    assert titles[200] == "Renamed" and titles[100] == "Issue 1"


def test_parent_rows_all_and_the_replace_default(
    github: IssuesAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    calls = Calls(github)
    for name, overrides in {
        "all": {"parent_rows": "all"},
        "replace": {"write_disposition": "replace"},
    }.items():
        db = tmp_path / f"{name}.duckdb"
        assets = _assets(github.url, **overrides)
        assert materialize(assets, instance, db).success
        assert calls.take() == {n: 1 for n in range(1, 6)}
        assert materialize(assets, instance, db, selection=[COMMENTS]).success
        assert calls.take() == {n: 1 for n in range(1, 6)}  # every parent, every run
        assert latest(instance, COMMENTS)["parent_rows"] == "all"
        count = sum(len(make_comments("dagster", n)) for n in range(1, 6))
        assert sql(db, "SELECT count(*) FROM raw_gh.comments") == [(count,)]


def test_a_load_committed_late_still_sorts_after_the_child_cursor(tmp_path: Path) -> None:
    """Two parent runs overlap: the one extracted first commits last. Its rows must land
    after any cursor taken between the two commits, or a child would skip them."""
    db = tmp_path / "w.duckdb"
    early, late = "00000000000000000001.aaaaaa", "00000000000000000002.bbbbbb"
    with StagingArea() as area:
        area.write([{"id": 2}])
        commit(db, area, LoadSpec("raw", "issues", "append", load_id=late))
    cursor = late  # a child ran here and handled everything up to `late`
    with StagingArea() as area:
        area.write([{"id": 1}])
        result = commit(db, area, LoadSpec("raw", "issues", "append", load_id=early))
    assert result.load_id > cursor
    rows = sql(db, "SELECT id FROM raw.issues WHERE _ra_load_id > ?", [cursor])
    assert rows == [(1,)]
    assert sql(db, "SELECT DISTINCT _ra_load_id FROM raw.issues WHERE id = 1") == [
        (result.load_id,)
    ]
