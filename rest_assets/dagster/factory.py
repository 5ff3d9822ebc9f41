"""The asset factory: one Dagster asset per configured resource, children downstream of parents.

An asset extracts its endpoint into a staging area and returns a `StagedTable`; the DuckDB IO
manager commits it in one transaction and records the metadata. A dependent resource reads
the parent fields it needs from the parent's table, so it can be re-run on its own.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from rest_assets.config.load import load_project, parse_project, source_from_dict
from rest_assets.config.models import ProjectConfig, ScheduleConfig, SourceConfig
from rest_assets.dagster.io_manager import DuckDBIOManager
from rest_assets.dagster.naming import asset_name, check_collisions, schema_name, table_name
from rest_assets.extract.plan import ResourcePlan, column_for, plan_source
from rest_assets.extract.records import ParentRow, ResourceExtractor, auth_spec, paginator_spec
from rest_assets.http.client import RestClient
from rest_assets.http.redact import redact_url
from rest_assets.http.retry import RateLimiter, RetryPolicy
from rest_assets.load.reader import read_rows
from rest_assets.load.staging import StagedTable, StagingArea, new_load_id

IO_MANAGER_KEY = "io_manager"
DEFAULT_DATABASE = "warehouse.duckdb"
LOAD_ID_COLUMN = "_ra_load_id"

# One limiter per source and process: "requests_per_second" is a promise about the API.
_RATE_LIMITERS: dict[str, RateLimiter] = {}


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
    for index, source in enumerate(project.sources):
        if not source.enabled:
            continue
        source_assets = source_assets_for(source, where=f"sources[{index}]({source.name})")
        assets.extend(source_assets)
        schedules.extend(_schedules(source, source_assets))
    return dg.Definitions(
        assets=assets,
        schedules=schedules,
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
    return [_make_asset(source, plans[r.name], plans) for r in source.resources]


def asset_key(source: SourceConfig | str, resource_name: str) -> dg.AssetKey:
    """The asset key of a resource: `[source, resource]`."""
    source_name = source if isinstance(source, str) else source.name
    return dg.AssetKey([source_name, asset_name(resource_name)])


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
    if plan.parent:
        lines.append(f"Called once per row of `{plan.parent}`.")
    return "\n".join(lines)


def _make_asset(
    source: SourceConfig, plan: ResourcePlan, plans: Mapping[str, ResourcePlan]
) -> dg.AssetsDefinition:
    resource = plan.resource
    key = asset_key(source, resource.name)
    deps = [asset_key(source, plan.parent)] if plan.parent else []
    definition_metadata: dict[str, Any] = {
        "endpoint": f"{resource.endpoint.method} {resource.endpoint.path or resource.name}",
        "base_url": redact_url(source.client.base_url),
        "write_disposition": resource.write_disposition,
        "dagster/table_name": f"{schema_name(source)}.{table_name(resource)}",
    }
    if resource.primary_key:
        definition_metadata["primary_key"] = ", ".join(resource.primary_key)

    @dg.asset(
        key=key,
        deps=deps,
        group_name=source.name,
        kinds={"rest", "duckdb"},
        description=_describe(source, plan),
        metadata=definition_metadata,
        owners=resource.owners or None,
        tags=resource.tags or None,
        io_manager_key=IO_MANAGER_KEY,
        required_resource_keys={IO_MANAGER_KEY},
    )
    def _asset(context) -> StagedTable:  # type: ignore[no-untyped-def]
        # Unannotated on purpose: Dagster rejects the string annotation that
        # `from __future__ import annotations` would give it.
        return _extract(context, source, plan, plans)

    return _asset


def _extract(
    context: dg.AssetExecutionContext,
    source: SourceConfig,
    plan: ResourcePlan,
    plans: Mapping[str, ResourcePlan],
) -> StagedTable:
    resource = plan.resource
    database = getattr(context.resources, IO_MANAGER_KEY).database
    load_id = new_load_id()
    client = build_client(source)
    extractor = ResourceExtractor(client, resource, plan.steps, resource_auth=resource.auth)
    staging = StagingArea(Path(tempfile.mkdtemp(prefix="rest-assets-")))
    started = time.perf_counter()
    parent_meta: dict[str, Any] = {}
    try:
        parents = None
        if plan.parent:
            parents, parent_meta = _parent_rows(context, source, plan, plans, database)
        stats = extractor.run(staging.write, parents=parents)
    except BaseException:
        staging.cleanup()
        raise
    elapsed = time.perf_counter() - started
    rate = stats.records / elapsed if elapsed > 0 else 0.0
    context.log.info(
        f"{source.name}.{resource.name}: {stats.records} records in {stats.pages} pages, "
        f"{client.stats.requests} requests, {elapsed:.2f}s ({rate:,.0f} records/s)"
    )
    metadata: dict[str, Any] = {
        "pages": stats.pages,
        "requests": client.stats.requests,
        "records_extracted": stats.records,
        "extract_seconds": round(elapsed, 3),
        **parent_meta,
    }
    return StagedTable(
        staging=staging,
        schema=schema_name(source),
        table=table_name(resource),
        write_disposition=resource.write_disposition,
        primary_key=list(resource.primary_key),
        columns={k: v.model_dump() for k, v in resource.columns.items()} or None,
        max_table_nesting=resource.max_table_nesting,
        nested_as_json=resource.nested_as_json,
        load_id=load_id,
        metadata=metadata,
    )


def build_client(source: SourceConfig) -> RestClient:
    """A RestClient for a source: auth and `${VAR}`s are resolved now, at run time."""
    client = source.client
    limiter = None
    if client.rate_limit.requests_per_second:
        limiter = _RATE_LIMITERS.setdefault(
            source.name, RateLimiter(client.rate_limit.requests_per_second)
        )
    return RestClient(
        base_url=client.base_url,
        headers=client.headers,
        auth=auth_spec(client.auth),
        paginator=paginator_spec(client.paginator),
        session=client.session,
        timeout=client.timeout,
        retry=RetryPolicy(
            max_attempts=client.rate_limit.max_retries + 1,
            retry_statuses=set(client.rate_limit.retry_on),
        ),
        rate_limit=limiter,
        show_error_body=client.show_error_body,
    )


def _parent_rows(
    context: dg.AssetExecutionContext,
    source: SourceConfig,
    plan: ResourcePlan,
    plans: Mapping[str, ResourcePlan],
    database: str,
) -> tuple[Iterator[ParentRow], dict[str, Any]]:
    """Parent rows this child has not handled yet (all of them for a `replace` child).

    The child remembers the newest parent load id it handled in its own materialization
    metadata; a failed child run records nothing, so no parent row is ever skipped.
    """
    parent = plans[plan.parent or ""].resource
    refs = plan.parent_refs
    wanted = [column_for(r.field) for r in refs]
    included = list(plan.resource.include_from_parent)
    columns = list(dict.fromkeys([*wanted, *(column_for(f) for f in included), LOAD_ID_COLUMN]))
    since = None
    if plan.resource.write_disposition != "replace":
        since = _last_parent_load(context)
    rows, newest = read_rows(
        database,
        schema_name(source),
        table_name(parent),
        columns,
        load_id_column=LOAD_ID_COLUMN,
        after_load_id=since,
        where=f"parent {plan.parent!r} of {plan.name!r}",
    )
    index = {c: i for i, c in enumerate(columns)}
    prefix = f"_{plan.parent}_"

    def generate() -> Iterator[ParentRow]:
        for row in rows:
            values = {ref.placeholder: row[index[column_for(ref.field)]] for ref in refs}
            extra = {f"{prefix}{f.replace('.', '_')}": row[index[column_for(f)]] for f in included}
            yield ParentRow(values=values, included=extra)

    meta = {"parent_load_id": newest or since or ""}
    return generate(), meta


def _last_parent_load(context: dg.AssetExecutionContext) -> str | None:
    event = context.instance.get_latest_materialization_event(context.asset_key)
    if event is None or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get("parent_load_id")
    text = getattr(value, "value", None) or getattr(value, "text", None)
    return str(text) if text else None


def _schedules(
    source: SourceConfig, assets: Sequence[dg.AssetsDefinition]
) -> list[dg.ScheduleDefinition]:
    out: list[dg.ScheduleDefinition] = []
    if source.schedule is not None:
        keys = [key for a in assets for key in a.keys]
        out.append(_schedule(f"{source.name}_schedule", source.schedule, keys))
    for resource in source.resources:
        if resource.schedule is not None:
            key = asset_key(source, resource.name)
            out.append(
                _schedule(
                    f"{source.name}_{asset_name(resource.name)}_schedule", resource.schedule, [key]
                )
            )
    return out


def _schedule(
    name: str, spec: ScheduleConfig, keys: Sequence[dg.AssetKey]
) -> dg.ScheduleDefinition:
    status = dg.DefaultScheduleStatus.RUNNING if spec.running else dg.DefaultScheduleStatus.STOPPED
    return dg.ScheduleDefinition(
        name=name,
        cron_schedule=spec.cron,
        execution_timezone=spec.timezone,
        target=dg.AssetSelection.assets(*keys),
        default_status=status,
    )
