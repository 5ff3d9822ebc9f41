"""What a rest-assets asset does when it runs: extract into a staging area, hand it on.

The asset returns a `StagedTable`; the DuckDB IO manager commits it in one transaction and
records the metadata. Nothing here writes to DuckDB, so a failed run changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import dagster as dg

from rest_assets.config.models import IncrementalParam, SourceConfig
from rest_assets.dagster.guard import guarded_partition, ledger_entry, reconcile
from rest_assets.dagster.incremental_run import run_extractor
from rest_assets.dagster.io_manager import StagedTable
from rest_assets.dagster.naming import schema_name, table_name
from rest_assets.dagster.parents import parent_rows, parent_rows_for_key
from rest_assets.dagster.partitions import run_scope
from rest_assets.dagster.progress import Progress
from rest_assets.extract.plan import ResourcePlan
from rest_assets.extract.records import ResourceExtractor, auth_spec, paginator_spec
from rest_assets.heap import frozen_heap
from rest_assets.http.client import RestClient
from rest_assets.http.retry import RateLimiter, RetryPolicy
from rest_assets.load import LoadSpec, StagedLoad, StagingArea, new_load_id, tempdirs

IO_MANAGER_KEY = "io_manager"

# One limiter per source and process: "requests_per_second" is a promise about the API.
_RATE_LIMITERS: dict[str, RateLimiter] = {}


def extract(
    context: dg.AssetExecutionContext,
    source: SourceConfig,
    plan: ResourcePlan,
    plans: Mapping[str, ResourcePlan],
) -> StagedTable:
    resource = plan.resource
    database = getattr(context.resources, IO_MANAGER_KEY).database
    load_id = new_load_id()
    client = build_client(source, timeout=resource.endpoint.timeout)
    progress = Progress(context.log.info, f"{source.name}.{resource.name}")
    extractor = ResourceExtractor(
        client,
        resource,
        plan.steps,
        resource_auth=resource.auth,
        progress=lambda s: progress.update(s.pages, s.records, f"{client.stats.requests} requests"),
    )
    # pages a killed run left behind go first (rest_assets.load.tempdirs)
    swept, swept_bytes = tempdirs.sweep()
    if swept:
        context.log.info(
            f"removed {swept} temporary director{'y' if swept == 1 else 'ies'} "
            f"({swept_bytes / 2**20:,.1f} MiB) left by runs that were killed"
        )
    staging = StagingArea(tempdirs.new_directory("stage"))
    started = time.perf_counter()
    parent_meta: dict[str, Any] = {}
    # a stateful run first squares its cursor with DuckDB (rest_assets.dagster.guard)
    partition = guarded_partition(context) if _stateful(plan) else None
    follows = None
    if partition is not None:
        follows = reconcile(context, database, schema_name(source), table_name(resource), partition)
    # cursor, placeholders and partition scope (rest_assets.dagster.partitions)
    scope = run_scope(context, source, plan, plans, database)
    try:
        parents = None
        if scope.parent_key is not None:
            parents = parent_rows_for_key(context, source, plan, plans, database, scope.parent_key)
        elif plan.parent:
            parents, parent_meta = parent_rows(context, source, plan, plans, database)
        # plain, per-parent cursors or windows (rest_assets.dagster.incremental_run); with
        # the heap out of the collector's way (rest_assets.heap)
        with frozen_heap():
            stats = run_extractor(extractor, scope, staging.write, parents)
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
        **scope.cursor_metadata(),
    }
    if scope.tracker is not None:
        metadata["records_new"] = scope.tracker.kept
    spec = LoadSpec(
        schema=schema_name(source),
        table=table_name(resource),
        write_disposition=scope.write_disposition,  # type: ignore[arg-type]
        primary_key=list(resource.primary_key),
        columns={k: v.model_dump() for k, v in resource.columns.items()} or None,
        max_table_nesting=resource.max_table_nesting,
        nested_as_json=resource.nested_as_json,
        load_id=load_id,
        partition_key=scope.partition_key,
        replace_partitions=scope.replace_partitions,
        ledger=ledger_entry(partition, follows, metadata) if partition is not None else None,
    )
    return StagedTable(StagedLoad(staging, spec), metadata=metadata, on_commit=scope.on_commit)


def _stateful(plan: ResourcePlan) -> bool:
    """Runs that read state from their last load: an incremental cursor or a parent cursor."""
    endpoint = plan.resource.endpoint
    return (
        endpoint.incremental is not None
        or any(isinstance(v, IncrementalParam) for v in endpoint.params.values())
        or (plan.parent is not None and plan.parent_rows == "new")
    )


def source_rate_limiter(source: SourceConfig) -> RateLimiter | None:
    """The source's limiter, one per process: `requests_per_second` is a promise about the
    API, shared by its read assets and its outputs."""
    rate = source.client.rate_limit.requests_per_second
    if not rate:
        return None
    return _RATE_LIMITERS.setdefault(source.name, RateLimiter(rate))


def source_retry_policy(source: SourceConfig) -> RetryPolicy:
    """Retries as the source's `rate_limit` section configures them."""
    rate_limit = source.client.rate_limit
    return RetryPolicy(
        max_attempts=rate_limit.max_retries + 1, retry_statuses=set(rate_limit.retry_on)
    )


def build_client(source: SourceConfig, timeout: float | None = None) -> RestClient:
    """A RestClient for a source: auth and `${VAR}`s are resolved at request time.

    `timeout` (an endpoint's own) overrides the client's.
    """
    client = source.client
    return RestClient(
        base_url=client.base_url,
        headers=client.headers,
        auth=auth_spec(client.auth),
        paginator=paginator_spec(client.paginator),
        session=client.session,
        timeout=timeout or client.timeout,
        retry=source_retry_policy(source),
        rate_limit=source_rate_limiter(source),
        show_error_body=client.show_error_body,
        max_response_bytes=client.max_response_bytes,
        max_response_seconds=client.max_response_seconds,
    )
