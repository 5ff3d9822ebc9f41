"""What every benchmark pipeline shares: the scenario configs and the result line.

Stdlib only: this module is imported by the ideal, dlt and rest-assets interpreters alike.
The config is dlt's RESTAPIConfig shape, so dlt and rest-assets load the very same dict.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

SCENARIOS = ("200k", "1m", "fanout", "incremental", "wide", "job")
# wide and job: many small resources (/wide/{n}), this many records a page
WIDE_PAGE_SIZE = 500
# The dataset (DuckDB schema) every pipeline writes into, where it has a choice.
DATASET = "bench"
INITIAL_CURSOR = "2000-01-01T00:00:00Z"
PAGINATOR = {"type": "json_link", "next_url_path": "next"}


def wide_name(n: int) -> str:
    """The name (resource and table) of resource n of the wide and job scenarios."""
    return f"r{n:02d}"


def tables_for(scenario: str, resources: int = 0) -> list[str]:
    """The tables whose row counts make up a scenario's "rows"."""
    if scenario in ("wide", "job"):
        return [wide_name(n) for n in range(resources)]
    return ["parents", "children"] if scenario == "fanout" else ["items"]


def rest_api_config(
    url: str, scenario: str, page_size: int = 1000, resources: int = 0
) -> dict[str, Any]:
    """The dlt-shaped REST API config for one scenario, pointing at the bench server."""
    client = {"base_url": url.rstrip("/") + "/", "paginator": dict(PAGINATOR)}
    if scenario in ("wide", "job"):
        # `parallelized` is dlt's documented knob to extract resources at the same time
        # (in its extract thread pool); rest-assets runs a source's resources concurrently
        # anyway (`max_concurrency`, 8 by default) and accepts the key
        return {
            "client": client,
            "resource_defaults": {
                "primary_key": "id",
                "write_disposition": "replace",
                "parallelized": True,
            },
            "resources": [
                {
                    "name": wide_name(n),
                    "endpoint": {
                        "path": f"wide/{n}",
                        "params": {"limit": WIDE_PAGE_SIZE},
                        "data_selector": "data",
                    },
                }
                for n in range(resources)
            ],
        }
    if scenario == "fanout":
        return {
            "client": client,
            "resource_defaults": {"primary_key": "id", "write_disposition": "replace"},
            "resources": [
                {
                    "name": "parents",
                    "endpoint": {
                        "path": "parents",
                        "params": {"limit": 100},
                        "data_selector": "data",
                    },
                },
                {
                    "name": "children",
                    # both dlt and rest-assets fetch a parallelized resource's pages in a pool
                    # of threads (dlt: its extract workers, 5 by default; rest-assets:
                    # `concurrency`, 8 by default, the same as ideal_par)
                    "parallelized": True,
                    "endpoint": {
                        "path": "parents/{resources.parents.id}/children",
                        "data_selector": "data",
                    },
                },
            ],
        }
    endpoint: dict[str, Any] = {
        "path": "items",
        "params": {"limit": page_size},
        "data_selector": "data",
    }
    disposition = "replace"
    if scenario == "incremental":
        disposition = "merge"
        endpoint["params"]["updated_since"] = "{incremental.start_value}"
        endpoint["incremental"] = {"cursor_path": "updated_at", "initial_value": INITIAL_CURSOR}
    return {
        "client": client,
        "resource_defaults": {"primary_key": "id", "write_disposition": disposition},
        "resources": [{"name": "items", "endpoint": endpoint}],
    }


def parse_args(description: str) -> argparse.Namespace:
    """The command line every pipeline script takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", required=True, help="base URL of bench/server.py")
    parser.add_argument("--db", required=True, help="DuckDB file to land the data in")
    parser.add_argument("--scenario", required=True, choices=SCENARIOS)
    parser.add_argument("--state-dir", default=None, help="pipeline state kept between runs")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="child fetch threads (ideal)")
    parser.add_argument("--mode", default="api", choices=("api", "cli", "job"), help="rest_assets")
    parser.add_argument("--variant", default="", help="pipeline-specific (dlt: loader format)")
    parser.add_argument("--resources", type=int, default=0, help="wide/job: resource count")
    parser.add_argument(
        "--executor", default="", help="rest_assets cli/job: the project's executor"
    )
    args = parser.parse_args()
    if args.state_dir is None:
        args.state_dir = os.path.join(os.path.dirname(os.path.abspath(args.db)), "state")
    os.makedirs(args.state_dir, exist_ok=True)
    return args


class Timer:
    """Collects named phase durations for the BENCH line (import time is measured too)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.last = self.start
        self.phases: dict[str, float] = {}

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = round(now - self.last, 3)
        self.last = now

    def total(self) -> float:
        return round(time.perf_counter() - self.start, 3)


def report(timer: Timer, work_s: float | None = None, **extra: Any) -> None:
    """Print the one machine-readable line bench/run.py looks for.

    `work_s` is the pipeline's own work, without interpreter start, imports and set-up: by
    default every phase but "import" and "build"; rest-assets passes the time Dagster
    recorded for its steps (what the UI shows as the run's step durations).
    """
    if work_s is None:
        work_s = sum(v for k, v in timer.phases.items() if k not in ("import", "build"))
    payload = {
        "inner_s": timer.total(),
        "work_s": round(work_s, 3),
        "phases": timer.phases,
        **extra,
    }
    print("BENCH_RESULT " + json.dumps(payload), flush=True)


def not_available(reason: str) -> None:
    """Tell the runner this pipeline cannot run here (exit code 3), then stop."""
    print("BENCH_UNAVAILABLE " + json.dumps({"reason": reason}), flush=True)
    sys.exit(3)
