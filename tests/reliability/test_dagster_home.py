"""The Dagster home the CLI sets up itself: two first runs at once on a fresh home, and a
service user whose HOME is not writable (Dagster's telemetry would write there)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from rest_assets.demo.server import LocalAPI, Response
from tests.reliability.harness import record

COMMAND = [sys.executable, "-m", "rest_assets.cli", "materialize"]


@pytest.fixture
def api() -> Iterator[LocalAPI]:
    with LocalAPI() as server:
        server.route("GET", "/items", lambda r: Response({"data": [{"id": 1}, {"id": 2}]}))
        yield server


def _project(folder: Path, api: LocalAPI) -> Path:
    folder.mkdir()
    config = folder / "sources.yml"
    source = {
        "name": "home",
        "client": {"base_url": api.url},
        "resources": [{"name": "items", "endpoint": {"path": "items", "data_selector": "data"}}],
    }
    config.write_text(yaml.safe_dump({"sources": [source]}))
    return config


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER")}
    return {**env, **extra}


def _rows(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute("SELECT count(*) FROM raw_home.items").fetchone()
    return int(found[0]) if found else 0


def test_two_first_runs_at_once_on_a_fresh_home(api: LocalAPI, tmp_path: Path) -> None:
    config = _project(tmp_path / "project", api)
    home = config.parent / ".dagster_home"
    assert not home.exists()
    runs = [
        subprocess.Popen(
            [*COMMAND, str(config), "--database", str(tmp_path / f"w{n}.duckdb")],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    # the home is whole: a third run on it works, and so does every later one
    third = subprocess.run(
        [*COMMAND, str(config), "--database", str(tmp_path / "w0.duckdb")],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert third.returncode == 0, third.stdout + third.stderr
    settings = yaml.safe_load((home / "dagster.yaml").read_text())
    assert settings["telemetry"] == {"enabled": False}
    assert [_rows(tmp_path / "w0.duckdb"), _rows(tmp_path / "w1.duckdb")] == [2, 2]
    record(
        "two first `materialize` runs at once on a fresh .dagster_home, then a third",
        2,
        _rows(tmp_path / "w1.duckdb"),
        None,
        None,
        "all three succeeded; storage set up once under the file lock, telemetry off",
    )


def test_a_service_user_without_a_writable_home(api: LocalAPI, tmp_path: Path) -> None:
    config = _project(tmp_path / "service", api)
    unwritable = "/proc/rest-assets-no-home"  # not even root can create anything there
    assert not os.access("/proc", os.W_OK) or not Path(unwritable).exists()
    done = subprocess.run(
        [*COMMAND, str(config), "--database", str(tmp_path / "svc.duckdb")],
        env=_env(HOME=unwritable, XDG_CONFIG_HOME=unwritable, XDG_CACHE_HOME=unwritable),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert _rows(tmp_path / "svc.duckdb") == 2
    record(
        "a service user whose HOME is not writable (no DAGSTER_HOME set)",
        2,
        _rows(tmp_path / "svc.duckdb"),
        None,
        None,
        "run succeeded; the CLI's .dagster_home has telemetry off, nothing written to HOME",
    )
