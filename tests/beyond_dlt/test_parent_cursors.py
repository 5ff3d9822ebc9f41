"""Incremental children keep one cursor per parent key (dlt 2429), bounded, in Dagster; and
every child request paginates on its own while the parents span pages (dlt 3772)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from rest_assets import asset_key, build_definitions
from rest_assets.dagster.state import PARENT_CURSORS_KEY
from rest_assets.extract.parent_cursors import ParentCursors, parent_key
from rest_assets.extract.records import ParentRow
from tests.beyond_dlt.conftest import PARENTS, project
from tests.beyond_dlt.pains_api import PainsAPI, stamp
from tests.incremental.conftest import latest_meta, rows, run

EVENTS_KEY = asset_key("pains", "events")


def events(**incremental: Any) -> dict[str, Any]:
    return {
        "name": "events",
        "primary_key": "id",
        "write_disposition": "append",
        "parent_rows": "all",
        "endpoint": {
            "path": "parents/{resources.parents.id}/events",
            "data_selector": "data",
            "paginator": {"type": "json_link", "next_url_path": "next"},
            "params": {"since": "{incremental.start_value}"},
            "incremental": {"cursor_path": "updated_at", "initial_value": stamp(0), **incremental},
        },
    }


def _since_by_parent(api: PainsAPI) -> dict[int, str | None]:
    """The `since` of each parent's first events request (page 1)."""
    out: dict[int, str | None] = {}
    for request in api.sent("/parents/"):
        if request.arg("page") is None:
            out[int(request.path.split("/")[2])] = request.arg("since")
    return out


def _cursors(instance: dg.DagsterInstance) -> dict[str, Any]:
    return latest_meta(instance, EVENTS_KEY)[PARENT_CURSORS_KEY]


def test_each_parent_keeps_its_own_cursor_and_none_is_skipped(
    pains: PainsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    # parent 1 is busy (late minutes), parent 2 quiet (early minutes); 5 events each on
    # parents 1 and 2 make three child pages; the 12 parents span three parent pages
    for minute in range(100, 105):
        pains.add_event(1, minute)
    for minute in range(10, 15):
        pains.add_event(2, minute)
    for parent in range(3, 13):
        pains.add_event(parent, parent)
    defs = build_definitions(project(pains, [PARENTS, events()]), database=db)

    assert run(defs, instance).success
    assert len(pains.sent("/parents")) == 3
    assert all(since == stamp(0) for since in _since_by_parent(pains).values())
    assert len(pains.sent("/parents/1/events")) == 3  # each child walks its own pages
    assert len(pains.sent("/parents/2/events")) == 3
    assert rows(db, "SELECT count(*) FROM raw_pains.events") == [(20,)]
    cursors = {key: value for key, value, _ in _cursors(instance)["cursors"]}
    assert cursors["1"] == stamp(104) and cursors["2"] == stamp(14)
    assert cursors["7"] == stamp(7) and len(cursors) == 12
    assert latest_meta(instance, EVENTS_KEY)["records_new"] == 20

    # A new event of the quiet parent, older than the busy parent's newest: one cursor for
    # all parents (dlt) asks parent 2 for events since minute 104 and never sees it.
    pains.server.requests.clear()
    pains.add_event(2, 20)
    assert run(defs, instance, selection=[EVENTS_KEY]).success
    since = _since_by_parent(pains)
    assert since[1] == stamp(104) and since[2] == stamp(14) and since[7] == stamp(7)
    assert rows(db, "SELECT count(*), count(DISTINCT id) FROM raw_pains.events") == [(21, 21)]
    assert latest_meta(instance, EVENTS_KEY)["records_new"] == 1
    cursors = {key: value for key, value, _ in _cursors(instance)["cursors"]}
    assert cursors["2"] == stamp(20) and cursors["1"] == stamp(104)


def _request_order(api: PainsAPI) -> list[str]:
    return [r.path.split("/")[2] for r in api.sent("/parents/") if r.arg("page") is None]


def test_the_map_is_bounded_oldest_evicted_and_evicted_parents_reread(
    pains: PainsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    for parent in range(1, 13):
        pains.add_event(parent, 30 + parent)
    child = {**events(max_parent_cursors=5), "write_disposition": "merge"}
    defs = build_definitions(project(pains, [PARENTS, child]), database=db)
    assert run(defs, instance).success
    stored = _cursors(instance)
    order = _request_order(pains)
    assert [entry[0] for entry in stored["cursors"]] == order[-5:]  # the last five requested
    assert stored["evicted"] == 7

    evicted, kept = order[0], order[-1]
    pains.server.requests.clear()
    pains.add_event(int(evicted), 90)
    assert run(defs, instance, selection=[EVENTS_KEY]).success
    since = _since_by_parent(pains)
    assert since[int(evicted)] == stamp(0)  # evicted: re-read from the start, never skipped
    assert since[int(kept)] == stamp(30 + int(kept))  # remembered
    assert rows(db, "SELECT count(*), count(DISTINCT id) FROM raw_pains.events") == [(13, 13)]
    stored = _cursors(instance)
    assert [entry[0] for entry in stored["cursors"]] == _request_order(pains)[-5:]
    assert stored["evicted"] == 14


def test_cursor_set_moves_every_parent(
    pains: PainsAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    from rest_assets.dagster.state import record_cursor
    from rest_assets.extract.incremental import CursorState

    db = tmp_path / "w.duckdb"
    pains.add_event(1, 5)
    pains.add_event(2, 50)
    defs = build_definitions(project(pains, [PARENTS, events()]), database=db)
    assert run(defs, instance).success
    record_cursor(instance, EVENTS_KEY, CursorState(stamp(3)), "set")
    pains.server.requests.clear()
    assert run(defs, instance, selection=[EVENTS_KEY]).success
    assert set(_since_by_parent(pains).values()) == {stamp(3)}
    assert _cursors(instance)["base"]["last_value"] == stamp(3)


def test_parent_cursors_unit_keys_and_trackers() -> None:
    from rest_assets.config.models import IncrementalConfig
    from rest_assets.extract.incremental import IncrementalSpec

    spec = IncrementalSpec(IncrementalConfig(cursor_path="t", initial_value=0), "r", ["id"])
    stored = {"base": None, "cursors": [["a", 5, ["[1]"]]], "evicted": 0}
    cursors = ParentCursors(spec, stored)
    rows_in = [ParentRow({"p": "a"}), ParentRow({"p": "b"})]
    prepared = list(cursors.prepare(rows_in))
    assert [r.values["incremental.start_value"] for r in prepared] == [5, 0]
    # at the boundary the record loaded before is dropped, a new one kept
    assert prepared[0].tracker.filter([{"id": 1, "t": 5}, {"id": 2, "t": 5}]) == [{"id": 2, "t": 5}]
    assert parent_key({"x": 1}) == "1"
    assert parent_key({"x": 1, "y": "b"}) == '{"x":1,"y":"b"}'
