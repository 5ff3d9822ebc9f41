"""Primary-key checks of partitioned assets judge the partitions the run wrote.

A daily report whose ids restart every day is a correct partitioned load: its key is unique
within a partition, not across them. Checks over the whole table failed it from the second
day on; scoped to the run's partitions they pass, and still catch a duplicate inside one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from rest_assets import asset_key, build_definitions
from rest_assets.demo.server import LocalAPI, Request, Response

STATS = asset_key("shop", "stats")
EVENTS = asset_key("shop", "events")


class DailyAPI:
    """`GET /stats?day=`: rows with ids 1..3 every day (a duplicate id on `bad_day`);
    `GET /items`: parents; `GET /items/{id}/events`: ids 1, 2 for every item."""

    def __init__(self) -> None:
        self.bad_day: str | None = None
        self.server = LocalAPI()
        self.server.route("GET", "/stats", self._stats)
        self.server.route("GET", "/items", lambda r: Response([{"id": 1}, {"id": 2}]))
        self.server.route("GET", "/items/", self._events, prefix=True)

    def _stats(self, request: Request) -> Response:
        day = request.arg("day") or ""
        rows: list[dict[str, Any]] = [{"id": i, "day": day, "hits": i * 10} for i in (1, 2, 3)]
        if day == self.bad_day:
            rows.append({"id": 3, "day": day, "hits": 0})
        return Response(rows)

    def _events(self, request: Request) -> Response:
        item = int(request.path.split("/")[2])
        return Response([{"id": j, "item_id": item} for j in (1, 2)])


@pytest.fixture
def daily_api() -> Iterator[DailyAPI]:
    api = DailyAPI()
    with api.server:
        yield api


def _config(api: DailyAPI) -> dict[str, Any]:
    return {
        "sources": [
            {
                "name": "shop",
                "client": {"base_url": api.server.url, "paginator": "single_page"},
                "resources": [
                    {
                        "name": "stats",
                        "primary_key": "id",
                        "partitions": {
                            "type": "daily",
                            "start": "2024-01-01",
                            "end": "2024-01-05",
                            "format": "%Y-%m-%d",
                        },
                        "endpoint": {
                            "path": "stats",
                            "params": {"day": "{partition.start}"},
                        },
                    },
                    {"name": "items", "primary_key": "id", "endpoint": "items"},
                    {
                        "name": "events",
                        "primary_key": "id",
                        "partition_by_parent": True,
                        "endpoint": "items/{resources.items.id}/events",
                    },
                ],
            }
        ]
    }


def _run(defs: dg.Definitions, instance: dg.DagsterInstance, **kwargs: Any) -> Any:
    return dg.materialize(
        [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)],
        instance=instance,
        resources=defs.resources,
        raise_on_error=False,
        **kwargs,
    )


def _checks(result: Any, key: dg.AssetKey) -> dict[str, Any]:
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == key}


def test_key_checks_pass_per_partition_when_ids_repeat_across_partitions(
    daily_api: DailyAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(_config(daily_api), database=tmp_path / "w.duckdb")
    for day in ("2024-01-01", "2024-01-02"):
        result = _run(defs, instance, selection=[STATS], partition_key=day)
        assert result.success
        checks = _checks(result, STATS)
        assert checks["primary_key_unique"].passed, checks["primary_key_unique"].description
        assert checks["primary_key_not_null"].passed
        unique = checks["primary_key_unique"].metadata
        # the partition's rows were judged, not the whole table
        assert unique["rows"].value == 3
        assert unique["partitions"].value == day


def test_a_duplicate_inside_one_partition_still_fails(
    daily_api: DailyAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(_config(daily_api), database=tmp_path / "w.duckdb")
    assert _run(defs, instance, selection=[STATS], partition_key="2024-01-01").success
    daily_api.bad_day = "2024-01-02"
    result = _run(defs, instance, selection=[STATS], partition_key="2024-01-02")
    unique = _checks(result, STATS)["primary_key_unique"]
    assert not unique.passed
    assert unique.metadata["duplicate_keys"].value == 1
    assert unique.metadata["sample_duplicates"].value == [
        {"key": [3], "rows": 2, "partition": "2024-01-02"}
    ]


def test_parent_partitions_are_checked_one_parent_at_a_time(
    daily_api: DailyAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(_config(daily_api), database=tmp_path / "w.duckdb")
    assert _run(defs, instance, selection=[asset_key("shop", "items")]).success
    for parent in ("1", "2"):
        result = _run(defs, instance, selection=[EVENTS], partition_key=parent)
        assert result.success
        assert _checks(result, EVENTS)["primary_key_unique"].passed


def test_a_check_executed_alone_judges_each_partition_on_its_own(
    daily_api: DailyAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(_config(daily_api), database=tmp_path / "w.duckdb")
    for day in ("2024-01-01", "2024-01-02"):
        assert _run(defs, instance, selection=[STATS], partition_key=day).success
    check_key = dg.AssetCheckKey(STATS, "primary_key_unique")
    step = next(
        a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) and STATS in a.keys
    )
    # the UI's "Execute" on the check: a run of the check alone, without a partition
    result = dg.materialize(
        [step],
        instance=instance,
        resources=defs.resources,
        selection=dg.AssetSelection.checks(check_key),
    )
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.metadata["rows"].value == 6
    assert "partitions" not in evaluation.metadata

    daily_api.bad_day = "2024-01-03"
    assert _run(defs, instance, selection=[STATS], partition_key="2024-01-03").success is True
    result = dg.materialize(
        [step],
        instance=instance,
        resources=defs.resources,
        selection=dg.AssetSelection.checks(check_key),
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.metadata["sample_duplicates"].value == [
        {"key": [3], "rows": 2, "partition": "2024-01-03"}
    ]
