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

import time
from collections.abc import Iterator
from dataclasses import dataclass
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
    drop_trace,
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

_FIRST_DELAY = 0.1
_MAX_DELAY = 2.0


def native_assets(
    source: SourceConfig, native: DltNativeSource, translator: RestAssetsTranslator
) -> list[dg.AssetsDefinition]:
    """The step of the dlt source's resources, or a stand-in when the source cannot load."""
    folder = (native.project or Path.cwd()).resolve()
    with dlt_project(folder) as project:
        try:
            dlt_source = call_source(native, project)
        except DltNativeError as exc:
            return [stand_in_asset(source, native, project.redactor.redact(str(exc)))]
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
        target = Target(io_manager.database, io_manager.lock_timeout)
        yield from run_source(context, target, source, native, folder, translator)

    return _step


@dataclass(frozen=True)
class Target:
    """The DuckDB file dlt loads into, and how long to wait while another process holds it."""

    database: str
    lock_timeout: float


def run_source(
    context: dg.AssetExecutionContext,
    target: Target,
    source: SourceConfig,
    native: DltNativeSource,
    folder: Path,
    translator: NativeTranslator,
) -> Iterator[dg.MaterializeResult]:
    """Load the selected resources with dlt; one materialization per resource."""
    with dlt_project(folder) as project:
        try:
            results = _load_when_unlocked(context, target, source, native, project, translator)
        except DltNativeError as exc:
            raise DltNativeError(f"{native.where}: {project.redactor.redact(str(exc))}") from None
        except Exception as exc:
            # dlt's message names the step and the resource; secrets it may hold are masked
            text = project.redactor.redact(f"{type(exc).__name__}: {exc}")
            raise DltNativeError(f"{native.where}: dlt failed: {text}") from None
    yield from results


def _load_when_unlocked(
    context: dg.AssetExecutionContext,
    target: Target,
    source: SourceConfig,
    native: DltNativeSource,
    project: DltProject,
    translator: NativeTranslator,
) -> list[dg.MaterializeResult]:
    """`_load`, again while another process holds the DuckDB file's lock (dlt's connection
    does not wait; rest-assets' own connections wait the same `lock_timeout`). Nothing was
    written when dlt could not connect, and dlt restores its state from the dataset on
    every attempt, so an attempt starts over, requests included."""
    deadline = time.monotonic() + max(target.lock_timeout, 0.0)
    delay = _FIRST_DELAY
    while True:
        try:
            return _load(context, target.database, source, native, project, translator)
        except Exception as exc:
            if not _is_lock_error(exc) or time.monotonic() + delay > deadline:
                raise
            context.log.info(
                f"{source.name}: {target.database} is locked by another process; dlt "
                f"tries again in {delay:.2g} s"
            )
            time.sleep(delay)
            delay = min(delay * 2, _MAX_DELAY)


def _is_lock_error(exc: BaseException | None) -> bool:
    """Whether DuckDB refused a connection because another process holds the file."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        text = str(exc).lower()
        if "could not set lock" in text or "conflicting lock" in text:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


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
    try:
        events = DagsterDltResource().run(
            context=context,
            dlt_source=dlt_source,
            dlt_pipeline=pipeline,
            dagster_dlt_translator=translator,
        )
        loaded = [e for e in events if isinstance(e, dg.MaterializeResult)]
    finally:
        drop_trace(pipeline)
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
