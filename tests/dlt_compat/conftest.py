"""Running a `configs` source through rest-assets (build_definitions + Dagster) and through
dlt 1.31 (a subprocess) against the same loopback API, and what each of them sent and loaded.

dlt runs in its own process: under `REST_ASSETS_DLT_PYTHON`, else this interpreter when it
can import dlt (the `dlt` extra, part of `dev`). Without either, the dlt half of a test
skips and says why; the rest-assets half always runs against the expectations written
from dlt's documentation.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from rest_assets import build_definitions
from tests.dlt_compat import configs
from tests.dlt_compat.api import CompatAPI, summary

RUNNER = Path(__file__).with_name("dlt_runner.py")
DLT_TIMEOUT = 300


def dlt_python() -> str | None:
    """An interpreter that can run dlt 1.31, or None."""
    configured = os.environ.get("REST_ASSETS_DLT_PYTHON")
    if configured:
        return configured
    if importlib.util.find_spec("dlt") is not None:
        return sys.executable
    return None


NO_DLT = (
    "dlt 1.31 is not available: install the dlt extra "
    "(pip install -e '.[dev,dlt]') or point REST_ASSETS_DLT_PYTHON at a python "
    "that has dlt[duckdb]==1.31.0"
)


def dlt_importable() -> bool:
    """Whether this interpreter has dlt (for configs holding dlt's own objects)."""
    return importlib.util.find_spec("dlt") is not None


@dataclass
class Outcome:
    """What one system sent (per case: request summaries and paths) and loaded."""

    requests: dict[str, list[str]] = field(default_factory=dict)
    paths: dict[str, list[str]] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    error: str | None = None
    messages: list[str] = field(default_factory=list)  # rest-assets: the run's log lines

    def sent(self) -> dict[str, list[tuple[str, str]]]:
        """(path, request) per case; sorted where several resources share a case."""
        out: dict[str, list[tuple[str, str]]] = {}
        for case, requests in self.requests.items():
            pairs = list(zip(self.paths[case], requests, strict=True))
            out[case] = sorted(pairs) if len(set(self.paths[case])) > 1 else pairs
        return out

    def ids(self, table: str) -> list[Any]:
        return sorted(row["id"] for row in self.tables.get(table, []))

    def column(self, table: str, name: str) -> dict[Any, Any]:
        return {row["id"]: row.get(name) for row in self.tables.get(table, [])}


def _grouped(api: CompatAPI, outcome: Outcome) -> None:
    by_case: dict[str, list[str]] = defaultdict(list)
    paths: dict[str, list[str]] = defaultdict(list)
    for request in list(api.server.requests):
        parts = request.path.split("/")
        if len(parts) > 2 and parts[1] == "c":
            by_case[parts[2]].append(summary(request))
            paths[parts[2]].append(request.path)
    outcome.requests, outcome.paths = dict(by_case), dict(paths)


def run_ours(api: CompatAPI, source: str, database: Path, instance: dg.DagsterInstance) -> Outcome:
    """The source through `rest_assets.build_definitions` and a real Dagster run."""
    config = configs.SOURCES[source](api.url)
    project = {"sources": [{"name": source, **config}]}
    api.clear()
    defs = build_definitions(project, database=database)
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    result = dg.materialize(
        assets, instance=instance, resources=defs.resources, raise_on_error=False
    )
    outcome = Outcome()
    _grouped(api, outcome)
    outcome.messages = [e.user_message for e in instance.all_logs(result.run_id)]
    if not result.success:
        failures = [
            str(e.event_specific_data.error.message)  # type: ignore[union-attr]
            for e in result.all_events
            if e.is_step_failure
        ]
        outcome.error = "; ".join(failures) or "the run failed"
    outcome.tables = read_tables(database, f"raw_{source}")
    return outcome


def read_tables(database: Path, schema: str) -> dict[str, list[dict[str, Any]]]:
    if not database.exists():
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                [schema],
            ).fetchall()
        ]
        for name in names:
            if "__" in name:
                continue
            cursor = con.execute(f'SELECT * FROM "{schema}"."{name}"')
            columns = [c[0] for c in cursor.description]
            out[name] = [
                {c: v for c, v in zip(columns, row, strict=True) if not c.startswith("_ra_")}
                for row in cursor.fetchall()
            ]
    return out


def run_dlt(api: CompatAPI, source: str, workdir: Path) -> Outcome:
    """The source through dlt 1.31 in a subprocess (skips the test when dlt is missing)."""
    python = dlt_python()
    if python is None:
        pytest.skip(NO_DLT)
    api.clear()
    workdir.mkdir(parents=True, exist_ok=True)
    args = json.dumps({"source": source, "base_url": api.url, "workdir": str(workdir)})
    env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false"}
    done = subprocess.run(
        [python, str(RUNNER), args],
        capture_output=True,
        text=True,
        timeout=DLT_TIMEOUT,
        env=env,
        cwd=str(workdir),
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise AssertionError(f"dlt runner failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    outcome = Outcome(tables=result["tables"], error=result["error"])
    _grouped(api, outcome)
    return outcome


@pytest.fixture(scope="module")
def compat_api() -> Iterator[CompatAPI]:
    with CompatAPI() as api:
        yield api


@pytest.fixture(scope="module")
def module_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dg.DagsterInstance]:
    home = tmp_path_factory.mktemp("dagster_home")
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance
