"""dlt 1.31 itself, run in a subprocess on the same config against the same loopback API,
and the tables it lands next to ours.

The comparisons need an interpreter with ``dlt[duckdb]==1.31.0``: this one when the
``dlt`` extra is installed (``pip install -e .[dlt]``), else the one
``REST_ASSETS_DLT_PYTHON`` names. Without either, the tests skip, saying so.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from rest_assets import build_definitions
from rest_assets.demo.server import LocalAPI, Request, Response

RUNNER = Path(__file__).with_name("dlt_runner.py")
DLT_VERSION = "1.31.0"


@functools.cache
def dlt_python() -> str | None:
    """An interpreter that imports dlt 1.31 (None: none found)."""
    candidates = [os.environ.get("REST_ASSETS_DLT_PYTHON"), sys.executable]
    for python in filter(None, candidates):
        if not Path(python).exists():
            continue
        probe = subprocess.run(
            [python, "-c", "import dlt; print(dlt.__version__)"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if probe.returncode == 0 and probe.stdout.strip() == DLT_VERSION:
            return python
    return None


@pytest.fixture
def dlt() -> str:
    python = dlt_python()
    if python is None:
        pytest.skip(
            f"dlt {DLT_VERSION} is not importable: install the extra (pip install -e "
            f".[dlt]) or set REST_ASSETS_DLT_PYTHON to a python with "
            f"dlt[duckdb]=={DLT_VERSION}"
        )
    return python


class ParityAPI:
    """Serves `loads[i][path]` as `{"data": records}`; `GET /_load?load=i` picks the load."""

    def __init__(self, server: LocalAPI) -> None:
        self.server = server
        self.loads: list[dict[str, list[Any]]] = []
        self.current = 0
        server.route("GET", "/_load", self._switch)

    def serve(self, *loads: dict[str, list[Any]]) -> None:
        self.loads = list(loads)
        for path in {p for load in loads for p in load}:
            self.server.route("GET", f"/{path}", lambda r, p=path: self._page(p, r))

    def _switch(self, request: Request) -> Response:
        self.current = int(request.arg("load") or 0)
        return Response({"load": self.current})

    def _page(self, path: str, request: Request) -> Response:
        return Response({"data": self.loads[self.current].get(path, [])})


@pytest.fixture
def api() -> Iterator[ParityAPI]:
    with LocalAPI() as server:
        yield ParityAPI(server)


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


Tables = dict[str, dict[str, Any]]


def our_tables(db: Path, schema: str) -> Tables:
    """Our tables in the runner's shape: rest-assets' own columns left out, scd2 validity as
    "active"."""
    out: Tables = {}
    if not db.exists():
        return out
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1", [schema]
        ).fetchall()
        for (table,) in names:
            described = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? "
                "AND table_name = ? ORDER BY column_index",
                [schema, table],
            ).fetchall()
            columns = [[n, t] for n, t in described if not n.startswith("_ra_")]
            select = ", ".join(
                f'("{n}" IS NULL) AS "{n}"' if n == "_dlt_valid_to" else f'"{n}"'
                for n, _ in columns
                if n != "_dlt_valid_from"
            )
            rows = con.execute(f'SELECT {select} FROM "{schema}"."{table}"').fetchall()
            out[table] = {
                "columns": columns,
                "rows": sorted([[_value(v) for v in row] for row in rows], key=repr),
            }
    return json.loads(json.dumps(out))


class Parity:
    """The same config, loaded `len(api.loads)` times by rest-assets and by dlt."""

    def __init__(self, api: ParityAPI, python: str, tmp_path: Path) -> None:
        self.api = api
        self.python = python
        self.tmp = tmp_path

    def run(
        self, config: dict[str, Any], name: str = "shop", naming: str | None = None
    ) -> tuple[Any, Any]:
        """Both tables, and both runs' errors (one per load: None or the text)."""
        ours, our_errors = self.ours(config, name, naming)
        theirs = self.theirs(config, name, naming)
        return (ours, our_errors), (theirs["tables"], theirs["errors"])

    def ours(
        self, config: dict[str, Any], name: str, naming: str | None
    ) -> tuple[Tables, list[Any]]:
        db = self.tmp / "ours.duckdb"
        source = {"name": name, **config}
        if naming:
            source["naming"] = naming
        errors: list[Any] = []
        home = self.tmp / "dagster_home"
        home.mkdir(exist_ok=True)
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            for load in range(len(self.api.loads)):
                self.api.current = load
                defs = build_definitions({"sources": [source]}, database=db)
                result = dg.materialize(
                    list(defs.assets or []),
                    instance=instance,
                    resources=defs.resources,
                    raise_on_error=False,
                )
                errors.append(None if result.success else _failure(result))
        return our_tables(db, f"raw_{name}"), errors

    def theirs(self, config: dict[str, Any], name: str, naming: str | None) -> dict[str, Any]:
        work = self.tmp / "dlt"
        work.mkdir(exist_ok=True)
        job = {
            "config": config,
            "name": name,
            "workdir": str(work),
            "loads": len(self.api.loads),
            "control": f"{self.api.server.url}/_load",
            "naming": naming,
        }
        path = work / "job.json"
        path.write_text(json.dumps(job))
        done = subprocess.run(
            [self.python, str(RUNNER), str(path)], capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])


def _failure(result: dg.ExecuteInProcessResult) -> str:
    error = result.get_step_failure_events()[0].step_failure_data.error
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)


@pytest.fixture
def parity(api: ParityAPI, dlt: str, tmp_path: Path) -> Parity:
    return Parity(api, dlt, tmp_path)
