"""The project's Dagster definitions, loaded by `workspace.yaml` and `dagster dev`.

The config is `$REST_ASSETS_CONFIG`, else `sources.yml` beside this file; the DuckDB file is
`$REST_ASSETS_DATABASE`, else `warehouse.duckdb` beside the config.
"""

from __future__ import annotations

import os
from pathlib import Path

from rest_assets import build_definitions

defs = build_definitions(
    os.environ.get("REST_ASSETS_CONFIG") or Path(__file__).parent / "sources.yml"
)
