"""Prove the UI: `dg dev` on loopback shows the lineage, runs materializations, renders.

The workspace holds two code locations: the demo's definitions and a real dbt project's
assets (dagster-dbt, default translator) whose model selects from `source('blog', 'posts')`
in the `sources.yml` that `rest-assets dbt-sources` wrote. What each screenshot shows is
checked through GraphQL and in the page's text.

Marked `ui`; it runs in the normal suite (deselect with `-m "not ui"`). The GraphQL part
needs only the venv; the screenshot part runs when a Chromium binary is installed.

Red until the metadata part of issue 18 lands (another branch): the assertions in
`_metadata_work_of_issue_18` (a fully qualified `dagster/table_name`, column descriptions
in the materialization's column schema, both shown on the asset page). They run last, after
everything else was checked.
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

from rest_assets.cli import main
from rest_assets.cli.home import set_up_home
from rest_assets.demo.api import DemoAPI
from tests.support.dbt_project import DAGSTER_DEFS, DBT, MODEL, dbt, dbt_env, write_project
from tests.support.quiet import assert_quiet

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "screenshot_lineage.py"
DEMO_YAML = ROOT / "rest_assets" / "demo" / "sources.yml"
LOCATION = "rest_assets.demo.definitions"
DBT_LOCATION = "dbt_models"
WORKSPACE = f"""\
load_from:
  - python_module:
      module_name: {LOCATION}
      location_name: {LOCATION}
  - python_file:
      relative_path: dbt_defs.py
      location_name: {DBT_LOCATION}
