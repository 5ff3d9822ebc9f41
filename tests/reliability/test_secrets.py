"""A canary set through `${VAR}` (bearer token, a header, a query parameter) never appears in
DEBUG logs, exception text, the Dagster event log, materialization metadata, any file of the
Dagster instance, DuckDB, nor in requests to another origin that a next link points to,
whether the run succeeds or fails, in process or through the CLI."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import yaml

from rest_assets import asset_key, build_definitions
from rest_assets.demo.server import LocalAPI, Request, Response
from tests.reliability.harness import error_text, record

CANARIES = {
    "CANARY_TOKEN": "canary-token-5f1e9a7c3b",
    "CANARY_HEADER": "canary-header-8d2b6e4f1a",
    "CANARY_QUERY": "canary-query-3c7a1d9e6f",
}
KEY = asset_key("vault", "items")


@pytest.fixture
def origins(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LocalAPI, LocalAPI]]:
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    with LocalAPI() as main, LocalAPI() as other:
        yield main, other


def _serve(main: LocalAPI, other: LocalAPI, *, fail: bool) -> None:
    def items(request: Request) -> Response:
        if fail:
            # a hostile server that reflects the credentials it got into its error body
            echo = f"{request.header('Authorization')} {request.header('X-Canary')} {request.query}"
            return Response({"error": echo}, 401)
        # the next page lives on another origin: followed, but without credentials
        return Response({"data": [{"id": 1}, {"id": 2}], "next": f"{other.url}/more"})

    def more(request: Request) -> Response:
        return Response({"data": [{"id": 3}], "next": None})

    main.route("GET", "/items", items)
    other.route("GET", "/more", more)


def _source(main: LocalAPI) -> dict[str, Any]:
    return {
        "name": "vault",
        "client": {
            "base_url": main.url,
            "auth": {"type": "bearer", "token": "${CANARY_TOKEN}"},
            "headers": {"X-Canary": "${CANARY_HEADER}"},
            "paginator": {"type": "json_link", "next_url_path": "next"},
            "rate_limit": {"max_retries": 0},
            "show_error_body": True,
        },
        "resources": [
            {
                "name": "items",
                "primary_key": "id",
                "endpoint": {
                    "path": "items",
                    "data_selector": "data",
                    "params": {"api_key": "${CANARY_QUERY}", "page_size": 2},
                },
            }
        ],
    }


def _leaks(text: str) -> list[str]:
    return [name for name, value in CANARIES.items() if value in text]


def _instance_files(home: Path) -> str:
    """Every file of the Dagster instance (event logs, compute logs, run storage) as text."""
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in home.rglob("*") if p.is_file()
    )


def _duckdb_dump(db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        return "\n".join(
            str(con.execute(f'SELECT * FROM "{s}"."{t}"').fetchall()) for s, t in tables
        )


def test_canary_never_leaks_in_process(
    origins: tuple[LocalAPI, LocalAPI],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    main, other = origins
    caplog.set_level(logging.DEBUG)
    home = tmp_path / "dagster_home"
    home.mkdir()
    db = tmp_path / "w.duckdb"
    defs = build_definitions({"sources": [_source(main)]}, database=db)
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        _serve(main, other, fail=False)
        ok = dg.materialize(list(defs.assets or []), instance=instance, resources=defs.resources)
        assert ok.success
        _serve(main, other, fail=True)
        failed = dg.materialize(
            list(defs.assets or []),
            instance=instance,
            resources=defs.resources,
            raise_on_error=False,
        )
        assert not failed.success
        exception = error_text(failed)
        events = "\n".join(
            str(entry) for run in (ok, failed) for entry in instance.all_logs(run.run_id)
        )
        metadata = str(instance.get_latest_materialization_event(KEY))

    # the secrets were really sent to the API's own origin ...
    sent = main.requests_to("/items")
    assert sent[0].header("Authorization") == f"Bearer {CANARIES['CANARY_TOKEN']}"
    assert sent[0].header("X-Canary") == CANARIES["CANARY_HEADER"]
    assert sent[0].arg("api_key") == CANARIES["CANARY_QUERY"]
    # ... and the failure is reported, redacted
    assert "resource 'items'" in exception and "status 401" in exception
    assert "api_key=***" in exception and "***" in exception.split("response body:")[1]
    assert "DEBUG" in caplog.text and f"{other.url}/more" in caplog.text
    foreign = other.requests_to("/more")
    assert len(foreign) == 1
    foreign_text = str([(r.path, r.query, r.headers, r.body) for r in foreign])
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_vault.items").fetchone() == (3,)

    places = {
        "DEBUG logs": caplog.text,
        "exception text": exception,
        "Dagster event log": events,
        "materialization metadata": metadata,
        "Dagster instance files": _instance_files(home),
        "DuckDB": _duckdb_dump(db),
        "requests to the other origin": foreign_text,
    }
    leaks = {where: _leaks(text) for where, text in places.items() if _leaks(text)}
    assert leaks == {}
    record(
        "canary via ${VAR} (bearer, header, query), success + 401 echoing it, in process",
        3,
        3,
        None,
        None,
        "no leak in " + ", ".join(places),
    )


def test_canary_never_leaks_through_the_cli_at_debug(
    origins: tuple[LocalAPI, LocalAPI], tmp_path: Path
) -> None:
    main, other = origins
    config = tmp_path / "sources.yml"
    config.write_text(yaml.safe_dump({"sources": [_source(main)]}))
    home = tmp_path / "cli_home"
    db = tmp_path / "cli.duckdb"
    env = {**os.environ, **CANARIES, "DAGSTER_HOME": str(home)}
    command = [sys.executable, "-m", "rest_assets.cli", "--log-level", "DEBUG", "materialize"]
    outputs = []
    for fail in (False, True):
        _serve(main, other, fail=fail)
        done = subprocess.run(
            [*command, str(config), "--database", str(db)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (done.returncode != 0) == fail, done.stderr[-2000:]
        outputs.append(done.stdout + done.stderr)
    assert "DEBUG" in outputs[0] and "status 401" in outputs[1]
    foreign = str([(r.query, r.headers) for r in other.requests_to("/more")])
    places = {
        "CLI output (success)": outputs[0],
        "CLI output (failure)": outputs[1],
        "Dagster instance files": _instance_files(home),
        "DuckDB": _duckdb_dump(db),
        "requests to the other origin": foreign,
    }
    leaks = {where: _leaks(text) for where, text in places.items() if _leaks(text)}
    assert leaks == {}
    record(
        "canary via ${VAR}, CLI --log-level DEBUG, success + failure",
        3,
        3,
        None,
        None,
        "no leak in " + ", ".join(places),
    )
