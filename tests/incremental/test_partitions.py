"""Window, parent-key and time partitions over several runs of a real instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from rest_assets import asset_key, build_definitions
from rest_assets.dagster.state import CURSOR_KEY, WINDOW_KEY
from rest_assets.errors import ConfigError
from rest_assets.load import LoadSpec, StagingArea, commit
from tests.incremental.conftest import ItemsAPI, latest_meta, rows, run, source, stamp

KEY = asset_key("shop", "items")
EVENTS = asset_key("shop", "events")

WINDOWED = {
    "write_disposition": "append",
    "primary_key": "id",
    "partitions": {"type": "windows"},
    "endpoint": {
        "path": "items",
        "data_selector": "data",
        "params": {
            "updated_since": "{incremental.start_value}",
            "updated_before": "{incremental.end_value}",
        },
        "incremental": {"cursor_path": "updated_at", "initial_value": stamp(0)},
    },
}


def _tick(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.RunRequest | None:
    """Evaluate the new-data sensor and apply its partition requests like the daemon does."""
    sensor = defs.resolve_sensor_def("shop_items_new_data")
    result = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
    if not isinstance(result, dg.SensorResult):
        return None
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    (run_request,) = result.run_requests or []
    return run_request


def test_windows_become_partitions_and_one_window_can_be_backfilled(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    defs = build_definitions(source(api, WINDOWED), database=db)
    name = "shop__items__windows"

    api.add(1, 2, 3)
    first = _tick(defs, instance)
    assert first is not None and first.partition_key == stamp(0)
    assert run(defs, instance, partition_key=first.partition_key).success
    meta = latest_meta(instance, KEY, stamp(0))
    assert meta[WINDOW_KEY] == {
        "start": stamp(0),
        "end": stamp(3),
        "start_keys": [],
        "end_keys": ["[3]"],
    }

    api.add(3, 4, 5)  # one more at the boundary value
    second = _tick(defs, instance)
    assert second is not None and second.partition_key == stamp(3)
    assert run(defs, instance, partition_key=stamp(3)).success
    assert instance.get_dynamic_partitions(name) == [stamp(0), stamp(3)]
    assert latest_meta(instance, KEY)[CURSOR_KEY]["last_value"] == stamp(5)
    assert _tick(defs, instance) is None
    assert rows(db, "SELECT count(*) FROM raw_shop.items") == [(6,)]

    # Backfill the first window alone: an item changed inside it is fetched again with the
    # window's own bounds; only that window's rows are replaced, the cursor does not move.
    api.items[1]["tag"] = "changed"
    api.clear()
    assert run(defs, instance, partition_key=stamp(0)).success
    request = api.sent()[0]
    assert request.arg("updated_since") == stamp(0)
    assert request.arg("updated_before") is None  # the window is cut by its recorded bounds
    assert rows(db, "SELECT _ra_partition, count(*) FROM raw_shop.items GROUP BY 1 ORDER BY 1") == [
        (stamp(0), 3),
        (stamp(3), 3),
    ]
    assert rows(db, "SELECT tag FROM raw_shop.items WHERE id = 2") == [("changed",)]
    assert latest_meta(instance, KEY)[CURSOR_KEY]["last_value"] == stamp(5)
    assert latest_meta(instance, KEY, stamp(0))[WINDOW_KEY]["end"] == stamp(3)


PARENT_CHILD = {
    "sources": [
        {
            "name": "shop",
            "client": {
                "base_url": "",
                "paginator": {"type": "json_link", "next_url_path": "next"},
            },
            "resources": [
                {
                    "name": "items",
                    "primary_key": "id",
                    "write_disposition": "merge",
                    "endpoint": {"path": "items", "data_selector": "data"},
                },
                {
                    "name": "events",
                    "partition_by_parent": True,
                    "endpoint": {
                        "path": "items/{resources.items.id}/events",
                        "paginator": "single_page",
                    },
                    "include_from_parent": ["tag"],
                },
            ],
        }
    ]
}


def test_parent_keys_appear_as_partitions_after_the_parent_lands(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    config = {"sources": [dict(PARENT_CHILD["sources"][0])]}
    config["sources"][0]["client"] = {**config["sources"][0]["client"], "base_url": api.url}
    defs = build_definitions(config, database=db)
    name = "shop__events__parent_keys"
    assert instance.get_dynamic_partitions(name) == []

    api.add(1, 2, 3, tag="t")
    assert run(defs, instance, selection=[KEY]).success
    assert instance.get_dynamic_partitions(name) == ["1", "2", "3"]
    assert latest_meta(instance, KEY)["partitions_added"] == {"shop/events": 3}

    api.clear()
    assert run(defs, instance, selection=[EVENTS], partition_key="2").success
    assert [r.path for r in api.server.requests] == ["/items/2/events"]
    assert rows(db, "SELECT id, _items_tag, _ra_partition FROM raw_shop.events ORDER BY id") == [
        (201, "t", "2"),
        (202, "t", "2"),
    ]
    # a re-run replaces that partition's rows only
    assert run(defs, instance, selection=[EVENTS], partition_key="3").success
    assert run(defs, instance, selection=[EVENTS], partition_key="2").success
    assert rows(
        db, "SELECT _ra_partition, count(*) FROM raw_shop.events GROUP BY 1 ORDER BY 1"
    ) == [
        ("2", 2),
        ("3", 2),
    ]

    api.add(4)
    assert run(defs, instance, selection=[KEY]).success
    assert instance.get_dynamic_partitions(name) == ["1", "2", "3", "4"]


def test_time_partitions_fill_placeholders_and_backfill_in_one_run(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    api.add(*range(0, 24 * 60 * 3, 360))  # every 6 hours for 3 days, from 2024-01-01
    for i, item in enumerate(api.items):
        day, hour = divmod(i * 6, 24)
        item["updated_at"] = f"2024-01-0{day + 1}T{hour:02d}:00:00+00:00"
    config = {
        "partitions": {"type": "daily", "start": "2024-01-01", "end": "2024-01-04"},
        "endpoint": {
            "path": "items",
            "data_selector": "data",
            "params": {"updated_since": "{partition.start}", "updated_before": "{partition.end}"},
        },
    }
    defs = build_definitions(source(api, config), database=db)
    asset = next(a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition))
    assert asset.backfill_policy == dg.BackfillPolicy.single_run()

    assert run(defs, instance, partition_key="2024-01-02").success
    (request,) = api.sent()
    assert request.arg("updated_since") == "2024-01-02T00:00:00+00:00"
    assert request.arg("updated_before") == "2024-01-03T00:00:00+00:00"
    assert rows(db, "SELECT count(*) FROM raw_shop.items") == [(4,)]

    # a single-run backfill of all three days: one request spanning the range
    api.clear()
    tags = {
        "dagster/asset_partition_range_start": "2024-01-01",
        "dagster/asset_partition_range_end": "2024-01-03",
    }
    assert run(defs, instance, tags=tags).success
    request = api.sent()[0]
    assert len(api.sent()) == 3  # 12 items, 3 pages
    assert request.arg("updated_since") == "2024-01-01T00:00:00+00:00"
    assert request.arg("updated_before") == "2024-01-04T00:00:00+00:00"
    # the day loaded on its own before was replaced, not duplicated
    assert rows(db, "SELECT count(*), count(DISTINCT id) FROM raw_shop.items") == [(12, 12)]
    for day in ("2024-01-01", "2024-01-02", "2024-01-03"):
        assert latest_meta(instance, KEY, day)["rows_written"] == 12


def test_partition_config_mistakes_fail_at_load(api: ItemsAPI) -> None:
    windows_without_cursor = {"partitions": {"type": "windows"}}
    with pytest.raises(ConfigError, match="windows needs an incremental"):
        build_definitions(source(api, windows_without_cursor), database=":memory:")
    stray = {"endpoint": {"path": "items", "params": {"since": "{partition.start}"}}}
    with pytest.raises(ConfigError, match="no time partitions"):
        build_definitions(source(api, stray), database=":memory:")
    with pytest.raises(ConfigError, match="need a start"):
        build_definitions(source(api, {"partitions": {"type": "daily"}}), database=":memory:")


def test_writer_partition_scoped_replace_keeps_other_partitions_and_child_rows(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.duckdb"

    def load(key: str, records: list[dict], replace: list[str] | None) -> None:
        with StagingArea(tmp_path / "stage") as staging:
            staging.write(records)
            spec = LoadSpec(
                "s",
                "t",
                "replace",
                load_id=f"L{key}",
                partition_key=key,
                replace_partitions=replace,
            )
            commit(db, staging, spec)

    load("a", [{"id": 1, "tags": [{"n": 1}]}, {"id": 2, "tags": [{"n": 2}]}], ["a"])
    load("b", [{"id": 3, "tags": [{"n": 3}]}], ["b"])
    load("a", [{"id": 4, "tags": [{"n": 4}, {"n": 5}]}], ["a"])
    assert rows(db, "SELECT id, _ra_partition FROM s.t ORDER BY id") == [(3, "b"), (4, "a")]
    assert rows(db, "SELECT n FROM s.t__tags ORDER BY n") == [(3,), (4,), (5,)]
    # an empty load of a partition empties that partition only
    with StagingArea(tmp_path / "stage") as staging:
        spec = LoadSpec(
            "s", "t", "replace", load_id="L-empty", partition_key="b", replace_partitions=["b"]
        )
        commit(db, staging, spec)
    assert rows(db, "SELECT id FROM s.t") == [(4,)]
    assert rows(db, "SELECT n FROM s.t__tags ORDER BY n") == [(4,), (5,)]
    # without replace_partitions a replace still empties the whole table
    load("c", [{"id": 9, "tags": []}], None)
    assert rows(db, "SELECT id, _ra_partition FROM s.t") == [(9, "c")]
