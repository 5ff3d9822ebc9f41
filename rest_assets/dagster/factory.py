"""The asset factory: one Dagster asset per configured resource, children downstream of parents.

An asset extracts its endpoint into a staging area and returns a `StagedTable`; the DuckDB IO
manager commits it in one transaction and records the metadata. A dependent resource reads
the parent fields it needs from the parent's table, so it can be re-run on its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from rest_assets.config.load import load_project, parse_project, source_from_dict
from rest_assets.config.models import ProjectConfig, SourceConfig
from rest_assets.dagster.automation import incremental_sensors_for, schedules_for
from rest_assets.dagster.checks import checks_for, freshness_policy_for
from rest_assets.dagster.io_manager import DuckDBIOManager, StagedTable
from rest_assets.dagster.naming import asset_key, check_collisions, schema_name, table_name
from rest_assets.dagster.outputs import output_assets_for
from rest_assets.dagster.partitions import (
    backfill_policy_for,
    check_partitions,
    partitions_def_for,
)
from rest_assets.dagster.runtime import IO_MANAGER_KEY, extract
from rest_assets.extract.incremental import IncrementalSpec
from rest_assets.extract.plan import ResourcePlan, plan_source
from rest_assets.http.redact import redact_url

DEFAULT_DATABASE = "warehouse.duckdb"


def build_definitions(
    config: str | Path | Mapping[str, Any] | ProjectConfig,
    database: str | Path | None = None,
) -> dg.Definitions:
    """Dagster definitions for every enabled source of a `sources.yml` (path, dict or model).

    The DuckDB file defaults to `$REST_ASSETS_DATABASE`, else `warehouse.duckdb` beside the
    config file (or in the working directory for dicts).
    """
    if isinstance(config, str | Path):
        project = load_project(config)
        base_dir = Path(config).resolve().parent
    elif isinstance(config, ProjectConfig):
        project, base_dir = config, Path.cwd()
    else:
        project, base_dir = parse_project(config), Path.cwd()
    db_path = _database_path(database, base_dir)
    assets: list[dg.AssetsDefinition] = []
    schedules: list[dg.ScheduleDefinition] = []
    checks: list[dg.AssetChecksDefinition] = []
    sensors: list[dg.SensorDefinition] = []
    for index, source in enumerate(project.sources):
        if not source.enabled:
            continue
        source_assets = source_assets_for(source, where=f"sources[{index}]({source.name})")
        assets.extend(source_assets)
        schedules.extend(schedules_for(source, source_assets))
        sensors.extend(incremental_sensors_for(source, f"sources[{index}]({source.name})"))
        checks.extend(checks_for(source))
        assets.extend(
            output_assets_for(source, project.enabled_sources(), f"sources[{index}]({source.name})")
        )
    return dg.Definitions(
        assets=assets,
        schedules=schedules,
        sensors=sensors,
        asset_checks=checks,
        resources={IO_MANAGER_KEY: DuckDBIOManager(database=str(db_path))},
    )


def rest_api_assets(
    config: Mapping[str, Any] | SourceConfig, name: str | None = None
) -> list[dg.AssetsDefinition]:
    """Assets for one source given as a dict in the shape of dlt's `RESTAPIConfig`.

    Pair them with `DuckDBIOManager` under the `io_manager` resource key:

        defs = dg.Definitions(
            assets=rest_api_assets({"client": {...}, "resources": [...]}, name="github"),
            resources={"io_manager": DuckDBIOManager(database="warehouse.duckdb")},
        )
    """
    source = config if isinstance(config, SourceConfig) else source_from_dict(config, name)
    return source_assets_for(source, where=f"source({source.name})")


def source_assets_for(source: SourceConfig, where: str) -> list[dg.AssetsDefinition]:
    """Validate a source's plan and make its assets (one per resource)."""
    check_collisions(source)
    plans = plan_source(source, where)
    # A `selected: false` resource has no asset: its children fetch it inline.
    return [_make_asset(source, plans[r.name], plans) for r in source.resources if r.selected]


def _database_path(database: str | Path | None, base_dir: Path) -> Path:
    chosen = database or os.environ.get("REST_ASSETS_DATABASE") or base_dir / DEFAULT_DATABASE
    return Path(chosen).expanduser().resolve()


def _describe(source: SourceConfig, plan: ResourcePlan) -> str:
    resource = plan.resource
    endpoint = resource.endpoint
    text = resource.description or f"{source.name}: {resource.name}"
    lines = [
        text,
        "",
        f"`{endpoint.method} {endpoint.path or resource.name}` on "
        f"`{redact_url(source.client.base_url)}`, "
        f"{resource.write_disposition} into `{schema_name(source)}.{table_name(resource)}`.",
    ]
    if resource.records is not None:
        records = resource.records
        name = records if isinstance(records, str) else getattr(records, "__name__", "a list")
        lines[2] = f"Records from Python (`{name}`), {resource.write_disposition} into " + (
            f"`{schema_name(source)}.{table_name(resource)}`."
        )
    if plan.parent:
        lines.append(f"Called once per row of `{plan.parent}`.")
    if plan.parent and plan.parent != plan.upstream:
        lines.append(f"`{plan.parent}` is `selected: false`: fetched inline on every run.")
    return "\n".join(lines)


def _make_asset(
    source: SourceConfig, plan: ResourcePlan, plans: Mapping[str, ResourcePlan]
) -> dg.AssetsDefinition:
    resource = plan.resource
    key = asset_key(source, resource.name)
    deps = [asset_key(source, plan.upstream)] if plan.upstream else []
    definition_metadata: dict[str, Any] = {
        "endpoint": f"{resource.endpoint.method} {resource.endpoint.path or resource.name}",
        "base_url": redact_url(source.client.base_url),
        "write_disposition": resource.write_disposition,
        "dagster/table_name": f"{schema_name(source)}.{table_name(resource)}",
    }
    if resource.primary_key:
        definition_metadata["primary_key"] = ", ".join(resource.primary_key)
    # incremental cursor and partitions are checked here, when definitions load
    incremental = IncrementalSpec.for_endpoint(resource.endpoint, plan.where, resource.primary_key)
    check_partitions(source, plan, incremental)
    if incremental is not None:
        definition_metadata["cursor_path"] = incremental.cursor_path

    @dg.asset(
        key=key,
        deps=deps,
        group_name=source.name,
        kinds={"rest", "duckdb"},
        description=_describe(source, plan),
        metadata=definition_metadata,
        owners=resource.owners or None,
        freshness_policy=freshness_policy_for(resource),
        tags=resource.tags or None,
        io_manager_key=IO_MANAGER_KEY,
        required_resource_keys={IO_MANAGER_KEY},
        pool=resource.pool,
        partitions_def=partitions_def_for(source, resource),
        backfill_policy=backfill_policy_for(resource),
    )
    def _asset(context) -> StagedTable:  # type: ignore[no-untyped-def]
        # Unannotated on purpose: Dagster rejects the string annotation that
        # `from __future__ import annotations` would give it.
        return extract(context, source, plan, plans)

    return _asset
