"""Runs launched the way the UI and the dagster CLI launch them: the job's own executor.

`dagster asset materialize -f definitions.py` and `rest-assets materialize` both run the
definitions' asset job in a subprocess; a multiprocess project starts one process per step.
A failed CLI run is re-executed from failure as the UI does it, and fetches only what did
not materialize.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from rest_assets.cli.jobs import reconstructable_asset_job
from rest_assets.demo.server import LocalAPI, Request, Response

pytestmark = pytest.mark.timeout(300)
BIN = Path(sys.executable).parent


class Api:
    def __init__(self) -> None:
        self.api = LocalAPI()
        self.failing: set[str] = set()
        for name in ("items", "users"):
            self.api.route("GET", f"/{name}", self._list(name))
        self.api.route("GET", "/items/", self._detail, prefix=True)

    def _list(self, name: str) -> Any:
        def handler(request: Request) -> Response:
            if name in self.failing:
                return Response({"error": "down"}, status=400)
            return Response([{"id": i} for i in range(1, 4)])

        return handler

    def _detail(self, request: Request) -> Response:
        return Response({"item": int(request.path.rsplit("/", 1)[-1])})


@pytest.fixture
def api() -> Iterator[Api]:
    api = Api()
    with api.api:
        yield api


def _project(tmp_path: Path, api: Api, **project: Any) -> Path:
    config = {
        **project,
        "sources": [
            {
                "name": "shop",
                "client": {"base_url": "${SHOP_URL}", "paginator": "single_page"},
                "resource_defaults": {"primary_key": "id"},
                "resources": [
                    "items",
                    "users",
                    {
                        "name": "details",
                        "primary_key": "item",
                        "endpoint": "items/{resources.items.id}",
                    },
                ],
            }
        ],
    }
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(config))
    (tmp_path / "definitions.py").write_text(
        "from pathlib import Path\n"
        "from rest_assets import build_definitions\n"
        "defs = build_definitions(Path(__file__).parent / 'sources.yml')\n"
    )
    return path


def _env(tmp_path: Path, api: Api) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SHOP_URL": api.api.url,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


def _step_events(instance: dg.DagsterInstance, run_id: str) -> dict[str, list[dg.EventLogEntry]]:
    out: dict[str, list[dg.EventLogEntry]] = {}
    for entry in instance.all_logs(run_id):
        if entry.dagster_event is not None and entry.step_key:
            out.setdefault(entry.step_key, []).append(entry)
    return out


def _materialized(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    return {
        e.dagster_event.asset_key.to_user_string()  # type: ignore[union-attr]
        for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    }


@pytest.mark.parametrize("executor", ["in_process", "multiprocess"])
def test_dagster_asset_materialize_runs_one_step_per_source(
    api: Api, tmp_path: Path, executor: str
) -> None:
    _project(tmp_path, api, executor=executor)
    env = _env(tmp_path, api)
    done = _run(
        [str(BIN / "dagster"), "asset", "materialize", "--select", "*", "-f", "definitions.py"],
        tmp_path,
        env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        (run,) = instance.get_runs()
        assert run.job_name == "__ASSET_JOB"
        steps = _step_events(instance, run.run_id)
        assert set(steps) == {"shop"}  # one step for three assets and six checks
        assert _materialized(instance, run.run_id) == {"shop/items", "shop/users", "shop/details"}
        step_pids = {e.dagster_event.pid for e in steps["shop"]} - {None}  # type: ignore[union-attr]
        run_pids = {
            e.dagster_event.pid  # type: ignore[union-attr]
            for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_START)
        }
    # multiprocess: the step ran in a process of its own; in_process: in the run's process
    assert (step_pids == run_pids) == (executor == "in_process")


def test_a_cli_run_is_the_asset_job_and_re_executes_from_failure(api: Api, tmp_path: Path) -> None:
    config = _project(tmp_path, api)
    env = _env(tmp_path, api)
    api.failing.add("users")
    done = _run([str(BIN / "rest-assets"), "materialize", str(config)], tmp_path, env)
    assert done.returncode == 1
    assert "users" in done.stderr and "400" in done.stderr
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        (failed,) = instance.get_runs()
        assert failed.job_name == "__ASSET_JOB"
        assert failed.tags["rest_assets/launched_by"] == "cli"
        assert failed.tags["rest_assets/config"] == str(config.resolve())
        assert _materialized(instance, failed.run_id) == {"shop/items", "shop/details"}

        # "Re-execute from failure", as the UI launches it, once the API is back
        api.failing.clear()
        api.api.requests.clear()
        os.environ["SHOP_URL"] = api.api.url
        try:
            database = str(tmp_path / "warehouse.duckdb")
            with reconstructable_asset_job(str(config), database) as job:
                retry = dg.execute_job(
                    job,
                    instance=instance,
                    reexecution_options=dg.ReexecutionOptions.from_failure(failed.run_id, instance),
                    # the tag the UI's "Re-execute from failure" sets on the new run
                    tags={"dagster/is_resume_retry": "true"},
                )
        finally:
            del os.environ["SHOP_URL"]
        assert retry.success
        # only what did not materialize is fetched again
        assert [r.path for r in api.api.requests] == ["/users"]
        assert _materialized(instance, retry.run_id) == {"shop/users"}
