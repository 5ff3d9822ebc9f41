"""The run log of a source's step: a child says which parent rows it reads and counts them
off as "n / N parents"; each resource's metadata appears once, on its materialization."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg

from rest_assets import asset_key, build_definitions
from rest_assets.demo.api import DemoAPI

DEMO_YAML = Path(__file__).resolve().parents[2] / "rest_assets" / "demo" / "sources.yml"
POSTS = asset_key("blog", "posts")
COMMENTS = asset_key("blog", "comments")


def _messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [e.user_message for e in instance.all_logs(run_id) if e.dagster_event is None]


def _run(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets or []),
        instance=instance,
        resources=defs.resources,
        selection=[POSTS, COMMENTS],
    )


def test_a_child_reads_its_parent_rows_first_and_counts_them_off(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(DEMO_YAML, database=tmp_path / "w.duckdb")
    first = _run(defs, instance)
    assert first.success
    lines = _messages(instance, first.run_id)
    start = lines.index("blog.comments: reading the id of 250 posts rows (none handled before)")
    progress = [m for m in lines if re.match(r"blog\.comments: [\d,]+ / 250 parents, ", m)]
    assert progress, lines
    assert all(lines.index(m) > start for m in progress)
    assert any(
        re.match(r"blog\.comments: 375 records for 250 / 250 parents in 250 pages", m)
        for m in lines
    )
    # the root resource counts pages, as before
    assert not any(m.startswith("blog.posts:") and "parents" in m for m in lines)

    handled = instance.get_latest_materialization_event(COMMENTS)
    assert handled is not None and handled.asset_materialization is not None
    since = handled.asset_materialization.metadata["parent_load_id"].value
    second = _run(defs, instance)
    assert second.success
    assert (
        f"blog.comments: reading the id of 250 posts rows loaded after load {since}"
        in _messages(instance, second.run_id)
    )


def test_each_resource_metadata_is_logged_once(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(DEMO_YAML, database=tmp_path / "w.duckdb")
    result = _run(defs, instance)
    assert result.success
    events = [e.dagster_event for e in instance.all_logs(result.run_id) if e.dagster_event]
    materialized = [
        e.asset_key for e in events if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    ]
    assert sorted(k.to_user_string() for k in materialized if k) == ["blog/comments", "blog/posts"]
    # no second copy of the metadata under the output handling
    assert not [e for e in events if e.event_type == dg.DagsterEventType.HANDLED_OUTPUT]
    carrying = [
        e
        for e in events
        if e.event_type != dg.DagsterEventType.ASSET_MATERIALIZATION
        and "dagster/table_name" in (getattr(e.event_specific_data, "metadata", None) or {})
    ]
    assert carrying == []
