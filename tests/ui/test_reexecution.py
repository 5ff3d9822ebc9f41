"""A run the `rest-assets` CLI made is re-executed from the UI (GraphQL), fetching only what
did not materialize: "from asset failure" and "from failure" both.

`dagster dev -f definitions.py` serves a project whose API fails one resource the first
time; `rest-assets materialize` runs it (the run belongs to the `definitions.py` location);
then the webserver re-executes that run, as the UI's buttons do.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_dagster_ui import _free_port, _graphql, _wait_for

from rest_assets.demo.server import LocalAPI, Request, Response

pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]
BIN = Path(sys.executable).parent

REEXECUTE = """
mutation Reexecute($params: ReexecutionParams!) {
  launchPipelineReexecution(reexecutionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message stack }
    ... on InvalidSubsetError { message }
  }
}
"""
RUN = """
query R($id: ID!) {
  runOrError(runId: $id) {
    ... on Run { status jobName repositoryOrigin { repositoryLocationName repositoryName } }
  }
}
"""


class Flaky:
    def __init__(self) -> None:
        self.api = LocalAPI()
        self.failing = {"users", "orders"}
        for name in ("items", "users", "orders"):
            self.api.route("GET", f"/{name}", self._list(name))

    def _list(self, name: str) -> Any:
        def handler(request: Request) -> Response:
            if name in self.failing:
                return Response({"error": "down"}, status=400)
            return Response([{"id": i} for i in range(3)])

        return handler


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Flaky, dict[str, str], Path]]:
    flaky = Flaky()
    config = {
        "sources": [
            {
                "name": "shop",
                "client": {"base_url": "${SHOP_URL}", "paginator": "single_page"},
                "resources": ["items", "users", "orders"],
            }
        ]
    }
    (tmp_path / "sources.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "definitions.py").write_text(
        "from pathlib import Path\nfrom rest_assets import build_definitions\n"
        "defs = build_definitions(Path(__file__).parent / 'sources.yml')\n"
    )
    with flaky.api:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(tmp_path / ".dagster_home"),
            "SHOP_URL": flaky.api.url,
        }
        yield flaky, env, tmp_path


def _finished(base: str, run_id: str) -> Any:
    def probe() -> dict[str, Any] | None:
        run = _graphql(base, RUN, {"id": run_id})["runOrError"]
        return run if run.get("status") in {"SUCCESS", "FAILURE", "CANCELED"} else None

    return probe


def test_a_cli_run_is_re_executed_from_the_ui(
    project: tuple[Flaky, dict[str, str], Path],
) -> None:
    flaky, env, folder = project
    done = subprocess.run(
        [str(BIN / "rest-assets"), "materialize", "sources.yml"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=200,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-3000:]
    port = _free_port()
    log = folder / "dagster_dev.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(BIN / "dagster"), "dev", "-f", "definitions.py", "-h", "127.0.0.1",
             "-p", str(port)],
            cwd=folder, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def runs() -> list[dict[str, Any]] | None:
            data = _graphql(base, "{ runsOrError { ... on Runs { results { runId } } } }")
            return data["runsOrError"]["results"] or None

        (first,) = _wait_for("the CLI's run", runs, 120, process)
        parent = _graphql(base, RUN, {"id": first["runId"]})["runOrError"]
        assert parent["status"] == "FAILURE"
        assert parent["jobName"] == "__ASSET_JOB"
        assert parent["repositoryOrigin"]["repositoryLocationName"] == "definitions.py"

        def location_loaded() -> bool:
            data = _graphql(base, "{ assetNodes { assetKey { path } } }")
            return bool(data["assetNodes"])

        _wait_for("the code location", location_loaded, 120, process)
        # "Re-execute from asset failure": Dagster selects the assets that did not materialize
        flaky.failing.discard("users")
        flaky.api.requests.clear()
        retry = _reexecute(base, first["runId"], "FROM_ASSET_FAILURE", process)
        assert retry["status"] == "FAILURE"  # orders still fails
        assert sorted(r.path for r in flaky.api.requests) == ["/orders", "/users"]
        # "Re-execute from failure": the failed step again, without what already landed
        flaky.failing.clear()
        flaky.api.requests.clear()
        second = _graphql(base, "{ runsOrError { ... on Runs { results { runId } } } }")
        latest = second["runsOrError"]["results"][0]["runId"]
        final = _reexecute(base, latest, "FROM_FAILURE", process)
        assert final["status"] == "SUCCESS", log.read_text()[-4000:]
        assert [r.path for r in flaky.api.requests] == ["/orders"]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _reexecute(
    base: str, run_id: str, strategy: str, process: subprocess.Popen[bytes]
) -> dict[str, Any]:
    launched = _graphql(base, REEXECUTE, {"params": {"parentRunId": run_id, "strategy": strategy}})[
        "launchPipelineReexecution"
    ]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    new_id = launched["run"]["runId"]
    return dict(_wait_for(f"run {new_id}", _finished(base, new_id), 150, process))
