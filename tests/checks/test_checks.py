"""Asset checks generated from config: primary key unique / not null, freshness."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.definitions.freshness import TimeWindowFreshnessPolicy

from rest_assets import asset_key, build_definitions
from rest_assets.demo.api import DemoAPI
from rest_assets.demo.server import LocalAPI, Response

DEMO_YAML = Path(__file__).resolve().parents[2] / "rest_assets" / "demo" / "sources.yml"


def _everything(defs: dg.Definitions) -> list[Any]:
    return [*(defs.assets or []), *(defs.asset_checks or [])]


def _check_specs(defs: dg.Definitions) -> list[dg.AssetCheckSpec]:
    """Every check spec of the definitions: checks of the source steps and standalone ones."""
    return [spec for a in _everything(defs) for spec in a.check_specs]


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], Any]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


def _stored_evaluations(instance: dg.DagsterInstance, run_id: str) -> dict[tuple[str, str], Any]:
    """Check results as the UI reads them: ASSET_CHECK_EVALUATION events in the event log."""
    out = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        data = entry.dagster_event.event_specific_data  # type: ignore[union-attr]
        out[(data.asset_key.to_user_string(), data.check_name)] = data
    return out


@pytest.fixture
def items_api() -> Iterator[LocalAPI]:
    """An API whose /items holds a duplicated id and a row without id; /items/{id} details."""
    rows = [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 2, "v": "c"}, {"id": None, "v": "d"}]
    api = LocalAPI()
    api.route("GET", "/items", lambda req: Response(rows))
    api.route(
        "GET",
        "/items/",
        lambda req: Response({"item": req.path.rsplit("/", 1)[-1], "detail": "x"}),
        prefix=True,
    )
    with api:
        yield api


def _items_config(api: LocalAPI, checks: dict[str, Any] | None = None) -> dict[str, Any]:
    items: dict[str, Any] = {"name": "items", "primary_key": "id", "endpoint": "items"}
    if checks is not None:
        items["checks"] = checks
    return {
        "sources": [
            {
                "name": "shop",
                "client": {"base_url": api.url, "paginator": "single_page"},
                "resources": [
                    items,
                    {
                        "name": "details",
                        "primary_key": "item",
                        "endpoint": "items/{resources.items.v}",
                    },
                ],
            }
        ]
    }


def test_demo_checks_pass_and_are_recorded_on_the_instance(
    demo_api: DemoAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(DEMO_YAML, database=tmp_path / "w.duckdb")
    check_keys = {spec.key for spec in _check_specs(defs)}
    posts = asset_key("blog", "posts")
    assert dg.AssetCheckKey(posts, "primary_key_unique") in check_keys
    assert dg.AssetCheckKey(posts, "primary_key_not_null") in check_keys
    assert all(not spec.blocking for spec in _check_specs(defs))

    result = dg.materialize(_everything(defs), instance=instance, resources=defs.resources)
    assert result.success
    stored = _stored_evaluations(instance, result.run_id)
    # Three resources with a primary key, two checks each, every one passed.
    assert len(stored) == 6
    assert all(e.passed for e in stored.values())
    unique = stored[("blog/posts", "primary_key_unique")]
    assert unique.metadata["rows"].value == 250
    assert unique.metadata["duplicate_keys"].value == 0


def test_duplicate_and_null_keys_fail_the_checks_without_blocking(
    items_api: LocalAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(_items_config(items_api), database=tmp_path / "w.duckdb")
    result = dg.materialize(
        _everything(defs), instance=instance, resources=defs.resources, raise_on_error=False
    )
    evaluations = _evaluations(result)
    unique = evaluations[("shop/items", "primary_key_unique")]
    assert not unique.passed
    assert unique.metadata["duplicate_keys"].value == 1
    assert unique.metadata["rows_with_duplicate_keys"].value == 2
    assert unique.metadata["sample_duplicates"].value == [{"key": [2], "rows": 2}]
    not_null = evaluations[("shop/items", "primary_key_not_null")]
    assert not not_null.passed
    assert not_null.metadata["rows_with_null_key"].value == 1
    # Not blocking by default: the child still ran, and its own checks passed.
    assert instance.get_latest_materialization_event(asset_key("shop", "details")) is not None
    assert evaluations[("shop/details", "primary_key_unique")].passed
    stored = _stored_evaluations(instance, result.run_id)
    assert not stored[("shop/items", "primary_key_unique")].passed


def test_blocking_checks_stop_downstream_assets(
    items_api: LocalAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(
        _items_config(items_api, {"blocking": True}), database=tmp_path / "w.duckdb"
    )
    result = dg.materialize(
        _everything(defs), instance=instance, resources=defs.resources, raise_on_error=False
    )
    assert not result.success
    assert not _evaluations(result)[("shop/items", "primary_key_unique")].passed
    assert instance.get_latest_materialization_event(asset_key("shop", "details")) is None
    assert not any(r.path.startswith("/items/") for r in items_api.requests)


def test_primary_key_checks_can_be_turned_off(items_api: LocalAPI, tmp_path: Path) -> None:
    defs = build_definitions(
        _items_config(items_api, {"primary_key": False}), database=tmp_path / "w.duckdb"
    )
    checked = {spec.key.asset_key.to_user_string() for spec in _check_specs(defs)}
    assert checked == {"shop/details"}


def test_freshness_is_dagsters_policy_not_a_check(
    items_api: LocalAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    # A check evaluated right after the materialization it judges could never fail: freshness
    # is the asset's FreshnessPolicy, which Dagster evaluates on its own clock.
    config = _items_config(items_api, {"freshness": {"max_lag_minutes": 60}, "primary_key": False})
    defs = build_definitions(config, database=tmp_path / "w.duckdb")
    items = asset_key("shop", "items")
    policy = defs.resolve_asset_graph().get(items).freshness_policy
    assert isinstance(policy, TimeWindowFreshnessPolicy)
    assert policy.fail_window.to_timedelta() == dt.timedelta(minutes=60)
    assert dg.AssetCheckKey(items, "freshness") not in {s.key for s in _check_specs(defs)}
    daily = _items_config(
        items_api, {"freshness": {"max_lag_minutes": 30, "deadline_cron": "0 10 * * *"}}
    )
    cron_policy = (
        build_definitions(daily, database=tmp_path / "d.duckdb")
        .resolve_asset_graph()
        .get(items)
        .freshness_policy
    )
    assert cron_policy is not None and "0 10 * * *" in repr(cron_policy)


def test_check_on_a_table_never_created_passes_with_a_note(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    with LocalAPI() as api:
        api.route("GET", "/empty", lambda req: Response([]))
        config = {
            "sources": [
                {
                    "name": "void",
                    "client": {"base_url": api.url, "paginator": "single_page"},
                    "resources": [{"name": "empty", "primary_key": "id"}],
                }
            ]
        }
        defs = build_definitions(config, database=tmp_path / "w.duckdb")
        result = dg.materialize(_everything(defs), instance=instance, resources=defs.resources)
    evaluation = _evaluations(result)[("void/empty", "primary_key_unique")]
    assert evaluation.passed
    assert "does not exist yet" in (evaluation.description or "")
