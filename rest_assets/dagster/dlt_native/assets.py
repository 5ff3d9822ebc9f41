"""The assets of a dlt_native source: dagster-dlt's `@dlt_assets`, run by `DagsterDltResource`.

When the definitions load, the user's source function is called once (in the project's dlt
run context) to learn its resources: each selected resource becomes an asset of one
subsettable step. A run calls the function again, so secrets are read as they are then,
makes the source's dlt pipeline (rest_assets.dagster.dlt_native.engine) and hands both to
`DagsterDltResource.run`, which loads the selected resources with `pipeline.run`. Each
materialization keeps dagster-dlt's metadata, with the table as rest-assets names it
(`raw_<source>.<table>`), its row count and dlt's incremental cursor.

No `from __future__ import annotations` here: Dagster reads the step function's
annotations when the definitions load.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dlt import DagsterDltResource, dlt_assets
from dlt.extract.source import DltSource

from rest_assets.config.dialects.dango import DltNativeSource
from rest_assets.config.models import SourceConfig
from rest_assets.dagster.dlt_native.engine import (
    DltProject,
    call_source,
    dlt_project,
    incremental_state,
    pipeline_for,
    row_counts,
)
from rest_assets.dagster.dlt_native.errors import DltNativeError
from rest_assets.dagster.dlt_native.specs import NativeTranslator, native_specs, table_of
from rest_assets.dagster.dlt_native.stand_in import stand_in_asset
from rest_assets.dagster.io_manager import DuckDBIOManager
from rest_assets.dagster.naming import schema_name
from rest_assets.dagster.translator import RestAssetsTranslator


def native_assets(
    source: SourceConfig, native: DltNativeSource, translator: RestAssetsTranslator
) -> list[dg.AssetsDefinition]:
    """The step of the dlt source's resources, or a stand-in when the source cannot load."""
    folder = (native.project or Path.cwd()).resolve()
    with dlt_project(folder) as project:
        try:
            dlt_source = call_source(native, project)
        except DltNativeError as exc:
            return [stand_in_asset(source, native, str(exc))]
        specs = native_specs(source, native, dlt_source, translator)
    return [_step_asset(source, native, folder, dlt_source, NativeTranslator(specs=specs))]


def _step_asset(
    source: SourceConfig,
    native: DltNativeSource,
    folder: Path,
    dlt_source: DltSource,
    translator: NativeTranslator,
) -> dg.AssetsDefinition:
    @dlt_assets(
        dlt_source=dlt_source,
        # dlt.pipeline() writes its working folder at once: definitions load (validate, every
        # reload of a code server) must not, so the pipeline is made in the run
        dlt_pipeline=None,  # type: ignore[arg-type]
        name=source.name,
        dagster_dlt_translator=translator,
    )
    def _step(
        context: dg.AssetExecutionContext, io_manager: dg.ResourceParam[DuckDBIOManager]
    ) -> Iterator[dg.MaterializeResult]:
        yield from run_source(context, io_manager.database, source, native, folder, translator)

    return _step


def run_source(
    context: dg.AssetExecutionContext,
    database: str,
    source: SourceConfig,
    native: DltNativeSource,
    folder: Path,
    translator: NativeTranslator,
) -> Iterator[dg.MaterializeResult]:
    """Load the selected resources with dlt; one materialization per resource."""
    with dlt_project(folder) as project:
        try:
            results = _load(context, database, source, native, project, translator)
        except DltNativeError as exc:
            raise DltNativeError(f"{native.where}: {exc}") from None
        except Exception as exc:
            # dlt's message names the step and the resource; secrets it may hold are masked
            text = project.redactor.redact(f"{type(exc).__name__}: {exc}")
            raise DltNativeError(f"{native.where}: dlt failed: {text}") from None
    yield from results


def _load(
    context: dg.AssetExecutionContext,
    database: str,
    source: SourceConfig,
    native: DltNativeSource,
    project: DltProject,
    translator: NativeTranslator,
) -> list[dg.MaterializeResult]:
    dlt_source = call_source(native, project)
    pipeline = pipeline_for(source.name, schema_name(source), database)
    events = DagsterDltResource().run(
        context=context,
        dlt_source=dlt_source,
        dlt_pipeline=pipeline,
        dagster_dlt_translator=translator,
    )
    loaded = [e for e in events if isinstance(e, dg.MaterializeResult)]
    names = {spec.key: name for name, spec in translator.specs.items()}
    resources = dlt_source.resources
    tables = {name: table_of(dlt_source, resources[name]) for name in translator.specs}
    counts = row_counts(pipeline, list(tables.values()))
    out: list[dg.MaterializeResult] = []
    for event in loaded:
        assert event.asset_key is not None  # dagster-dlt names each resource's asset
        name = names[event.asset_key]
        metadata: dict[str, Any] = {
            **(event.metadata or {}),
            "dagster/table_name": f"{schema_name(source)}.{tables[name]}",
        }
        if tables[name] in counts:
            metadata["dagster/row_count"] = counts[tables[name]]
        context.log.info(
            f"{source.name}.{name}: {counts.get(tables[name], 0)} rows in "
            f"{metadata['dagster/table_name']}"
        )
        cursors = incremental_state(pipeline, dlt_source, name)
        if cursors:
            metadata["dlt_incremental"] = ", ".join(f"{k} = {v}" for k, v in cursors.items())
        out.append(dg.MaterializeResult(asset_key=event.asset_key, metadata=metadata))
    return out
