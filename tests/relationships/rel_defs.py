"""Module-level job factories: a multiprocess run rebuilds its job in each step's process,
so the job must come from an importable function (`dg.reconstructable`). Settings travel
in environment variables, which the step processes inherit."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from rest_assets import build_definitions

NAMES = ("alpha", "beta", "gamma", "delta")
PAGES = 4
PER_PAGE = 1000


def bulk_config(url: str, pool: str | None = None) -> dict[str, Any]:
    """Four sources of one resource each, all landing in schema raw_bulk of one file.

    A source is one step: four sources make the four steps (four processes under the
    multiprocess executor) that meet on the DuckDB file lock.
    """
    defaults: dict[str, Any] = {"write_disposition": "append"}
    if pool:
        defaults["pool"] = pool
    return {
        "sources": [
            {
                "name": f"bulk_{n}",
                "dataset": "raw_bulk",
                "client": {
                    "base_url": url,
                    "paginator": {"type": "page_number", "base_page": 1, "total_path": "pages"},
                },
                "resource_defaults": defaults,
                "resources": [
                    {"name": n, "endpoint": {"path": f"bulk/{n}", "data_selector": "data"}}
                ],
            }
            for n in NAMES
        ]
    }


def four_assets_job() -> dg.JobDefinition:
    """All four bulk assets in one run on the multiprocess executor."""
    return _job(pool=None)


def four_pooled_assets_job() -> dg.JobDefinition:
    """The same, every asset in the Dagster concurrency pool `duckdb_shared`.

    A separate function: Dagster caches a reconstructed job by its function.
    """
    return _job(pool="duckdb_shared")


def _job(pool: str | None) -> dg.JobDefinition:
    defs = build_definitions(
        bulk_config(os.environ["RA_BULK_URL"], pool), database=os.environ["RA_BULK_DATABASE"]
    )
    job = dg.define_asset_job(
        "four_assets", executor_def=dg.multiprocess_executor.configured({"max_concurrent": 4})
    )
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def("four_assets")
