"""Tables as dlt makes them, through Dagster runs on a real instance and DuckDB file: names
under the source's naming, several resources writing one table, merge strategies and
schema contracts from the config, table_name callables refused, table_format accepted."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from rest_assets import asset_key, build_definitions, rest_api_assets
from rest_assets.demo.server import LocalAPI, Request, Response
from rest_assets.errors import ConfigError


class API:
    """A loopback API whose pages the test sets per path: `{"data": records}`."""

    def __init__(self, server: LocalAPI) -> None:
        self.server = server
        self.pages: dict[str, list[dict[str, Any]]] = {}

    def serve(self, path: str, records: list[dict[str, Any]]) -> None:
        if path not in self.pages:
            self.server.route("GET", f"/{path}", lambda r, p=path: self._page(p, r))
        self.pages[path] = records

    def _page(self, path: str, request: Request) -> Response:
        return Response({"data": self.pages[path]})


@pytest.fixture
def api() -> Iterator[API]:
    with LocalAPI() as server:
        yield API(server)


def _source(api: API, resources: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": "shop",
        "client": {"base_url": api.server.url, "paginator": "single_page"},
        "resource_defaults": {"endpoint": {"data_selector": "data"}},
        "resources": resources,
        **extra,
    }


class Runs:
    def __init__(self, instance: dg.DagsterInstance, tmp_path: Path) -> None:
        self.instance = instance
        self.db = tmp_path / "w.duckdb"

    def __call__(
        self, source: dict[str, Any], select: list[str] | None = None
    ) -> dg.ExecuteInProcessResult:
        defs = build_definitions({"sources": [source]}, database=self.db)
        selection = [asset_key(source["name"], n) for n in select] if select else None
        return dg.materialize(
            list(defs.assets or []),
            instance=self.instance,
            resources=defs.resources,
            selection=selection,
            raise_on_error=False,
        )

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(query).fetchall()

    def metadata(self, key: dg.AssetKey) -> dict[str, Any]:
        event = self.instance.get_latest_materialization_event(key)
        assert event is not None and event.asset_materialization is not None
        return {k: v.value for k, v in event.asset_materialization.metadata.items()}


@pytest.fixture
def runs(instance: dg.DagsterInstance, tmp_path: Path) -> Runs:
    return Runs(instance, tmp_path)


def _error(result: dg.ExecuteInProcessResult) -> str:
    error = result.get_step_failure_events()[0].step_failure_data.error
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)


def test_columns_and_tables_are_snake_case_unless_naming_is_direct(api: API, runs: Runs) -> None:
    api.serve(
        "orders",
        [{"orderId": 1, "customerInfo": {"displayName": "Ann"}, "lineItems": [{"skuCode": "a"}]}],
    )
    resources = [{"name": "Open Orders", "endpoint": {"path": "orders"}, "primary_key": "orderId"}]
    assert runs(_source(api, resources)).success
    assert runs.sql("SELECT order_id, customer_info__display_name FROM raw_shop.open_orders") == [
        (1, "Ann")
    ]
    assert runs.sql("SELECT sku_code FROM raw_shop.open_orders__line_items") == [("a",)]
    schema = runs.metadata(asset_key("shop", "Open Orders"))["dagster/column_schema"]
    assert [c.name for c in schema.columns][:2] == ["order_id", "customer_info__display_name"]

    direct = _source(api, resources, name="verbatim", naming="direct")
    assert runs(direct).success
    assert runs.sql(
        'SELECT "orderId", "customerInfo__displayName" FROM raw_verbatim."Open Orders"'
    ) == [(1, "Ann")]


def test_several_resources_write_one_table(api: API, runs: Runs) -> None:
    api.serve("items", [{"id": 1, "v": "list"}, {"id": 2, "v": "list"}])
    api.serve("items/detail", [{"id": 2, "v": "detail", "extra": True}, {"id": 3, "v": "detail"}])
    resources = [
        {"name": "item_list", "table_name": "items", "endpoint": {"path": "items"}},
        {
            "name": "item_detail",
            "table_name": "items",
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {"path": "items/detail"},
        },
    ]
    source = _source(api, resources)
    # one after the other: in one run the two commits may come in either order
    assert runs(source, select=["item_list"]).success
    assert runs(source, select=["item_detail"]).success
    # the merge matched id 2 across both resources' rows; each row knows its resource
    assert runs.sql("SELECT id, v, _ra_resource FROM raw_shop.items ORDER BY id") == [
        (1, "list", "item_list"),
        (2, "detail", "item_detail"),
        (3, "detail", "item_detail"),
    ]
    # a replace replaces only its own resource's rows
    api.serve("items", [{"id": 7, "v": "list"}])
    assert runs(source, select=["item_list"]).success
    assert runs.sql("SELECT id, _ra_resource FROM raw_shop.items ORDER BY id") == [
        (2, "item_detail"),
        (3, "item_detail"),
        (7, "item_list"),
    ]
    meta = runs.metadata(asset_key("shop", "item_list"))
    assert meta["dagster/row_count"] == 1 and meta["dagster/table_name"] == "w.raw_shop.items"


def test_resources_whose_names_normalize_alike_share_their_table(api: API, runs: Runs) -> None:
    api.serve("a", [{"id": 1}])
    api.serve("b", [{"id": 2}])
    resources = [{"name": "Users", "endpoint": "a"}, {"name": "users", "endpoint": "b"}]
    assert runs(_source(api, resources)).success
    assert runs.sql("SELECT id, _ra_resource FROM raw_shop.users ORDER BY id") == [
        (1, "Users"),
        (2, "users"),
    ]


def test_incremental_resources_sharing_a_table_keep_their_own_cursor(api: API, runs: Runs) -> None:
    api.serve("a", [{"id": 1, "at": 1}, {"id": 2, "at": 2}])
    api.serve("b", [{"id": 10, "at": 5}])
    incremental = {"cursor_path": "at", "initial_value": 0}
    resources = [
        {
            "name": "ra",
            "table_name": "t",
            "write_disposition": "append",
            "endpoint": {"path": "a", "incremental": incremental},
        },
        {
            "name": "rb",
            "table_name": "t",
            "write_disposition": "append",
            "endpoint": {"path": "b", "incremental": incremental},
        },
    ]
    source = _source(api, resources)
    assert runs(source).success
    api.serve("a", [{"id": 2, "at": 2}, {"id": 3, "at": 3}])
    assert runs(source).success  # neither commit is refused as a concurrent load of the other
    assert runs.sql("SELECT id FROM raw_shop.t ORDER BY id") == [(1,), (2,), (3,), (10,)]


def test_a_table_name_function_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    config = {
        "client": {"base_url": "http://127.0.0.1:9"},
        "resources": [{"name": "events", "table_name": lambda e: e["type"]}],
    }
    with pytest.raises(ConfigError) as info:
        rest_api_assets(config, name="gh")
    message = str(info.value)
    assert "table_name" in message and "not supported" in message
    assert "one resource per table" in message and "filter" in message


def test_table_and_file_format_are_accepted_with_one_warning(
    api: API, runs: Runs, caplog: pytest.LogCaptureFixture
) -> None:
    api.serve("x", [{"id": 1}])
    resources = [{"name": "x", "table_format": "iceberg", "file_format": "parquet"}]
    with caplog.at_level(logging.WARNING, logger="rest_assets.config"):
        assert runs(_source(api, resources)).success
    lines = [r.getMessage() for r in caplog.records if "has no effect" in r.getMessage()]
    assert len([m for m in lines if "table_format 'iceberg'" in m]) == 1
    assert len([m for m in lines if "file_format 'parquet'" in m]) == 1
    assert runs.sql("SELECT id FROM raw_shop.x") == [(1,)]


def test_scd2_from_the_config_with_checks_on_active_rows(api: API, runs: Runs) -> None:
    api.serve("customers", [{"id": 1, "tier": "free"}, {"id": 2, "tier": "pro"}])
    resources = [
        {
            "name": "customers",
            "primary_key": "id",
            "write_disposition": {"disposition": "merge", "strategy": "scd2"},
        }
    ]
    source = _source(api, resources)
    assert runs(source).success
    api.serve("customers", [{"id": 1, "tier": "pro"}, {"id": 2, "tier": "pro"}])
    result = runs(source)
    assert result.success
    assert runs.sql(
        "SELECT id, tier, _dlt_valid_to IS NULL FROM raw_shop.customers "
        "ORDER BY id, _dlt_valid_from"
    ) == [
        (1, "free", False),
        (1, "pro", True),
        (2, "pro", True),
    ]
    # two versions of id 1, but the primary key checks look at the active rows
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)


def test_upsert_and_merge_key_from_the_config(api: API, runs: Runs) -> None:
    api.serve("days", [{"day": "d1", "n": 1}, {"day": "d1", "n": 2}, {"day": "d2", "n": 3}])
    api.serve("users", [{"id": 1, "v": "a"}, {"id": 1, "v": "b"}])
    resources = [
        {"name": "days", "write_disposition": "merge", "merge_key": "day"},
        {
            "name": "users",
            "primary_key": "id",
            "write_disposition": {"disposition": "merge", "strategy": "upsert"},
        },
    ]
    source = _source(api, resources)
    assert runs(source).success
    api.serve("days", [{"day": "d1", "n": 9}])
    assert runs(source).success
    assert runs.sql("SELECT day, n FROM raw_shop.days ORDER BY all") == [("d1", 9), ("d2", 3)]
    assert runs.sql("SELECT id, v FROM raw_shop.users") == [(1, "b")]


def test_schema_contract_of_the_source_and_of_a_resource(api: API, runs: Runs) -> None:
    api.serve("frozen", [{"id": 1}])
    api.serve("open", [{"id": 1}])
    resources = [
        {"name": "frozen", "write_disposition": "append"},
        {"name": "open", "write_disposition": "append", "schema_contract": {"columns": "evolve"}},
    ]
    source = _source(api, resources, schema_contract={"tables": "evolve", "columns": "freeze"})
    assert runs(source).success
    api.serve("frozen", [{"id": 2, "extra": "x"}])
    api.serve("open", [{"id": 2, "extra": "x"}])
    result = runs(source)
    assert not result.success
    text = _error(result)
    assert "frozen" in text and "extra" in text and "schema_contract columns is freeze" in text
    # the failed resource changed nothing; the resource with its own contract evolved
    assert runs.sql("SELECT * EXCLUDE (_ra_load_id, _ra_id) FROM raw_shop.frozen") == [(1,)]
    assert runs.sql("SELECT id, extra FROM raw_shop.open ORDER BY id") == [(1, None), (2, "x")]
