"""Incremental windows (dlt 3223): `end_value` derived from `start_value` + `window`, windows
looped until end_value or now, the cursor committed once; `lookback` re-reads late records
without loading any twice."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from rest_assets import asset_key, build_definitions
from rest_assets.dagster.state import CURSOR_KEY
from rest_assets.errors import ConfigError
from tests.beyond_dlt.conftest import PARENTS, project
from tests.beyond_dlt.pains_api import PainsAPI, stamp
from tests.incremental.conftest import latest_meta, rows, run

KEY = asset_key("pains", "windowed")


def windowed(**incremental: Any) -> dict[str, Any]:
    return {
        "name": "windowed",
        "primary_key": "id",
        "write_disposition": "append",
        "endpoint": {
            "path": "windowed",
            "data_selector": "data",
            "paginator": "single_page",
            "params": {"start": "{incremental.start_value}", "end": "{incremental.end_value}"},
            "incremental": {"cursor_path": "updated_at", "initial_value": stamp(0), **incremental},
        },
    }


def _bounds(api: PainsAPI) -> list[tuple[str | None, str | None]]:
    return [(r.arg("start"), r.arg("end")) for r in api.sent("/windowed")]


def test_windows_up_to_end_value_each_with_both_bounds(
    pains: PainsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    for minute in (5, 60, 65, 130, 200):
        pains.add_windowed(minute)
    config = windowed(window="1h", end_value=stamp(240))
    defs = build_definitions(project(pains, [config]), database=db)
    assert run(defs, instance).success
    assert _bounds(pains) == [
        (stamp(0), stamp(60)),
        (stamp(60), stamp(120)),
        (stamp(120), stamp(180)),
        (stamp(180), stamp(240)),
    ]
    assert rows(db, "SELECT count(*), count(DISTINCT id) FROM raw_pains.windowed") == [(5, 5)]
    meta = latest_meta(instance, KEY)
    assert meta["windows"] == 4
    assert meta[CURSOR_KEY]["last_value"] == stamp(200)  # once, at the end, with the data


def test_windows_loop_until_now_and_the_next_run_starts_at_the_cursor(
    pains: PainsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    started = datetime.now(UTC)
    pains.add_windowed(30)
    defs = build_definitions(project(pains, [windowed(window="120d")]), database=db)
    assert run(defs, instance).success
    bounds = _bounds(pains)
    assert bounds[0][0] == stamp(0)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))  # contiguous
    last_end = datetime.fromisoformat(str(bounds[-1][1]))
    assert last_end >= started  # the last window reaches now
    assert latest_meta(instance, KEY)["windows"] == len(bounds)

    pains.server.requests.clear()
    pains.add_windowed(40)
    assert run(defs, instance).success
    assert _bounds(pains)[0][0] == stamp(30)
    assert rows(db, "SELECT count(*) FROM raw_pains.windowed") == [(2,)]


def test_lookback_rereads_late_records_without_duplicates(
    pains: PainsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    for minute in (5, 55, 65):
        pains.add_windowed(minute)
    config = windowed(window="1h", end_value=stamp(240), lookback="30m")
    defs = build_definitions(project(pains, [config]), database=db)
    assert run(defs, instance).success
    assert latest_meta(instance, KEY)[CURSOR_KEY]["last_value"] == stamp(65)

    # a record arrives late with a time behind the cursor, and a new one after it
    pains.server.requests.clear()
    pains.add_windowed(50)
    pains.add_windowed(70)
    assert run(defs, instance).success
    assert _bounds(pains)[0] == (stamp(35), stamp(95))  # 30 minutes behind the cursor
    assert rows(db, "SELECT count(*), count(DISTINCT id) FROM raw_pains.windowed") == [(5, 5)]
    assert latest_meta(instance, KEY)["records_new"] == 2


def test_window_config_mistakes_fail_at_load(pains: PainsAPI) -> None:
    with pytest.raises(ConfigError, match="not a span"):
        build_definitions(project(pains, [windowed(window="soon")]))
    with pytest.raises(ConfigError, match="lag or lookback"):
        build_definitions(project(pains, [windowed(lookback="1h", lag=60)]))
    child = windowed(window="1d")
    child["endpoint"]["path"] = "parents/{resources.parents.id}/events"
    with pytest.raises(ConfigError, match="without parent"):
        build_definitions(project(pains, [PARENTS, child]))
