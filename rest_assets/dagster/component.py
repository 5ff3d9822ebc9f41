"""`RestApiComponent`: the same sources.yml config, as a Dagster component in a `dg` project.

In a project's `defs/<folder>/defs.yaml`:

    type: rest_assets.RestApiComponent
    attributes:
      sources_file: sources.yml          # beside defs.yaml; or inline `sources:` below
      database: warehouse.duckdb         # relative to the project root

or with the sources inline (the exact shape of a sources.yml's `sources:` list):

    type: rest_assets.RestApiComponent
    attributes:
      sources:
        - name: blog
          client: {base_url: "${DEMO_API_URL}"}
          resources: [posts]

The component is registered through the `dagster_dg_cli.registry_modules` entry point, so
`dg list components` shows it and `dg check yaml` validates `attributes`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from rest_assets.dagster.definitions import build_definitions
from rest_assets.errors import ConfigError

DEFAULT_DATABASE = "warehouse.duckdb"


class RestApiComponent(dg.Component, dg.Resolvable, dg.Model):
    """Dagster assets (with checks, schedules and outputs) for declarative REST API sources.

    Give either `sources_file` (a sources.yml, relative to this defs.yaml) or `sources`
    inline. Use `${VAR}` for secrets: they stay references until a request is sent.
    """

    sources_file: str | None = Field(
        default=None, description="Path of a sources.yml, relative to the folder of defs.yaml."
    )
    sources: list[dict[str, Any]] | None = Field(
        default=None,
        description="Sources inline, in the shape of a sources.yml's `sources:` list.",
    )
    database: str | None = Field(
        default=None,
        description="DuckDB file, relative to the project root (default: "
        "$REST_ASSETS_DATABASE, else warehouse.duckdb in the project root).",
    )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """Build the definitions with `rest_assets.build_definitions`."""
        here = context.path if context.path.is_dir() else context.path.parent
        database = self._database(Path(context.project_root))
        if (self.sources_file is None) == (self.sources is None):
            raise ConfigError(
                f"{here / 'defs.yaml'}: RestApiComponent needs exactly one of sources_file "
                "(a path to sources.yml) or sources (the list inline)"
            )
        if self.sources_file is not None:
            return build_definitions(here / self.sources_file, database=database)
        return build_definitions({"sources": self.sources}, database=database)

    def _database(self, project_root: Path) -> Path:
        chosen = self.database or os.environ.get("REST_ASSETS_DATABASE") or DEFAULT_DATABASE
        path = Path(chosen).expanduser()
        return path if path.is_absolute() else project_root / path
