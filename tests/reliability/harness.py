"""The run harness of the fault-injection suite and the rows of its report table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from rest_assets import asset_key, build_definitions
from rest_assets.dagster.state import read_cursor
from rest_assets.demo.server import LocalAPI, Request, Response
from tests.reliability.faulty_api import FaultyAPI, stamp

KEY = asset_key("src", "items")
TABLE = "raw_src.items"

REPORT: list[dict[str, str]] = []


@dataclass(frozen=True)
class State:
    """What must not move when a run fails: rows, distinct ids, cursor, latest materialization."""

    rows: int
    distinct: int
    cursor: str | None
    materialization: int | None  # storage id of the latest materialization


def incremental_source(url: str, name: str = "src", **client: Any) -> dict[str, Any]:
    """One source, one incremental append resource `items` (primary key id) on the faulty API."""
    return {
        "name": name,
        "client": {
            "base_url": url,
            "paginator": {"type": "json_link", "next_url_path": "next"},
            "timeout": 2,
            "rate_limit": {"max_retries": 2},
            **client,
        },
        "resources": [
            {
                "name": "items",
                "write_disposition": "append",
                "primary_key": "id",
                "endpoint": {
                    "path": "items",
                    "data_selector": "data",
                    "params": {"updated_since": "{incremental.start_value}"},
                    "incremental": {"cursor_path": "updated_at", "initial_value": stamp(0)},
                },
            }
        ],
    }


class Harness:
    """Runs a project through Dagster against one DuckDB file and reads back its state."""

    def __init__(
        self, api: FaultyAPI, instance: dg.DagsterInstance, tmp_path: Path, source: str = "src"
    ) -> None:
        self.api = api
        self.instance = instance
        self.db = tmp_path / "w.duckdb"
        self.defs: dg.Definitions | None = None
        # tests sharing one Dagster instance use distinct source names, hence asset keys
        self.source = source
        self.key = asset_key(source, "items")
        self.table = f"raw_{source}.items"

    def source_config(self, **client: Any) -> dict[str, Any]:
        """The incremental `items` source of this harness on its API."""
        return incremental_source(self.api.url, self.source, **client)

    def build(self, *sources: dict[str, Any]) -> dg.Definitions:
        self.defs = build_definitions({"sources": list(sources)}, database=self.db)
        return self.defs

    def run(self, selection: Any = None) -> dg.ExecuteInProcessResult:
        assert self.defs is not None, "build() first"
        return dg.materialize(
            list(self.defs.assets or []),
            instance=self.instance,
            resources=self.defs.resources,
            selection=selection,
            raise_on_error=False,
        )

    def state(self, key: dg.AssetKey | None = None, table: str | None = None) -> State:
        key = key or self.key
        table = table or self.table
        rows = distinct = 0
        if self.db.exists():
            with duckdb.connect(str(self.db), read_only=True) as con:
                exists = con.execute(
                    "SELECT count(*) FROM duckdb_tables() WHERE schema_name || '.' || "
                    "table_name = ?",
                    [table],
                ).fetchone()
                if exists and exists[0]:
                    found = con.execute(f"SELECT count(*), count(DISTINCT id) FROM {table}")
                    rows, distinct = found.fetchone()  # type: ignore[misc]
        stored = read_cursor(self.instance, key)
        cursor = None if stored.state is None else str(stored.state.last_value)
        records = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key), limit=1
        ).records
        return State(rows, distinct, cursor, records[0].storage_id if records else None)


def serve_pages(local: LocalAPI, path: str, pages: list[Any]) -> None:
    """`pages` at `path?page=n`: each a body as it is (bytes), or records with a next link."""

    def handler(request: Request) -> Response:
        n = int(request.arg("page") or 1)
        body = pages[n - 1]
        if isinstance(body, bytes):
            return Response(body)
        nxt = f"{local.url}{path}?page={n + 1}" if n < len(pages) else None
        return Response({"data": body, "next": nxt})

    local.route("GET", path, handler)


def error_text(result: dg.ExecuteInProcessResult) -> str:
    """The step failure's message with its causes (Dagster wraps the user exception)."""
    failures = result.get_step_failure_events()
    assert failures, "the run did not fail a step"
    error = failures[0].step_failure_data.error
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)


def record(
    fault: str,
    expected: int,
    found: int,
    before: str | None,
    after: str | None,
    outcome: str,
) -> None:
    """Add one row to the report table."""
    REPORT.append(
        {
            "fault": fault,
            "expected": str(expected),
            "found": str(found),
            "cursor": f"{before or '-'} -> {after or '-'}",
            # the URL is in every error; the table keeps the cause
            "outcome": re.sub(r"https?://\S+", "<url>", outcome)
            .replace("rest_assets.errors.", "")
            .replace("\n", " ")[:150],
        }
    )


def report_table() -> list[str]:
    """The report rows as a Markdown table."""
    header = "| fault | records expected | records found | cursor before -> after | outcome |"
    lines = [header, "| --- | --- | --- | --- | --- |"]
    for row in REPORT:
        lines.append(
            f"| {row['fault']} | {row['expected']} | {row['found']} | {row['cursor']} | "
            f"{row['outcome']} |"
        )
    return lines
