"""Run dlt 1.31's rest_api source against the pains API of tests/beyond_dlt and report which
known pains it still shows. Our own code; dlt is configured only through its documented
`rest_api_source` dict.

    bench/.venv-dlt/bin/python bench/dlt_pains/run_dlt.py   # prints a JSON report

Each check starts a fresh server and pipeline in a temporary directory.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import tempfile
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def _server_only() -> None:
    """Import rest_assets.demo.server alone: the bench venv has dlt, not rest-assets' deps."""
    for name in ("rest_assets", "rest_assets.demo"):
        module = types.ModuleType(name)
        module.__path__ = [str(ROOT / name.replace(".", "/"))]
        sys.modules[name] = module
    spec = importlib.util.spec_from_file_location(
        "rest_assets.demo.server", ROOT / "rest_assets" / "demo" / "server.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)


_server_only()

import dlt  # noqa: E402
import duckdb  # noqa: E402
from dlt.sources.rest_api import rest_api_source  # noqa: E402

from tests.beyond_dlt.pains_api import CLIENT_ID, CLIENT_SECRET, SHAPES, PainsAPI, stamp  # noqa: E402

PARENTS = {
    "name": "parents",
    "endpoint": {
        "path": "parents",
        "data_selector": "data",
        "paginator": {"type": "json_link", "next_url_path": "next"},
    },
}


def _load(workdir: Path, name: str, config: dict[str, Any]) -> Path:
    db = workdir / f"{name}.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name=name,
        destination=dlt.destinations.duckdb(str(db)),
        dataset_name="d",
        pipelines_dir=str(workdir / "pipelines"),
    )
    pipeline.run(rest_api_source(config))
    return db


def _count(db: Path, table: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute(f"SELECT count(*) FROM d.{table}").fetchone()[0])


def per_parent_cursor(workdir: Path) -> dict[str, Any]:
    """dlt 2429: a quiet parent's new event older than a busy parent's newest one."""
    with PainsAPI() as api:
        for minute in range(100, 105):
            api.add_event(1, minute)
        for minute in range(10, 15):
            api.add_event(2, minute)
        config = {
            "client": {"base_url": api.url},
            "resources": [
                PARENTS,
                {
                    "name": "events",
                    "write_disposition": "append",
                    "endpoint": {
                        "path": "parents/{resources.parents.id}/events",
                        "data_selector": "data",
                        "paginator": {"type": "json_link", "next_url_path": "next"},
                        "params": {"since": "{incremental.start_value}"},
                        "incremental": {"cursor_path": "updated_at", "initial_value": stamp(0)},
                    },
                },
            ],
        }
        first = _count(_load(workdir, "cursor", config), "events")
        api.server.requests.clear()
        api.add_event(2, 20)
        db = _load(workdir, "cursor", config)
        since = {
            r.path.split("/")[2]: r.arg("since")
            for r in api.sent("/parents/")
            if r.arg("page") is None
        }
        loaded = _count(db, "events")
    return {
        "events_expected_first_run": 10,
        "events_loaded_first_run": first,
        "events_expected": 11,
        "events_loaded": loaded,
        "parent_2_pages_requested": len(api.sent("/parents/2/events")),
        "since_sent_to_parent_2": since.get("2"),
        "pain_shown": loaded < 11,
    }


def sequential_pages(workdir: Path) -> dict[str, Any]:
    """dlt 2844: pages with a known total are fetched one at a time."""
    with PainsAPI() as api:
        api.delay = 0.05
        config = {
            "client": {"base_url": api.url},
            "resources": [
                {
                    "name": "numbers",
                    "endpoint": {
                        "path": "numbers",
                        "data_selector": "items",
                        "paginator": {"type": "offset", "limit": 10, "total_path": "total"},
                    },
                }
            ],
        }
        db = _load(workdir, "pages", config)
        return {
            "rows": _count(db, "numbers"),
            "max_requests_in_flight": api.max_in_flight,
            "pain_shown": api.max_in_flight == 1,
        }


def totals(workdir: Path, mode: str) -> dict[str, Any]:
    """dlt 1414 / 4429: a total only on page one, or null."""
    with PainsAPI() as api:
        config = {
            "client": {"base_url": api.url},
            "resources": [
                {
                    "name": "numbers",
                    "endpoint": {
                        "path": "numbers",
                        "params": {"total": mode},
                        "data_selector": "items",
                        "paginator": {"type": "offset", "limit": 10, "total_path": "total"},
                    },
                }
            ],
        }
        try:
            db = _load(workdir, f"totals_{mode}", config)
            loaded, error = _count(db, "numbers"), None
        except Exception as exc:
            loaded, error = 0, _short(exc)
        return {
            "rows_expected": 100,
            "rows_loaded": loaded,
            "error": error,
            "pain_shown": loaded != 100,
        }


