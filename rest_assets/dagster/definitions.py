"""Config to Dagster `Definitions`: a step per source, an asset per resource, and the rest.

`build_definitions` is what `definitions.py`, the CLI and the component use: every enabled
source of a project becomes its steps (`rest_assets.dagster.specs` / `.step`), schedules,
sensors and output assets, with the DuckDB IO manager that writes them and a
`dagster-duckdb` `DuckDBResource` on the same file for the user's own SQL assets.
`rest_api_assets` gives the assets of one source, for definitions a user assembles. A Dango
`type: dlt_native` source becomes the assets of its dlt resources
(`rest_assets.dagster.dlt_native`), on the same DuckDB file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from rest_assets.config.dialects.dango import dlt_native_of
from rest_assets.config.load import load_project, parse_project, read_project, source_from_dict
from rest_assets.config.locations import ConfigLocations, locate
from rest_assets.config.models import ProjectConfig, SourceConfig
from rest_assets.dagster.automation import incremental_sensors_for, schedules_for
from rest_assets.dagster.dagster_warnings import show_dagster_warnings_once
from rest_assets.dagster.dlt_native import dlt_native_assets
from rest_assets.dagster.io_manager import IO_MANAGER_KEY, DuckDBIOManager
from rest_assets.dagster.load_checks import check_source
from rest_assets.dagster.naming import check_collisions
from rest_assets.dagster.outputs import output_assets_for
from rest_assets.dagster.specs import ResourceSpec, SpecContext, resource_specs, step_specs
from rest_assets.dagster.step import step_asset
from rest_assets.dagster.translator import RestAssetsTranslator
from rest_assets.extract.clients import SourceClients
from rest_assets.extract.plan import plan_source

DEFAULT_DATABASE = "warehouse.duckdb"
# The resource key of the `DuckDBResource` for user assets: `def report(duckdb: DuckDBResource)`.
DUCKDB_RESOURCE_KEY = "duckdb"


def build_definitions(
    config: str | Path | Mapping[str, Any] | ProjectConfig,
    database: str | Path | None = None,
    translator: RestAssetsTranslator | None = None,
) -> dg.Definitions:
    """Dagster definitions for every enabled source of a `sources.yml` (path, dict or model).

    The DuckDB file defaults to `$REST_ASSETS_DATABASE`, else `warehouse.duckdb` beside the
    config file (or in the working directory for dicts). `translator` shapes each asset spec
    (see `RestAssetsTranslator`). Dagster's beta and preview warnings print once per
    process from then on (`rest_assets.dagster.dagster_warnings`). Runs execute in one
    process unless the project sets `executor: multiprocess`: the resources of a source
    already run concurrently inside its step, and a process per step would add a Dagster
    start-up to every source.
    """
    locations: ConfigLocations | None = None
    if isinstance(config, str | Path):
        project, report = read_project(config)
        locations = locate(config, report)  # each asset's code reference: its config line
        base_dir = Path(config).resolve().parent
    elif isinstance(config, ProjectConfig):
        project, base_dir = config, Path.cwd()
    else:
        project, base_dir = parse_project(config), Path.cwd()
    db_path = str(database_path(database, base_dir))
    assets: list[dg.AssetsDefinition] = []
    schedules: list[dg.ScheduleDefinition] = []
    sensors: list[dg.SensorDefinition] = []
    show_dagster_warnings_once()  # from here on, each Dagster beta warning prints once
    for index, source in enumerate(project.sources):
        if not source.enabled:
            continue
        native = dlt_native_of(source)
        if native is not None:  # a Dango `type: dlt_native` source: dlt runs it
            assets.extend(dlt_native_assets(source, native, translator or RestAssetsTranslator()))
            continue
        where = f"sources[{index}]({source.name})"
        context = SpecContext(db_path, locations.source(source.name) if locations else None)
        built = _SourceAssets(source, where, translator or RestAssetsTranslator(), context)
        assets.extend(built.assets)
        schedules.extend(schedules_for(source, built.specs, built.assets))
        sensors.extend(incremental_sensors_for(source, built.specs, built.clients, where))
        assets.extend(
            output_assets_for(source, project.enabled_sources(), where, built.clients, context)
        )
    executor = (
        dg.multiprocess_executor if project.executor == "multiprocess" else dg.in_process_executor
    )
    return dg.Definitions(
        assets=assets,
        schedules=schedules,
        sensors=sensors,
        executor=executor,
        resources={
            IO_MANAGER_KEY: DuckDBIOManager(database=db_path),
            DUCKDB_RESOURCE_KEY: DuckDBResource(database=db_path),
        },
    )


def rest_api_assets(
    config: Mapping[str, Any] | SourceConfig,
    name: str | None = None,
    translator: RestAssetsTranslator | None = None,
) -> list[dg.AssetsDefinition]:
    """Assets for one source given as a dict in the shape of dlt's `RESTAPIConfig`.

    One multi-asset per step of the source (usually one), an asset per resource. Pair them
    with `DuckDBIOManager` under the `io_manager` resource key:

        defs = dg.Definitions(
            assets=rest_api_assets({"client": {...}, "resources": [...]}, name="github"),
            resources={"io_manager": DuckDBIOManager(database="warehouse.duckdb")},
        )
    """
    show_dagster_warnings_once()
    source = config if isinstance(config, SourceConfig) else source_from_dict(config, name)
    native = dlt_native_of(source)
    if native is not None:
        return dlt_native_assets(source, native, translator or RestAssetsTranslator())
    return _SourceAssets(
        source, f"source({source.name})", translator or RestAssetsTranslator()
    ).assets


class _SourceAssets:
    """The specs, clients and step assets of one source."""

    def __init__(
        self,
        source: SourceConfig,
        where: str,
        translator: RestAssetsTranslator,
        context: SpecContext | None = None,
    ):
        check_collisions(source)
        check_source(source, where)
        plans = plan_source(source, where)
        self.clients = SourceClients(source)
        self.specs: list[ResourceSpec] = resource_specs(source, plans, translator, context)
        self.assets: list[dg.AssetsDefinition] = [
            step_asset(step, plans, self.clients) for step in step_specs(source, self.specs)
        ]


def project_config(
    config: str | Path | Mapping[str, Any] | ProjectConfig,
) -> tuple[ProjectConfig, Path]:
    """The project of a `sources.yml` (path), a dict or a model, and the folder it is in
    (the working directory for dicts and models), as `build_definitions` reads them."""
    if isinstance(config, str | Path):
        return load_project(config), Path(config).resolve().parent
    if isinstance(config, ProjectConfig):
        return config, Path.cwd()
    return parse_project(config), Path.cwd()


def database_path(database: str | Path | None, base_dir: Path) -> Path:
    """The DuckDB file: `database`, else `$REST_ASSETS_DATABASE`, else warehouse.duckdb in
    `base_dir`."""
    chosen = database or os.environ.get("REST_ASSETS_DATABASE") or base_dir / DEFAULT_DATABASE
    return Path(chosen).expanduser().resolve()
