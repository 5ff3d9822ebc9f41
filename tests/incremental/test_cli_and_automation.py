"""Rewinding via `rest-assets cursor`, the new-data sensor and schedules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import yaml

from rest_assets import asset_key, build_definitions
from rest_assets.cli import main
from rest_assets.dagster.state import ACTION_KEY, CURSOR_KEY
from tests.incremental.conftest import ItemsAPI, latest_meta, rows, run, source, stamp
from tests.incremental.test_cursor_runs import INCREMENTAL

KEY = asset_key("shop", "items")


def test_cli_show_set_reset_records_observations_and_rewinds_the_next_run(
    api: ItemsAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    config = tmp_path / "sources.yml"
    config.write_text(yaml.safe_dump(source(api, {**INCREMENTAL, "write_disposition": "merge"})))
    db = tmp_path / "w.duckdb"
    api.add(*range(1, 8))
    assert main(["materialize", str(config), "--database", str(db)]) == 0

    assert main(["cursor", "show", str(config), "items"]) == 0
    out = capsys.readouterr().out
    assert stamp(7) in out and "materialization" in out

    assert main(["cursor", "set", str(config), "shop/items", stamp(3)]) == 0
    assert "observation (set)" in capsys.readouterr().out
    with dg.DagsterInstance.get() as instance:
        observed = instance.fetch_observations(KEY, limit=5).records
        assert len(observed) == 1
        meta = observed[0].asset_observation.metadata  # type: ignore[union-attr]
        assert meta[CURSOR_KEY].value["last_value"] == stamp(3)
        assert meta[ACTION_KEY].value == "set"
        # the observation is not a materialization: the data's history is untouched
        assert len(instance.fetch_materializations(KEY, limit=5).records) == 1

    api.clear()
    assert main(["materialize", str(config), "--database", str(db)]) == 0
    assert [r.arg("updated_since") for r in api.sent()] == [stamp(3)]
    with dg.DagsterInstance.get() as instance:
        assert latest_meta(instance, KEY)["records_new"] == 5  # 3 (boundary unknown) .. 7
        assert latest_meta(instance, KEY)[CURSOR_KEY]["last_value"] == stamp(7)
    assert rows(db, "SELECT count(*) FROM raw_shop.items") == [(7,)]  # merged, not doubled

    assert main(["cursor", "reset", str(config), "items"]) == 0
    assert "initial_value" in capsys.readouterr().out
    api.clear()
    assert main(["materialize", str(config), "--database", str(db)]) == 0
    assert next(r.arg("updated_since") for r in api.sent()) == stamp(0)

    assert main(["cursor", "show", str(config), "nope"]) == 1
    assert "matches no resource" in capsys.readouterr().err


def _sensor(defs: dg.Definitions, name: str) -> dg.SensorDefinition:
    return defs.resolve_sensor_def(name)


def test_sensor_requests_a_run_only_when_there_is_new_data(
    api: ItemsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    api.add(1, 2, 3)
    config = {**INCREMENTAL, "sensor": {"running": True, "minimum_interval_seconds": 60}}
    defs = build_definitions(source(api, config), database=db)
    sensor = _sensor(defs, "shop_items_new_data")
    assert sensor.minimum_interval_seconds == 60
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING

    # no cursor yet and data on the server: a run is requested
    result = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
    assert isinstance(result, dg.SensorResult) and len(result.run_requests or []) == 1
    assert run(defs, instance).success

    api.clear()
    result = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
    assert isinstance(result, dg.SkipReason)
    assert len(api.sent()) == 1 and api.sent()[0].arg("updated_since") == stamp(3)

    api.add(4)
    api.clear()
    result = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
    assert isinstance(result, dg.SensorResult) and len(result.run_requests or []) == 1
    assert api.sent()[0].arg("updated_since") == stamp(3)


def test_sensors_default_to_stopped_and_can_be_disabled(api: ItemsAPI) -> None:
    defs = build_definitions(source(api, INCREMENTAL), database=":memory:")
    sensor = _sensor(defs, "shop_items_new_data")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert sensor.minimum_interval_seconds == 300
    off = build_definitions(
        source(api, {**INCREMENTAL, "sensor": {"enabled": False}}), database=":memory:"
    )
    assert not list(off.sensors or [])
    plain = build_definitions(source(api, {}), database=":memory:")
    assert not list(plain.sensors or [])


def test_schedules_for_plain_and_time_partitioned_assets(api: ItemsAPI) -> None:
    project = source(api, {"schedule": {"cron": "15 * * * *", "running": False}})
    project["sources"][0]["resources"].append(
        {
            "name": "daily",
            "endpoint": {
                "path": "items",
                "params": {"updated_since": "{partition.start}"},
            },
            "partitions": {"type": "daily", "start": "2024-01-01"},
        }
    )
    project["sources"][0]["schedule"] = {"cron": "0 3 * * *"}
    defs = build_definitions(project, database=":memory:")
    hourly = defs.resolve_schedule_def("shop_items_schedule")
    assert hourly.cron_schedule == "15 * * * *"
    assert hourly.default_status == dg.DefaultScheduleStatus.STOPPED
    whole = defs.resolve_schedule_def("shop_schedule")
    assert whole.cron_schedule == "0 3 * * *"
    assert whole.default_status == dg.DefaultScheduleStatus.RUNNING
    daily = defs.resolve_schedule_def("shop_daily_schedule")
    assert daily.cron_schedule == "0 3 * * *"
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2024, 3, 5, 3, 0, tzinfo=UTC),
        repository_def=defs.get_repository_def(),
    )
    (request,) = daily.evaluate_tick(context).run_requests or []
    assert request.partition_key == "2024-03-04"
