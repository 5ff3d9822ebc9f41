"""`{run.date}` (the connector's `{{ dt }}`): a time partition's date, else today in UTC."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg

from rest_assets import build_definitions
from rest_assets.demo.server import LocalAPI, Response
from rest_assets.extract import placeholders


def _project(url: str, partitions: dict[str, Any] | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "name": "events",
        "endpoint": {"path": "events", "params": {"day": "{run.date}"}, "paginator": "single_page"},
    }
    if partitions:
        resource["partitions"] = partitions
    return {"sources": [{"name": "dated", "client": {"base_url": url}, "resources": [resource]}]}


def _run(defs: dg.Definitions, instance: dg.DagsterInstance, partition: str | None = None) -> None:
    assets: list[Any] = list(defs.assets or [])
    result = dg.materialize(
        assets,
        instance=instance,
        resources=defs.resources,
        partition_key=partition,
    )
    assert result.success


def test_a_time_partition_runs_with_its_own_date(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    with LocalAPI() as api:
        api.route("GET", "/events", lambda r: Response([{"id": 1}]))
        partitions = {"type": "daily", "start": "2024-01-01", "timezone": "Asia/Tokyo"}
        defs = build_definitions(_project(api.url, partitions), database=tmp_path / "d.duckdb")
        _run(defs, instance, "2024-05-01")
        # midnight in Tokyo is the previous day in UTC: the partition's date is its own
        assert [r.arg("day") for r in api.requests_to("/events")] == ["2024-05-01"]


def test_without_partitions_it_is_today_in_utc(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    with LocalAPI() as api:
        api.route("GET", "/events", lambda r: Response([{"id": 1}]))
        defs = build_definitions(_project(api.url, None), database=tmp_path / "d.duckdb")
        before = datetime.now(timezone.utc).date().isoformat()
        _run(defs, instance)
        after = datetime.now(timezone.utc).date().isoformat()
        (request,) = api.requests_to("/events")
        assert request.arg("day") in {before, after}


def test_rendering_without_a_run_scope_uses_today() -> None:
    before = datetime.now(timezone.utc).date().isoformat()
    rendered = placeholders.render({"day": "{run.date}"}, {})
    after = datetime.now(timezone.utc).date().isoformat()
    assert rendered["day"] in {before, after}
    assert placeholders.render("{run.date}", {"run.date": "2024-02-03"}) == "2024-02-03"
    assert placeholders.run_date(datetime(2024, 2, 3, 23, 30, tzinfo=timezone.utc)) == "2024-02-03"
