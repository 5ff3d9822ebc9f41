"""Cursors as a user reads them: the range each run loaded, the state kept out of the way,
moves that say what they replaced, and state recorded by earlier versions still honoured."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from rest_assets import asset_key, build_definitions
from rest_assets.cli import main
from rest_assets.dagster.state import CURSOR_KEY, PARENT_CURSORS_KEY, WINDOW_KEY
from rest_assets.dagster.state.cursors import INTERNAL_KEYS
from tests.incremental.conftest import ItemsAPI, latest_meta, run, source, stamp
from tests.incremental.test_cursor_runs import INCREMENTAL

KEY = asset_key("shop", "items")
EVENTS = asset_key("shop", "events")


def _ordered_keys(instance: dg.DagsterInstance, key: dg.AssetKey) -> list[str]:
    event = instance.get_latest_materialization_event(key)
    assert event is not None and event.asset_materialization is not None
    return list(event.asset_materialization.metadata)


def test_each_run_shows_the_range_it_loaded_and_the_state_comes_last(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(source(api, INCREMENTAL), database=tmp_path / "w.duckdb")
    api.add(1, 2, 3)
    assert run(defs, instance).success
    meta = latest_meta(instance, KEY)
    assert meta["cursor_range"] == f"{stamp(0)} -> {stamp(3)}"
    assert meta["cursor"] == stamp(3)

    api.add(5, 9)
    assert run(defs, instance).success
    assert latest_meta(instance, KEY)["cursor_range"] == f"{stamp(3)} -> {stamp(9)}"
    assert run(defs, instance).success  # nothing new
    assert latest_meta(instance, KEY)["cursor_range"] == f"{stamp(9)} -> (no new records)"

    names = _ordered_keys(instance, KEY)
    assert names[-1] == CURSOR_KEY  # the state, after every readable entry
    assert names.index("cursor_range") < names.index("cursor") < names.index(CURSOR_KEY)
    assert CURSOR_KEY.startswith("rest_assets/internal/")


def test_cursor_set_and_reset_record_the_value_they_replace(
    api: ItemsAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    config = tmp_path / "sources.yml"
    config.write_text(yaml.safe_dump(source(api, INCREMENTAL)))
    api.add(1, 2, 7)
    assert main(["materialize", str(config), "--database", str(tmp_path / "w.duckdb")]) == 0
    assert main(["cursor", "set", str(config), "items", stamp(2)]) == 0
    assert main(["cursor", "reset", str(config), "items", "--yes"]) == 0
    with dg.DagsterInstance.get() as instance:
        records = instance.fetch_observations(KEY, limit=5).records
        reset, moved = (r.asset_observation for r in records)
        assert moved is not None and reset is not None
        assert moved.metadata["cursor"].value == stamp(2)
        assert moved.metadata["previous_cursor"].value == stamp(7)
        assert reset.metadata["cursor"].value == "(initial value)"
        assert reset.metadata["previous_cursor"].value == stamp(2)
        assert list(moved.metadata)[-1] == CURSOR_KEY


def test_a_cursor_recorded_under_the_earlier_name_is_still_read(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(source(api, INCREMENTAL), database=tmp_path / "w.duckdb")
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            KEY,
            metadata={
                "rest_assets/cursor": dg.MetadataValue.json(
                    {"last_value": stamp(5), "boundary_keys": []}
                ),
                "cursor": stamp(5),
            },
        )
    )
    api.add(1, 6)
    assert run(defs, instance).success
    assert [r.arg("updated_since") for r in api.sent()] == [stamp(5)]
    assert latest_meta(instance, KEY)["cursor_range"] == f"{stamp(5)} -> {stamp(6)}"


WINDOWED = {
    **INCREMENTAL,
    "partitions": {"type": "windows"},
    "endpoint": {
        **INCREMENTAL["endpoint"],
        "params": {
            "updated_since": "{incremental.start_value}",
            "updated_before": "{incremental.end_value}",
        },
    },
}


def test_a_window_partition_shows_its_bounds_as_its_range(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    defs = build_definitions(source(api, WINDOWED), database=tmp_path / "w.duckdb")
    instance.add_dynamic_partitions("shop__items__windows", [stamp(0)])
    api.add(1, 4)
    assert run(defs, instance, partition_key=stamp(0)).success
    meta = latest_meta(instance, KEY, stamp(0))
    assert meta["cursor_range"] == f"{stamp(0)} -> {stamp(4)}"
    assert "window" not in meta  # the range says it: no second name for it
    assert _ordered_keys(instance, KEY)[-2:] == [CURSOR_KEY, WINDOW_KEY]
    # a re-run of the window loads the same range again
    assert run(defs, instance, partition_key=stamp(0)).success
    assert latest_meta(instance, KEY, stamp(0))["cursor_range"] == f"{stamp(0)} -> {stamp(4)}"


def test_an_incremental_child_shows_its_range_over_its_parents(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    child = {
        "name": "events",
        "primary_key": "id",
        "write_disposition": "merge",
        "endpoint": {
            "path": "items/{resources.items.id}/events",
            "params": {"since": "{incremental.start_value}"},
            "incremental": {"cursor_path": "id", "initial_value": 0},
        },
    }
    config = source(api, {"primary_key": "id"})
    config["sources"][0]["resources"].append(child)
    defs = build_definitions(config, database=tmp_path / "w.duckdb")
    api.add(1, 2)
    assert run(defs, instance).success
    meta = latest_meta(instance, EVENTS)
    assert meta["cursor_range"] == "0 -> 202 over 2 parents"
    assert _ordered_keys(instance, EVENTS)[-2:] == [CURSOR_KEY, PARENT_CURSORS_KEY]
    assert set(INTERNAL_KEYS) >= {CURSOR_KEY, PARENT_CURSORS_KEY}


def test_a_parent_names_the_child_its_new_partitions_are_for(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    child = {
        "name": "events",
        "partition_by_parent": True,
        "endpoint": {"path": "items/{resources.items.id}/events", "paginator": "single_page"},
    }
    config = source(api, {"primary_key": "id", "write_disposition": "merge"})
    config["sources"][0]["resources"].append(child)
    config["sources"][0]["key_prefix"] = ["raw"]
    defs = build_definitions(config, database=tmp_path / "w.duckdb")
    prefixed = KEY.with_prefix("raw")
    api.add(1, 2, 3)
    assert run(defs, instance, selection=[prefixed]).success
    assert latest_meta(instance, prefixed)["partitions_added"] == {"raw/shop/events": 3}
    api.add(4)
    assert run(defs, instance, selection=[prefixed]).success
    assert latest_meta(instance, prefixed)["partitions_added"] == {"raw/shop/events": 1}
