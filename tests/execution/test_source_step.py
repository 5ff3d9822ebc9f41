"""A source is one subsettable step: subsets, concurrency, failure isolation, re-execution.

Runs go through a real file-backed DagsterInstance and real DuckDB files against a loopback
API. Where it matters how the run is launched, the run is executed the way the UI and
`dagster asset materialize` execute it: the job's own executor, from a reconstructable job.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from rest_assets import SourceStepError, asset_key, build_definitions
from rest_assets.demo.server import LocalAPI, Request, Response

pytestmark = pytest.mark.timeout(300)


class Shop:
    """An API with independent lists, a child per item, and switches to make things fail."""

    def __init__(self) -> None:
        self.api = LocalAPI()
        self.failing: set[str] = set()
        # the `slow` pair meets here: each of the two requests waits for the other one
        self.meeting = threading.Barrier(2, timeout=20)
        for name in ("items", "users", "orders"):
            self.api.route("GET", f"/{name}", self._list(name))
        self.api.route("GET", "/items/", self._detail, prefix=True)
        self.api.route("GET", "/slow/", self._slow, prefix=True)

    def _list(self, name: str) -> Any:
        def handler(request: Request) -> Response:
            if name in self.failing:
                return Response({"error": f"{name} is down"}, status=400)
            return Response([{"id": i, "kind": name} for i in range(1, 4)])

        return handler

    def _detail(self, request: Request) -> Response:
        item = request.path.rsplit("/", 1)[-1]
        if "details" in self.failing:
            return Response({"error": "no details"}, status=400)
        return Response({"item": int(item), "text": f"detail {item}"})

    def _slow(self, request: Request) -> Response:
        try:
            self.meeting.wait()
        except threading.BrokenBarrierError:
            return Response({"error": "the other request never came"}, status=409)
        return Response([{"id": 1, "at": request.path}])


@pytest.fixture
def shop() -> Iterator[Shop]:
    shop = Shop()
    with shop.api:
        yield shop


def _config(shop: Shop, **source: Any) -> dict[str, Any]:
    return {
        "sources": [
            {
                "name": "shop",
                "client": {"base_url": shop.api.url, "paginator": "single_page"},
                "resource_defaults": {"primary_key": "id"},
                "resources": [
                    "items",
                    "users",
                    "orders",
                    {
                        "name": "details",
                        "primary_key": "item",
                        "endpoint": "items/{resources.items.id}",
                    },
                ],
                **source,
            }
        ]
    }


def _count(database: Path, table: str) -> int:
    with duckdb.connect(str(database)) as con:
        return int(con.execute(f"SELECT count(*) FROM raw_shop.{table}").fetchone()[0])  # type: ignore[index]


def _assets(defs: dg.Definitions) -> list[Any]:
    return list(defs.assets or [])


def test_a_source_is_one_step_with_an_asset_per_resource_and_checks_inside(
    shop: Shop, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    database = tmp_path / "w.duckdb"
    defs = build_definitions(_config(shop), database=database)
    (step,) = _assets(defs)
    assert step.can_subset
    assert {k.to_user_string() for k in step.keys} == {
        "shop/items",
        "shop/users",
        "shop/orders",
        "shop/details",
    }
    graph = defs.resolve_asset_graph()
    # lineage exactly as before: the child is downstream of its parent, inside the step
    assert graph.get(asset_key("shop", "details")).parent_keys == {asset_key("shop", "items")}
    assert {c.name for c in step.check_specs} == {"primary_key_unique", "primary_key_not_null"}
    assert len(list(step.check_specs)) == 8  # two per resource, no step of their own
    assert not defs.asset_checks

    result = dg.materialize(_assets(defs), instance=instance, resources=defs.resources)
    assert result.success
    steps = {e.step_key for e in result.all_events if e.step_key}
    assert steps == {"shop"}
    assert {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()} == {
        "shop/items",
        "shop/users",
        "shop/orders",
        "shop/details",
    }
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 8 and all(e.passed for e in evaluations)
    assert _count(database, "details") == 3


def test_selecting_one_asset_runs_only_that_resource(
    shop: Shop, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    database = tmp_path / "w.duckdb"
    defs = build_definitions(_config(shop), database=database)
    assert dg.materialize(
        _assets(defs),
        instance=instance,
        resources=defs.resources,
        selection=[asset_key("shop", "items")],
    ).success
    assert {r.path for r in shop.api.requests} == {"/items"}
    shop.api.requests.clear()
    # the child alone reads its parent's rows from DuckDB, without fetching the parent
    result = dg.materialize(
        _assets(defs),
        instance=instance,
        resources=defs.resources,
        selection=[asset_key("shop", "details")],
    )
    assert result.success
    assert sorted(r.path for r in shop.api.requests) == ["/items/1", "/items/2", "/items/3"]
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [
        asset_key("shop", "details")
    ]


def test_independent_resources_are_fetched_at_the_same_time(
    shop: Shop, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    # each /slow request blocks until the other one arrives: only a concurrent run passes
    config = _config(shop)
    config["sources"][0]["resources"] = [
        {"name": "a", "endpoint": "slow/a"},
        {"name": "b", "endpoint": "slow/b"},
    ]
    defs = build_definitions(config, database=tmp_path / "w.duckdb")
    result = dg.materialize(_assets(defs), instance=instance, resources=defs.resources)
    assert result.success
    assert sorted(r.path for r in shop.api.requests) == ["/slow/a", "/slow/b"]


def test_one_concurrency_slot_runs_resources_one_after_another(
    shop: Shop, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    config = _config(shop, max_concurrency=1)
    config["sources"][0]["resources"] = [
        {"name": "a", "endpoint": "slow/a"},
        {"name": "b", "endpoint": "slow/b"},
    ]
    shop.meeting = threading.Barrier(2, timeout=1)
    defs = build_definitions(config, database=tmp_path / "w.duckdb")
    result = dg.materialize(
        _assets(defs), instance=instance, resources=defs.resources, raise_on_error=False
    )
    assert not result.success  # the first request waited in vain for the second


def test_a_failing_sibling_does_not_stop_the_others(
    shop: Shop, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    database = tmp_path / "w.duckdb"
    shop.failing.add("users")
    defs = build_definitions(_config(shop), database=database)
    result = dg.materialize(
        _assets(defs), instance=instance, resources=defs.resources, raise_on_error=False
    )
    assert not result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"shop/items", "shop/orders", "shop/details"}
    (failure,) = result.get_step_failure_events()
    error = failure.step_failure_data.error
    while error.cause is not None and "SourceStepError" not in error.cls_name:
        error = error.cause
    assert error.cls_name == SourceStepError.__name__
    assert "users" in error.message and "400" in error.message
    assert f"{shop.api.url}/users" in error.message
    assert _count(database, "items") == 3 and _count(database, "details") == 3


def test_a_failed_parent_keeps_its_child_from_running(
    shop: Shop, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    shop.failing.add("items")
    defs = build_definitions(_config(shop), database=tmp_path / "w.duckdb")
    result = dg.materialize(
        _assets(defs), instance=instance, resources=defs.resources, raise_on_error=False
    )
    assert not result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"shop/users", "shop/orders"}
    assert not any(r.path.startswith("/items/") for r in shop.api.requests)


def test_a_failed_blocking_check_keeps_children_in_the_step_from_running(
    shop: Shop, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    config = _config(shop)
    # every item has id 1..3 but the key is `kind`: duplicates, a failing unique check
    config["sources"][0]["resources"][0] = {
        "name": "items",
        "primary_key": "kind",
        "checks": {"blocking": True},
    }
    defs = build_definitions(config, database=tmp_path / "w.duckdb")
    result = dg.materialize(
        _assets(defs), instance=instance, resources=defs.resources, raise_on_error=False
    )
    assert not result.success
    unique = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }[("shop/items", "primary_key_unique")]
    assert not unique.passed
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "shop/items" in materialized and "shop/details" not in materialized
    assert not any(r.path.startswith("/items/") for r in shop.api.requests)


def test_a_check_runs_on_its_own_without_fetching(
    shop: Shop, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(_config(shop), database=tmp_path / "w.duckdb")
    assert dg.materialize(_assets(defs), instance=instance, resources=defs.resources).success
    shop.api.requests.clear()
    check = dg.AssetCheckKey(asset_key("shop", "users"), "primary_key_unique")
    result = dg.materialize(
        _assets(defs),
        instance=instance,
        resources=defs.resources,
        selection=dg.AssetSelection.checks(check),
    )
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.check_name == "primary_key_unique"
    assert not result.get_asset_materialization_events()
    assert shop.api.requests == []
