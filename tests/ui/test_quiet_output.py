"""No Dagster noise in what a new user sees: `rest-assets demo`, `dev.py demo`, the UI.

Each command runs as a real subprocess on a Dagster home that does not exist yet, and its
whole output is searched for Dagster's telemetry banner, the "Welcome to Dagster!" prompt,
the missing-dagster.yaml warning, the `dagster dev` supersession warning and repeated beta
warnings; the UI is asked through GraphQL whether it would show the first-visit dialog.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from tests.support.quiet import assert_quiet

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def assert_home_settings(home: Path) -> None:
    settings = yaml.safe_load((home / "dagster.yaml").read_text())
    assert settings["telemetry"] == {"enabled": False}
    assert settings["nux"] == {"enabled": False}
    # telemetry off: Dagster never wrote the instance id that comes with the banner
    assert not (home / ".telemetry" / "id.yaml").exists()


def test_rest_assets_demo_is_quiet_and_keeps_its_history_beside_the_database(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    done = subprocess.run(
        [str(BIN / "rest-assets"), "demo", "--database", "demo.duckdb"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "blog/posts" in done.stdout and "250 rows" in done.stdout
    assert_quiet(done.stdout + done.stderr, "rest-assets demo")
    # without $DAGSTER_HOME the home is beside the database, not inside the package
    home = tmp_path / ".dagster_home"
    assert_home_settings(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_latest_materialization_event(dg.AssetKey(["blog", "posts"]))


def test_dev_py_demo_is_quiet_on_a_new_home(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"  # does not exist yet
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "dev.py"), "demo", "--database", str(tmp_path / "d.duckdb")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "directory/users" in done.stdout and "40 rows" in done.stdout
    assert_quiet(done.stdout + done.stderr, "python3 dev.py demo")
    assert_home_settings(home)


def test_a_users_own_dagster_yaml_is_left_alone(tmp_path: Path) -> None:
    from rest_assets.cli.home import set_up_home

    home = tmp_path / "home"
    home.mkdir()
    mine = "telemetry:\n  enabled: true\n"
    (home / "dagster.yaml").write_text(mine)
    set_up_home(home)
    assert (home / "dagster.yaml").read_text() == mine
    # a home whose file went missing gets it back: without it Dagster warns in every process
    (home / "dagster.yaml").unlink()
    set_up_home(home)
    assert yaml.safe_load((home / "dagster.yaml").read_text())["telemetry"] == {"enabled": False}


def test_dagster_beta_warnings_print_once_per_process(tmp_path: Path) -> None:
    """Two call sites of a beta class: Python's default shows both, rest-assets one."""
    script = textwrap.dedent(
        """
        import sys
        import dagster as dg
        if sys.argv[1] == "rest_assets":
            from rest_assets import build_definitions
            build_definitions({"sources": [{"name": "s", "client": {"base_url": "http://x"},
                                            "resources": ["r"]}]}, database=sys.argv[2])
        dg.LocalFileCodeReference(file_path="/a.py", line_number=1)
        dg.LocalFileCodeReference(file_path="/b.py", line_number=2)
        """
    )
    counts = {}
    for mode in ("plain", "rest_assets"):
        done = subprocess.run(
            [sys.executable, "-c", script, mode, str(tmp_path / "w.duckdb")],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        counts[mode] = done.stderr.count("BetaWarning: Class `LocalFileCodeReference`")
    assert counts == {"plain": 2, "rest_assets": 1}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _graphql(base: str, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.loads(response.read())
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)  # the group this test started
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.mark.ui
@pytest.mark.timeout(300)
def test_dev_py_ui_serves_with_dg_dev_without_noise_or_first_visit_dialog(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"  # does not exist yet
    port = _free_port()
    log = tmp_path / "ui.log"
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    command = [
        sys.executable, str(ROOT / "dev.py"), "ui",
        "--port", str(port), "--database", str(tmp_path / "ui.duckdb"),
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 200
        nodes: list[dict[str, Any]] = []
        while not nodes:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the UI did not come up:\n" + log.read_text()
            try:
                nodes = _graphql(base, "{ assetNodes { assetKey { path } } }")["assetNodes"]
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(1)
        assert {"/".join(n["assetKey"]["path"]) for n in nodes} >= {"blog/posts", "blog/comments"}
        assert _graphql(base, "{ shouldShowNux }")["shouldShowNux"] is False
    finally:
        _stop(process)
    output = log.read_text()
    assert "Serving dagster-webserver" in output
    assert_quiet(output, "python3 dev.py ui")
    assert_home_settings(home)
