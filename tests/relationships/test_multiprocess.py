"""Four assets of one source materialized at once in separate processes, one DuckDB file."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import rel_defs
from rel_support import sql

from rest_assets.demo.server import LocalAPI, Request, Response


def _bulk(request: Request) -> Response:
    name = request.path.rsplit("/", 1)[-1]
    page = int(request.arg("page", "1") or 1)
    start = (page - 1) * rel_defs.PER_PAGE
    data = [
        {"id": start + i, "name": name, "payload": f"{name}-{start + i}", "tags": ["x", "y"]}
        for i in range(rel_defs.PER_PAGE)
    ]
    return Response({"data": data, "pages": rel_defs.PAGES})


@pytest.fixture
def bulk_api() -> Iterator[LocalAPI]:
    api = LocalAPI()
    api.route("GET", "/bulk/", _bulk, prefix=True)
    api.start()
    yield api
    api.stop()


@pytest.fixture
def bulk_env(bulk_api: LocalAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    database = tmp_path / "shared.duckdb"
    monkeypatch.setenv("RA_BULK_URL", bulk_api.url)
    monkeypatch.setenv("RA_BULK_DATABASE", str(database))
    yield database


def _job(name: str) -> dg.ReconstructableJob:
    # The step processes import rel_defs from this directory (pytest put it on sys.path
    # here only); the reconstructable job names it as their working directory.
    return dg.build_reconstructable_job(
        "rel_defs", name, reconstructor_working_directory=str(Path(__file__).parent)
    )


def _steps(result: dg.ExecutionResult) -> dict[str, dict[str, dg.DagsterEvent]]:
    steps: dict[str, dict[str, dg.DagsterEvent]] = {}
    for event in result.all_events:
        if event.step_key and event.event_type_value in ("STEP_START", "STEP_SUCCESS"):
            steps.setdefault(event.step_key, {})[event.event_type_value] = event
    return steps


def _check_all_rows(database: Path) -> None:
    for name in rel_defs.NAMES:
        total = rel_defs.PAGES * rel_defs.PER_PAGE
        assert sql(database, f"SELECT count(*), count(DISTINCT id) FROM raw_bulk.{name}") == [
            (total, total)
        ]
        assert sql(database, f"SELECT count(*) FROM raw_bulk.{name}__tags") == [(2 * total,)]


def test_four_assets_in_separate_processes_take_turns_on_the_lock(
    bulk_env: Path, bulk_api: LocalAPI, instance: dg.DagsterInstance
) -> None:
    # This process holds the DuckDB file until every step has fetched all its pages, so
    # all four commits meet a locked file at once and must wait their turn.
    holder = duckdb.connect(str(bulk_env))
    holder.execute("CREATE TABLE held_by_the_test (x INTEGER)")
    pages = len(rel_defs.NAMES) * rel_defs.PAGES

    def release() -> None:
        done = threading.Event()
        for _ in range(1200):
            if len(bulk_api.requests) >= pages or done.wait(0.05):
                break
        done.wait(0.5)  # let the steps reach their commit
        holder.close()

    releaser = threading.Thread(target=release)
    releaser.start()
    try:
        result = dg.execute_job(_job("four_assets_job"), instance=instance)
    finally:
        releaser.join()
    assert len(bulk_api.requests) == pages
    assert result.success
    steps = _steps(result)
    assert len(steps) == 4 and all("STEP_SUCCESS" in s for s in steps.values())
    pids = {s["STEP_START"].pid for s in steps.values()}
    assert len(pids) == 4 and os.getpid() not in pids  # one process per step
    _check_all_rows(bulk_env)


def test_a_concurrency_pool_serialises_the_steps(bulk_env: Path, tmp_path: Path) -> None:
    home = tmp_path / "pool_home"
    home.mkdir()
    overrides = {"concurrency": {"pools": {"default_limit": 1}}}
    with dg.instance_for_test(temp_dir=str(home), overrides=overrides) as instance:
        result = dg.execute_job(_job("four_pooled_assets_job"), instance=instance)
        assert result.success
        logs = instance.all_logs(result.run_id)
    position: dict[tuple[str, str], int] = {}
    for index, entry in enumerate(logs):
        event = entry.dagster_event
        if event is not None and entry.step_key:
            position.setdefault((entry.step_key, event.event_type_value), index)
    spans = sorted(
        (position[(step, "STEP_WORKER_STARTING")], position[(step, "STEP_SUCCESS")])
        for step in {k for k, _ in position}
    )
    assert len(spans) == 4
    # with one slot, a step starts only after the previous one finished
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start > end
    _check_all_rows(bulk_env)
