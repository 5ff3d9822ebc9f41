"""The load ledger keeps a stateful asset's cursor and table in step.

- a load committed to DuckDB whose materialization Dagster never recorded (the process died
  in between) is recorded by the next run, which starts from that load's cursor;
- two runs of one incremental `append` asset at once: the second commit is refused, nothing
  lands twice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from rest_assets import DuckDBIOManager, asset_key, rest_api_assets
from rest_assets.dagster import resource_run
from rest_assets.demo.server import LocalAPI, Request, Response

KEY = asset_key("feed", "events")


def _events(count: int) -> list[dict]:
    return [{"id": i, "at": f"2024-01-01T00:{i:02d}:00Z"} for i in range(1, count + 1)]


class Feed:
    """An API filtering by `since` (inclusive), optionally holding the first request."""

    def __init__(self, server: LocalAPI) -> None:
        self.rows = _events(10)
        self.hold: threading.Event | None = None
        self.held = threading.Event()
        server.route("GET", "/events", self.handle)

    def handle(self, request: Request) -> Response:
        if self.hold is not None and not self.held.is_set():
            self.held.set()
            self.hold.wait(30)
        since = request.arg("since") or ""
        return Response([r for r in self.rows if r["at"] >= since])


@pytest.fixture
def feed() -> Iterator[tuple[LocalAPI, Feed]]:
    with LocalAPI() as server:
        yield server, Feed(server)


def _assets(url: str) -> list[dg.AssetsDefinition]:
    return rest_api_assets(
        {
            "client": {"base_url": url, "rate_limit": {"max_retries": 0}},
            "resources": [
                {
                    "name": "events",
                    "write_disposition": "append",
                    "primary_key": "id",
                    "endpoint": {
                        "path": "events",
                        "paginator": "single_page",
                        "params": {"since": "{incremental.start_value}"},
                        "incremental": {"cursor_path": "at", "initial_value": "2024-01-01"},
                    },
                }
            ],
        },
        name="feed",
    )


def _run(url: str, db: Path, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        _assets(url),
        instance=instance,
        resources={"io_manager": DuckDBIOManager(database=str(db))},
        raise_on_error=False,
    )


def _ids(db: Path) -> list[int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT id FROM raw_feed.events ORDER BY id").fetchall()]


def _cursor(instance: dg.DagsterInstance) -> str:
    event = instance.get_latest_materialization_event(KEY)
    assert event is not None and event.asset_materialization is not None
    return str(event.asset_materialization.metadata["cursor"].value)


def test_a_commit_dagster_missed_is_recorded_and_not_loaded_twice(
    feed: tuple[LocalAPI, Feed],
    instance: dg.DagsterInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, api = feed
    db = tmp_path / "w.duckdb"
    assert _run(server.url, db, instance).success
    assert _ids(db) == list(range(1, 11))
    before = _cursor(instance)

    # New records arrive; the next run commits them, then dies before Dagster records it.
    api.rows = _events(15)

    def die(*args: object, **kwargs: object) -> None:
        raise RuntimeError("process died after the DuckDB commit")

    with monkeypatch.context() as patch:
        # the metadata is made right after the commit: dying there is dying after COMMIT
        patch.setattr(resource_run, "resource_materialization", die)
        assert not _run(server.url, db, instance).success
    assert _ids(db) == list(range(1, 16))  # the data landed ...
    assert _cursor(instance) == before  # ... but Dagster's cursor did not move

    result = _run(server.url, db, instance)
    assert result.success
    assert _ids(db) == list(range(1, 16))  # nothing twice, with append
    assert server.requests_to("/events")[-1].arg("since") == "2024-01-01T00:15:00Z"
    reconciled = [
        r
        for r in instance.fetch_materializations(KEY, limit=10).records
        if r.asset_materialization is not None
        and "rest_assets/reconciled" in r.asset_materialization.metadata
    ]
    assert len(reconciled) == 1
    assert _cursor(instance) == "2024-01-01T00:15:00Z"


def test_two_runs_at_once_the_second_commit_is_refused(
    feed: tuple[LocalAPI, Feed], instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    server, api = feed
    db = tmp_path / "w.duckdb"
    assert _run(server.url, db, instance).success
    api.rows = _events(20)

    # Run A reads the cursor and is held on its request; run B loads the new rows meanwhile.
    api.hold = threading.Event()
    api.held.clear()
    results: dict[str, dg.ExecuteInProcessResult] = {}
    first = threading.Thread(target=lambda: results.setdefault("a", _run(server.url, db, instance)))
    first.start()
    assert api.held.wait(30)
    results["b"] = _run(server.url, db, instance)
    api.hold.set()
    first.join(60)

    assert results["b"].success
    assert not results["a"].success
    error = results["a"].get_step_failure_events()[0].step_failure_data.error
    text = ""
    while error is not None:
        text += error.message
        error = error.cause
    assert "another run committed load" in text and "nothing was written" in text
    assert _ids(db) == list(range(1, 21))  # each record once
    assert _cursor(instance) == "2024-01-01T00:20:00Z"
    # and the next run carries on from B's cursor
    assert _run(server.url, db, instance).success
    assert _ids(db) == list(range(1, 21))