def windows(workdir: Path) -> dict[str, Any]:
    """dlt 3223: an API that needs both bounds; no `window` to derive end_value."""
    with PainsAPI() as api:
        for minute in (5, 65, 130):
            api.add_windowed(minute)
        config = {
            "client": {"base_url": api.url},
            "resources": [
                {
                    "name": "windowed",
                    "endpoint": {
                        "path": "windowed",
                        "data_selector": "data",
                        "paginator": "single_page",
                        "params": {
                            "start": "{incremental.start_value}",
                            "end": "{incremental.end_value}",
                        },
                        "incremental": {"cursor_path": "updated_at", "initial_value": stamp(0)},
                    },
                }
            ],
        }
        try:
            db = _load(workdir, "windows", config)
            loaded, error = _count(db, "windowed"), None
        except Exception as exc:
            loaded, error = 0, _short(exc)
        ends = [r.arg("end") for r in api.sent("/windowed")]
        return {
            "rows_expected": 3,
            "rows_loaded": loaded,
            "end_params_sent": ends,
            "error": error,
            "pain_shown": loaded != 3,
        }


def oauth_basic(workdir: Path) -> dict[str, Any]:
    """dlt 4206: a token endpoint that takes the client credentials only by HTTP Basic."""
    with PainsAPI() as api:
        config = {
            "client": {
                "base_url": api.url,
                "auth": {
                    "type": "oauth2_client_credentials",
                    "access_token_url": f"{api.url}/token?require=basic",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                },
            },
            "resources": [
                {"name": "secure", "endpoint": {"path": "secure/items", "data_selector": "data"}}
            ],
        }
        try:
            db = _load(workdir, "oauth", config)
            loaded, error = _count(db, "secure"), None
        except Exception as exc:
            loaded, error = 0, _short(exc)
        sent_basic = any(
            (r.header("Authorization") or "").startswith("Basic ") for r in api.sent("/token")
        )
        return {
            "rows_loaded": loaded,
            "token_request_used_basic": sent_basic,
            "error": error,
            "pain_shown": loaded != 2,
        }


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append((record.levelno, record.getMessage()))


def detection(workdir: Path, shape: str) -> dict[str, Any]:
    """dlt 1915 / 2505 / 3772: auto-detection on 50 child requests; every child page."""
    counter = _Counter()
    logger = logging.getLogger("dlt")
    logger.addHandler(counter)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        with PainsAPI(parents=50, per_page=10) as api:
            config = {
                "client": {"base_url": api.url},
                "resources": [
                    PARENTS,
                    {
                        "name": "things",
                        # "auto" as in the rest-assets test: a path ending in a parent field
                        # is otherwise a single entity (one page) in both tools
                        "endpoint": {
                            "path": f"shapes/{shape}/{{resources.parents.id}}",
                            "paginator": "auto",
                        },
                    },
                ],
            }
            try:
                db = _load(workdir, f"detect_{shape}", config)
                loaded, error = _count(db, "things"), None
            except Exception as exc:
                loaded, error = 0, _short(exc)
            requests = len(api.sent("/shapes/"))
    finally:
        logger.removeHandler(counter)
        logger.setLevel(old_level)
    about = [(level, m) for level, m in counter.messages if "paginator" in m.lower()]
    warnings = [m for level, m in about if level >= logging.WARNING]
    return {
        "rows_expected": 300,
        "rows_loaded": loaded,
        "child_requests": requests,
        "paginator_warnings": len(warnings),
        "paginator_log_lines": len(about),
        "sample_warning": warnings[0][:200] if warnings else None,
        "error": error,
        "pain_shown": loaded != 300 or len(warnings) > 1,
    }


def _short(exc: BaseException) -> str:
    """The root cause of a failed pipeline step, one line."""
    while True:
        inner = getattr(exc, "exception", None) or exc.__cause__
        if not isinstance(inner, BaseException) or inner is exc:
            break
        exc = inner
    text = f"{type(exc).__name__}: {exc}".strip()
    return " ".join(text.split())[:300]


def main() -> None:
    checks: dict[str, Callable[[Path], dict[str, Any]]] = {
        "2429 one cursor per parent": per_parent_cursor,
        "2844 parallel pages": sequential_pages,
        "1414 total only on page one": lambda w: totals(w, "first"),
        "4429 total null": lambda w: totals(w, "null"),
        "3223 windows (both bounds)": windows,
        "4206 oauth2 client_secret_basic": oauth_basic,
    }
    for shape in SHAPES:
        checks[f"1915/2505/3772 detection {shape}"] = lambda w, s=shape: detection(w, s)
    report: dict[str, Any] = {"dlt": dlt.__version__}
    for name, check in checks.items():
        with tempfile.TemporaryDirectory() as tmp:
            try:
                report[name] = check(Path(tmp))
            except Exception:
                report[name] = {"crashed": traceback.format_exc(limit=3)[-600:]}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
