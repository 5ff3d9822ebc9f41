"""Incremental runs through a real Dagster instance: the cursor lives in materializations."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from rest_assets import asset_key, build_definitions
from rest_assets.dagster.state import CURSOR_KEY, read_cursor
from tests.incremental.conftest import ItemsAPI, latest_meta, rows, run, source, stamp

KEY = asset_key("shop", "items")

INCREMENTAL = {
    "write_disposition": "append",
    "primary_key": "id",
    "endpoint": {
        "path": "items",
        "data_selector": "data",
        "params": {"updated_since": "{incremental.start_value}"},
        "incremental": {"cursor_path": "updated_at", "initial_value": stamp(0)},
    },
}


def _since_values(api: ItemsAPI) -> list[str | None]:
    return [r.arg("updated_since") for r in api.sent() if r.arg("page") is None]


def test_second_run_fetches_only_new_records_and_boundary_is_not_duplicated(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    api.add(*range(1, 13))  # 12 items, 3 pages
    defs = build_definitions(source(api, INCREMENTAL), database=db)

    assert run(defs, instance).success
    assert _since_values(api) == [stamp(0)]
    assert len(api.sent()) == 3
    meta = latest_meta(instance, KEY)
    assert meta[CURSOR_KEY]["last_value"] == stamp(12)
    assert meta["cursor"] == stamp(12)
    assert meta["records_new"] == 12

    # Two new items, one of them at the cursor value itself: the inclusive `>=` filter
    # returns the old item at stamp(12) again, which must not be appended twice.
    api.clear()
    api.add(12, 13)
    assert run(defs, instance).success
    assert _since_values(api) == [stamp(12)]
    assert len(api.sent()) == 1  # 3 records on one page, not all 14 again
    meta = latest_meta(instance, KEY)
    assert meta["records_extracted"] == 3
    assert meta["records_new"] == 2
    assert meta[CURSOR_KEY]["last_value"] == stamp(13)
    assert rows(db, "SELECT count(*), count(DISTINCT id) FROM raw_shop.items") == [(14, 14)]

    # Nothing new: the cursor stays, nothing is appended.
    api.clear()
    assert run(defs, instance).success
    assert _since_values(api) == [stamp(13)]
    assert latest_meta(instance, KEY)[CURSOR_KEY]["last_value"] == stamp(13)
    assert rows(db, "SELECT count(*) FROM raw_shop.items") == [(14,)]


def test_boundary_without_primary_key_uses_record_hash(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    config = {**INCREMENTAL, "primary_key": []}
    api.add(1, 2, 2)
    defs = build_definitions(source(api, config), database=db)
    assert run(defs, instance).success
    assert len(latest_meta(instance, KEY)[CURSOR_KEY]["boundary_keys"]) == 2
    api.add(2)  # a new record at the boundary value is new, the two old ones are not
    assert run(defs, instance).success
    assert latest_meta(instance, KEY)["records_new"] == 1
    assert rows(db, "SELECT count(*) FROM raw_shop.items") == [(4,)]


def test_failed_run_leaves_cursor_and_table_then_next_run_catches_up(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    api.add(*range(1, 6))
    defs = build_definitions(source(api, INCREMENTAL), database=db)
    assert run(defs, instance).success
    before = instance.get_latest_materialization_event(KEY)

    api.add(*range(6, 18))  # 12 new items: 3 pages from the cursor
    api.fail_page = 2
    result = run(defs, instance)
    assert not result.success
    after = instance.get_latest_materialization_event(KEY)
    assert after is not None and before is not None
    assert after.run_id == before.run_id  # no materialization: no cursor move
    assert read_cursor(instance, KEY).state.last_value == stamp(5)  # type: ignore[union-attr]
    assert rows(db, "SELECT count(*) FROM raw_shop.items") == [(5,)]

    api.fail_page = None
    api.clear()
    assert run(defs, instance).success
    assert _since_values(api) == [stamp(5)]
    assert rows(db, "SELECT count(*), count(DISTINCT id) FROM raw_shop.items") == [(17, 17)]
    assert latest_meta(instance, KEY)[CURSOR_KEY]["last_value"] == stamp(17)


def test_end_value_and_row_order_stop_paging_early(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    api.add(*range(1, 31))  # 6 pages of 5
    config = {
        "write_disposition": "append",
        "endpoint": {
            "path": "items",
            "data_selector": "data",
            "params": {"updated_since": "{incremental.start_value}"},
            "incremental": {
                "cursor_path": "updated_at",
                "initial_value": stamp(0),
                "end_value": stamp(8),
                "row_order": "asc",
            },
        },
    }
    defs = build_definitions(source(api, config), database=db)
    assert run(defs, instance).success
    # items 1..7 are in range (end exclusive); page 2 holds item 8, so paging stops there
    assert rows(db, "SELECT min(id), max(id), count(*) FROM raw_shop.items") == [(1, 7, 7)]
    assert len(api.sent()) == 2


@pytest.mark.parametrize(
    "endpoint",
    [
        {  # legacy: a `type: incremental` param
            "path": "items",
            "params": {
                "updated_since": {
                    "type": "incremental",
                    "cursor_path": "updated_at",
                    "initial_value": stamp(0),
                }
            },
        },
        {  # legacy: start_param / end_param
            "path": "items",
            "incremental": {
                "start_param": "updated_since",
                "end_param": "updated_before",
                "cursor_path": "updated_at",
                "initial_value": stamp(0),
                "end_value": stamp(100),
            },
        },
        {  # placeholder in the path
            "path": "since/{incremental.start_value}",
            "incremental": {"cursor_path": "updated_at", "initial_value": stamp(0)},
        },
        {  # placeholder in a JSON body
            "path": "search",
            "method": "POST",
            "json": {"since": "{incremental.start_value}"},
            "incremental": {"cursor_path": "$.updated_at", "initial_value": stamp(0)},
        },
        {  # placeholder in a header
            "path": "search",
            "method": "POST",
            "headers": {"X-Since": "{incremental.last_value}"},
            "incremental": {"cursor_path": "updated_at", "initial_value": stamp(0)},
        },
    ],
    ids=["legacy-param", "start-end-param", "path", "json", "header"],
)
def test_every_form_sends_the_cursor(
    api: ItemsAPI,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    endpoint: dict,
) -> None:
    db = tmp_path / "w.duckdb"
    api.add(1, 2, 3)
    resource = {
        "write_disposition": "append",
        "primary_key": "id",
        "endpoint": {**endpoint, "data_selector": "data"},
    }
    defs = build_definitions(source(api, resource), database=db)
    assert run(defs, instance).success
    api.add(4)
    api.server.requests.clear()
    assert run(defs, instance).success
    assert latest_meta(instance, KEY)["records_new"] == 1
    assert rows(db, "SELECT count(*), count(DISTINCT id) FROM raw_shop.items") == [(4, 4)]
    request = api.server.requests[0]
    sent = " ".join([request.path, str(request.query), str(request.headers), request.body.decode()])
    assert stamp(3) in sent
    if "end_param" in endpoint.get("incremental", {}):
        assert request.arg("updated_before") == stamp(100)


def test_convert_dotted_path_shapes_the_request_value(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    api.add(1, 2)
    resource = {
        "write_disposition": "append",
        "endpoint": {
            "path": "items",
            "data_selector": "data",
            "params": {"updated_since": "{incremental.start_value}"},
            "incremental": {
                "cursor_path": "updated_at",
                "initial_value": stamp(0),
                "convert": "tests.incremental.helpers:minute_floor",
            },
        },
    }
    defs = build_definitions(source(api, resource), database=db)
    assert run(defs, instance).success
    api.clear()
    assert run(defs, instance).success
    assert _since_values(api) == [stamp(2)[:16]]  # converted: "2024-01-01T00:02"


def test_bad_convert_and_stray_placeholders_fail_at_definitions_load(api: ItemsAPI) -> None:
    from rest_assets.errors import ConfigError

    bad = {
        "endpoint": {
            "path": "items",
            "incremental": {"cursor_path": "updated_at", "convert": "no_such_mod:f"},
        }
    }
    with pytest.raises(ConfigError, match="no_such_mod"):
        build_definitions(source(api, bad), database=":memory:")
    stray = {"endpoint": {"path": "items", "params": {"s": "{incremental.start_value}"}}}
    with pytest.raises(ConfigError, match="without an incremental section"):
        build_definitions(source(api, stray), database=":memory:")
