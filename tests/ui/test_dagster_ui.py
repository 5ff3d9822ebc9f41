"""Prove the UI: `dagster dev` on loopback shows the lineage, runs a materialization, renders.

Marked `ui`; it runs in the normal suite (deselect with `-m "not ui"`). The GraphQL part
needs only the venv; the screenshot part runs when a Chromium binary is installed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rest_assets.demo.api import DemoAPI

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "screenshot_lineage.py"
LOCATION = "rest_assets.demo.definitions"

pytestmark = [pytest.mark.ui, pytest.mark.timeout(240)]

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _graphql(base: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{base}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.loads(response.read())
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


def _wait_for(what: str, probe: Any, timeout: float, process: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"dagster dev exited ({process.returncode}) waiting for {what}")
        try:
            value = probe()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def dagster_dev(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """The demo API plus `dagster dev` on a free loopback port, with DAGSTER_HOME in tmp."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    # No first-visit dialog over the graph, no telemetry from tests.
    (home / "dagster.yaml").write_text("nux:\n  enabled: false\ntelemetry:\n  enabled: false\n")
    port = _free_port()
    log = tmp_path / "dagster_dev.log"
    with DemoAPI() as api, log.open("wb") as sink:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "DEMO_API_URL": api.url,
            "DEMO_API_TOKEN": api.token,
            "REST_ASSETS_DATABASE": str(tmp_path / "demo.duckdb"),
        }
        command = [
            str(Path(sys.executable).parent / "dagster"),
            *("dev", "-m", LOCATION, "-h", "127.0.0.1", "-p", str(port)),
        ]
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            yield f"http://127.0.0.1:{port}", process, log
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)  # the group this fixture started
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def test_dagster_dev_lineage_materialization_and_screenshot(
    dagster_dev: tuple[str, subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    base, process, log = dagster_dev

    def server_info() -> dict[str, Any] | None:
        with urllib.request.urlopen(f"{base}/server_info", timeout=5) as response:
            return json.loads(response.read())

    info = _wait_for("/server_info", server_info, 90, process)
    assert info["dagster_version"]

    def asset_nodes() -> list[dict[str, Any]] | None:
        data = _graphql(base, "{ assetNodes { assetKey { path } dependencyKeys { path } } }")
        return data["assetNodes"] or None

    nodes = _wait_for("the code location to load", asset_nodes, 90, process)
    edges = {
        ("/".join(dep["path"]), "/".join(node["assetKey"]["path"]))
        for node in nodes
        for dep in node["dependencyKeys"]
    }
    assert ("blog/posts", "blog/comments") in edges
    assert {"/".join(n["assetKey"]["path"]) for n in nodes} >= {
        "blog/posts",
        "blog/comments",
        "directory/users",
    }

    workspace = _graphql(
        base, "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }"
    )
    locations = [e["name"] for e in workspace["workspaceOrError"]["locationEntries"]]
    assert LOCATION in locations

    launched = _graphql(
        base,
        LAUNCH,
        {
            "params": {
                "selector": {
                    "repositoryLocationName": LOCATION,
                    "repositoryName": "__repository__",
                    "jobName": "__ASSET_JOB",
                    "assetSelection": [{"path": ["blog", "posts"]}, {"path": ["blog", "comments"]}],
                },
            }
        },
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    def finished() -> str | None:
        data = _graphql(
            base,
            "query R($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }",
            {"id": run_id},
        )
        status = data["runOrError"]["status"]
        return status if status in {"SUCCESS", "FAILURE", "CANCELED"} else None

    status = _wait_for(f"run {run_id}", finished, 120, process)
    assert status == "SUCCESS", log.read_text()[-4000:]

    materialized = _graphql(
        base,
        "{ assetNodes { assetKey { path } assetMaterializations(limit: 1) { runId } } }",
    )
    by_key = {"/".join(n["assetKey"]["path"]): n for n in materialized["assetNodes"]}
    assert by_key["blog/comments"]["assetMaterializations"][0]["runId"] == run_id

    _screenshot(base, tmp_path)


def _screenshot(base: str, tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import screenshot_lineage as shot
    finally:
        sys.path.remove(str(SCRIPT.parent))
    chromium = shot.find_chromium(os.environ.get("CHROMIUM"))
    if chromium is None:
        pytest.skip("no chromium installed: the GraphQL part passed, the screenshot is skipped")
    out = tmp_path / "lineage.png"
    keep = os.environ.get("REST_ASSETS_SCREENSHOT")  # set it to keep the PNG somewhere
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            *("--url", base, "--location", LOCATION, "--group", "blog"),
            *("--out", str(out), "--chromium", chromium),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert shot.png_size(out) == (1600, 1000)
    # A blank or error page compresses to a few KB; the drawn graph is far larger.
    assert out.stat().st_size > 30_000
    if keep:
        Path(keep).write_bytes(out.read_bytes())