"""

pytestmark = [
    pytest.mark.ui,
    pytest.mark.timeout(600),
    pytest.mark.skipif(not DBT.exists(), reason="dbt (dbt-duckdb) is not installed"),
]

POSTS_PAGE = """
{ assetNodes(assetKeys: [{path: ["blog", "posts"]}]) {
    opVersion
    dependedByKeys { path }
    assetMaterializations(limit: 1) {
      runId
      metadataEntries {
        label
        ... on TextMetadataEntry { text }
        ... on TableSchemaMetadataEntry { schema { columns { name type description } } }
      }
    }
} }
"""

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
    """The demo API plus `dg dev` on a free loopback port: the demo's location and a dbt
    project's, with a Dagster home set up as the CLI sets one up (no first-visit dialog)."""
    home = set_up_home(tmp_path / "dagster_home")
    database = tmp_path / "demo.duckdb"
    project = write_project(tmp_path / "dbt_project", database)
    sources = project / "models" / "sources.yml"
    assert (
        main(["dbt-sources", str(DEMO_YAML), "--database", str(database), "--out", str(sources)])
        == 0
    )
    parsed = dbt(project, "parse")
    assert parsed.returncode == 0, parsed.stdout[-3000:]
    (tmp_path / "dbt_defs.py").write_text(DAGSTER_DEFS)
    (tmp_path / "workspace.yaml").write_text(WORKSPACE)
    port = _free_port()
    log = tmp_path / "dagster_dev.log"
    with DemoAPI() as api, log.open("wb") as sink:
        env = {
            **dbt_env(),
            "DAGSTER_HOME": str(home),
            "DEMO_API_URL": api.url,
            "DEMO_API_TOKEN": api.token,
            "REST_ASSETS_DATABASE": str(database),
        }
        command = [
            str(Path(sys.executable).parent / "dg"),
            *("dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)),
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


def _launch(base: str, location: str, keys: list[list[str]], process: Any) -> str:
    """Launch the asset job of `location` for `keys`, wait for it; returns the run id."""
    launched = _graphql(
        base,
        LAUNCH,
        {
            "params": {
                "selector": {
                    "repositoryLocationName": location,
                    "repositoryName": "__repository__",
                    "jobName": "__ASSET_JOB",
                    "assetSelection": [{"path": key} for key in keys],
                },
            }
        },
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return str(launched["run"]["runId"])


def _run_status(base: str, run_id: str, process: Any) -> str:
    def finished() -> str | None:
        data = _graphql(
            base,
            "query R($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }",
            {"id": run_id},
        )
        status = data["runOrError"]["status"]
        return status if status in {"SUCCESS", "FAILURE", "CANCELED"} else None

    return str(_wait_for(f"run {run_id}", finished, 180, process))


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
        loaded = {tuple(n["assetKey"]["path"]) for n in data["assetNodes"]}
        return data["assetNodes"] if {("blog", "posts"), (MODEL,)} <= loaded else None

    nodes = _wait_for("both code locations to load", asset_nodes, 120, process)
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

    # the dbt model hangs under the REST asset, across the two code locations
    assert ("blog/posts", MODEL) in edges
    assert DBT_LOCATION in locations

    run_id = _launch(base, LOCATION, [["blog", "posts"], ["blog", "comments"]], process)
    status = _run_status(base, run_id, process)
    assert status == "SUCCESS", log.read_text()[-4000:]

    materialized = _graphql(
        base,
        "{ assetNodes { assetKey { path } assetMaterializations(limit: 1) { runId } } }",
    )
    by_key = {"/".join(n["assetKey"]["path"]): n for n in materialized["assetNodes"]}
    assert by_key["blog/comments"]["assetMaterializations"][0]["runId"] == run_id

    # the dbt model runs from the UI on the table rest-assets loaded
    dbt_run = _launch(base, DBT_LOCATION, [[MODEL]], process)
    assert _run_status(base, dbt_run, process) == "SUCCESS", log.read_text()[-4000:]

    (posts,) = _graphql(base, POSTS_PAGE)["assetNodes"]
    assert posts["opVersion"]  # the code version the asset page shows
    assert [MODEL] in [k["path"] for k in posts["dependedByKeys"]]
    assert posts["assetMaterializations"][0]["runId"] == run_id

    texts = _screenshots(base, tmp_path, posts)
    assert_quiet(log.read_text(), "dg dev", processes=3)  # code server + one per run
    _metadata_work_of_issue_18(posts, texts or {})
    if texts is None:
        pytest.skip("no chromium installed: the GraphQL part passed, the screenshots are skipped")


def _entries(posts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["label"]: e for e in posts["assetMaterializations"][0]["metadataEntries"]}


def _metadata_work_of_issue_18(posts: dict[str, Any], texts: dict[str, str]) -> None:
    """Red until the metadata part of issue 18 lands: what the asset page must show."""
    entries = _entries(posts)
    # a fully qualified table name <database>.<schema>.<table>; demo.duckdb is catalog `demo`
    assert entries["dagster/table_name"]["text"] == "demo.raw_blog.posts"
    columns = {c["name"]: c for c in entries["dagster/column_schema"]["schema"]["columns"]}
    for name in ("_ra_load_id", "_ra_id", "author__name"):  # own and flattened columns
        assert columns[name]["description"], f"column {name} has no description"
    if texts:  # Chromium ran: the page shows them too
        assert "demo.raw_blog.posts" in texts["asset"]
        assert columns["_ra_load_id"]["description"] in texts["asset"]


def _screenshots(base: str, tmp_path: Path, posts: dict[str, Any]) -> dict[str, str] | None:
    """The group's lineage (as before), the asset page of blog/posts and its downstream
    lineage; returns each page's visible text (None when Chromium is not installed)."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import screenshot_lineage as shot
    finally:
        sys.path.remove(str(SCRIPT.parent))
    chromium = shot.find_chromium(os.environ.get("CHROMIUM"))
    if chromium is None:
        return None
    keep = os.environ.get("REST_ASSETS_SCREENSHOT")  # set it to keep the PNGs somewhere
    common = ("--url", base, "--chromium", chromium)
    pages = {
        "lineage": [*common, "--location", LOCATION, "--group", "blog"],
        # the code version sits in the sidebar's "Compute details", which the script opens
        "asset": [*common, "--asset", "blog/posts", "--height", "2000",
                  "--expect", "Code version", "--expect", posts["opVersion"],
                  "--expect", "Columns"],
        "downstream": [*common, "--asset", "blog/posts", "--view", "lineage",
                       "--expect", MODEL, "--expect", "comments"],
    }  # fmt: skip
    texts: dict[str, str] = {}
    for name, args in pages.items():
        out = tmp_path / f"{name}.png"
        text_out = tmp_path / f"{name}.txt"
        extra = ["--text-out", str(text_out)] if "--asset" in args else []
        done = subprocess.run(
            [sys.executable, str(SCRIPT), *args, "--out", str(out), *extra],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert done.returncode == 0, f"{name}: {done.stdout[-1000:]}{done.stderr[-3000:]}"
        assert shot.png_size(out) == (1600, 2000 if name == "asset" else 1000)
        # A blank or error page compresses to a few KB; a drawn page is far larger.
        assert out.stat().st_size > 30_000, name
        if extra:
            texts[name] = text_out.read_text()
        if keep:
            target = Path(keep)
            target.with_name(f"{target.stem}-{name}{target.suffix or '.png'}").write_bytes(
                out.read_bytes()
            )
    # what the pages show, as GraphQL says: the code version, the dbt model under posts
    assert posts["opVersion"] in texts["asset"]
    assert MODEL in texts["downstream"] and "posts" in texts["downstream"]
    return texts
