"""Progress on long runs, and `--log-level DEBUG` request logs with secrets redacted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from rest_assets import build_definitions
from rest_assets.dagster.progress import Progress
from rest_assets.demo.server import LocalAPI, Request, Response

SECRET = "query-secret-5b7d"
HEADER_SECRET = "header-secret-2c9e"
PER_PAGE = 7
PAGES = 30


def _paged(request: Request) -> Response:
    if request.arg("api_key") != SECRET or request.header("X-Token") != HEADER_SECRET:
        return Response({"error": "denied"}, 401)
    page = int(request.arg("page") or 1)
    rows = [{"id": (page - 1) * PER_PAGE + i} for i in range(PER_PAGE)]
    return Response({"items": rows, "total_pages": PAGES})


def _config(url: str) -> dict:
    return {
        "sources": [
            {
                "name": "big",
                "client": {
                    "base_url": url,
                    "headers": {"X-Token": "${HEADER_TOKEN}"},
                    "auth": {
                        "type": "api_key",
                        "name": "api_key",
                        "api_key": "${QUERY_TOKEN}",
                        "location": "query",
                    },
                },
                "resources": [
                    {
                        "name": "items",
                        "primary_key": "id",
                        "endpoint": {
                            "path": "items",
                            "data_selector": "items",
                            "paginator": {
                                "type": "page_number",
                                "base_page": 1,
                                "total_path": "total_pages",
                            },
                        },
                    }
                ],
            }
        ]
    }


def test_long_extraction_logs_progress_lines(
    instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUERY_TOKEN", SECRET)
    monkeypatch.setenv("HEADER_TOKEN", HEADER_SECRET)
    with LocalAPI() as api:
        api.route("GET", "/items", _paged)
        defs = build_definitions(_config(api.url), database=tmp_path / "w.duckdb")
        result = dg.materialize(
            list(defs.assets or []), instance=instance, resources=defs.resources
        )
    assert result.success
    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    pattern = re.compile(r"^big\.items: (\d+) pages, ([\d,]+) records, [\d,]+ records/s")
    progress = [m for m in (pattern.match(x) for x in messages) if m]
    # Lines after 10 pages, then each time the count doubles (or 5 s passed): 10 and 20.
    pages = [int(m.group(1)) for m in progress]
    assert {10, 20} <= set(pages)
    assert pages == sorted(pages) and pages[-1] <= PAGES
    for m in progress:
        assert int(m.group(2).replace(",", "")) == int(m.group(1)) * PER_PAGE
    assert not any(SECRET in m or HEADER_SECRET in m for m in messages)


def test_progress_reports_on_time_as_well_as_on_count() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = Progress(lines.append, "s.r", every=100, every_seconds=5.0, clock=lambda: now[0])
    progress.update(1, 10)
    assert lines == []  # neither 100 pages nor 5 s yet
    now[0] = 5.0
    progress.update(2, 20)
    assert lines == ["s.r: 2 pages, 20 records, 4 records/s"]
    progress.update(3, 30)
    assert len(lines) == 1
    progress.update(102, 1020)
    assert lines[-1].startswith("s.r: 102 pages, 1,020 records")


def test_progress_lines_thin_out_as_the_count_doubles() -> None:
    lines: list[str] = []
    progress = Progress(lines.append, "s.r", every=10, every_seconds=60.0, clock=lambda: 1.0)
    for page in range(1, 1001):
        progress.update(page, page * 10)
    logged = [int(line.split(": ")[1].split(" ")[0].replace(",", "")) for line in lines]
    # a line per 10 pages was 100 Dagster events for 1,000 pages; now one per doubling
    assert logged == [10, 20, 40, 80, 160, 320, 640]


def test_cli_debug_log_shows_each_request_with_secrets_redacted(tmp_path: Path) -> None:
    with LocalAPI() as api:
        api.route("GET", "/items", _paged)
        config = tmp_path / "sources.yml"
        config.write_text(yaml.safe_dump(_config(api.url)))
        env = {
            **os.environ,
            "QUERY_TOKEN": SECRET,
            "HEADER_TOKEN": HEADER_SECRET,
            "DAGSTER_HOME": str(tmp_path / "home"),
        }
        script = Path(sys.executable).parent / "rest-assets"
        done = subprocess.run(
            [str(script), "--log-level", "DEBUG", "materialize", str(config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    output = done.stdout + done.stderr
    assert done.returncode == 0, done.stderr[-3000:]
    requests_logged = re.findall(r"GET http://127\.0\.0\.1:\d+/items\?\S+ -> 200", output)
    assert len(requests_logged) == PAGES
    assert all("api_key=***" in line for line in requests_logged)
    assert "big.items: " in output and "records/s" in output  # progress reaches the CLI
    assert "STEP_START" in output  # DEBUG shows Dagster's own event lines too
    assert SECRET not in output and HEADER_SECRET not in output
