"""One resource inside a source's step: prepared, extracted and committed, then checked.

`prepare` runs in the step's own thread: it is where the instance is read (the cursor, the
ledger reconciliation, the child's last parent load). `execute` runs on a worker thread and
calls no Dagster API: it fetches into a staging area, commits the load in one DuckDB
transaction (one commit at a time per step) and evaluates the resource's checks on the
committed table. Log lines go through the step's `log` callable, which queues them for the
step's thread. Nothing is written before the commit, so a failed resource changes nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from rest_assets.config.models import IncrementalParam, SourceConfig
from rest_assets.dagster.checks import evaluate_checks
from rest_assets.dagster.empty_result import judge_empty_result, previous_rows
from rest_assets.dagster.incremental_run import run_extractor
from rest_assets.dagster.io_manager import DuckDBIOManager
from rest_assets.dagster.load_options import load_options
from rest_assets.dagster.materialization_metadata import resource_materialization
from rest_assets.dagster.metadata import TableAddress
from rest_assets.dagster.naming import ledger_table, schema_name, table_name
from rest_assets.dagster.parents import ParentReader, ParentRows, last_parent_load
from rest_assets.dagster.progress import Progress
from rest_assets.dagster.run_info import RunInfo
from rest_assets.dagster.specs import ResourceSpec, column_notes
from rest_assets.dagster.state.ledger import ledger_entry, ledger_partition, reconcile
from rest_assets.dagster.state.scope import RunScope, run_scope
from rest_assets.extract.clients import SourceClients
from rest_assets.extract.plan import ResourcePlan
from rest_assets.extract.records import ExtractStats, ResourceExtractor
from rest_assets.load import (
    CommitTurns,
    LoadResult,
    LoadSpec,
    StagedLoad,
    StagingArea,
    loaded_tables,
    tempdirs,
)

Log = Callable[[str], None]


@dataclass
class SourceRun:
    """What the resources of one step share: the source, its clients, the writer."""

    source: SourceConfig
    plans: Mapping[str, ResourcePlan]
    clients: SourceClients
    writer: DuckDBIOManager
    run: RunInfo
    # the asset key of every selected resource of the source, by name
    keys: Mapping[str, dg.AssetKey] = field(default_factory=dict)
    # one commit at a time, the file held open while commits queue (load.CommitTurns)
    commits: CommitTurns = field(init=False)

    def __post_init__(self) -> None:
        self.commits = CommitTurns(self.writer.database, self.writer.lock_timeout)

    @property
    def database(self) -> str:
        return self.writer.database


@dataclass
class ResourceJob:
    """A resource ready to run: its scope and state, read from the instance."""

    spec: ResourceSpec
    scope: RunScope
    ledger_partition: str | None = None
    follows: str | None = None
    since: str | None = None  # the child's last parent load id (parent_rows: new)
    parents: ParentReader | None = None
    check_names: list[str] = field(default_factory=list)  # the checks selected in this run
    previous_rows: int | None = None  # rows the latest materialization wrote


@dataclass
class ResourceOutcome:
    """A committed resource: its load, the materialization's metadata and check results."""

    spec: ResourceSpec
    result: LoadResult
    metadata: dict[str, Any]
    checks: list[dg.AssetCheckResult]
    scope: RunScope
    warnings: list[str] = field(default_factory=list)  # logged by the step's thread


def prepare(shared: SourceRun, spec: ResourceSpec, parent_materialized: bool) -> ResourceJob:
    """Read what this run of `spec` starts from; in the step's thread (calls the instance)."""
    plan = spec.plan
    run = shared.run
    job = ResourceJob(spec=spec, scope=RunScope())
    # a stateful run first squares its cursor with DuckDB (rest_assets.dagster.state.ledger)
    if _stateful(plan):
        job.ledger_partition = ledger_partition(run.partitioned, list(run.partition_keys))
    if job.ledger_partition is not None:
        job.follows = reconcile(
            run.instance,
            spec.key,
            shared.database,
            (schema_name(shared.source), ledger_table(shared.source, plan.resource)),
            job.ledger_partition,
            run.warning,
        )
    job.scope = run_scope(
        run, spec.key, shared.source, plan, shared.plans, shared.database, shared.keys
    )
    job.previous_rows = previous_rows(run.instance, spec.key, run.partition_keys)
    if plan.parent is not None:
        if plan.parent_rows == "new" and plan.upstream is not None and job.scope.parent_key is None:
            job.since = last_parent_load(run.instance, spec.key)
        job.parents = ParentReader(
            shared.source,
            shared.plans,
            shared.database,
            shared.clients,
            parent_materialized=parent_materialized,
            log=run.info,
        )
    return job


def execute(
    shared: SourceRun, job: ResourceJob, log: Log, cancelled: threading.Event
) -> ResourceOutcome:
    """Fetch, stage, commit and check one resource; on a worker thread (no Dagster calls).

    `cancelled` is set when the step stops (its run was terminated, or the step failed
    elsewhere): the resource stops at its next page and commits nothing.
    """
    spec, scope = job.spec, job.scope
    plan = spec.plan
    resource = plan.resource
    source = shared.source
    label = f"{source.name}.{resource.name}"
    client = shared.clients.client(timeout=resource.endpoint.timeout)
    progress = Progress(log, label)
    child = job.parents is not None

    def report(stats: ExtractStats) -> None:
        count = stats.parents if child else stats.pages
        progress.update(count, stats.records, f"{client.stats.requests} requests")

    assert plan.steps is not None  # every plan compiles its steps
    extractor = ResourceExtractor(
        client, resource, plan.steps, resource_auth=resource.auth, progress=report
    )
    staging = StagingArea(tempdirs.new_directory("stage"))
    started = time.perf_counter()
    parent_rows: ParentRows | None = None
    try:
        # a child reads its parent rows first: the log says which, and progress counts them
        if job.parents is not None and scope.parent_key is not None:
            parent_rows = job.parents.rows_for_key(plan, scope.parent_key)
        elif job.parents is not None:
            parent_rows = job.parents.rows(plan, job.since)
        if parent_rows is not None:
            log(f"{label}: {parent_rows.summary}")
            progress.unit, progress.total = "parents", parent_rows.total
        parents = parent_rows.rows if parent_rows is not None else None
        stats = run_extractor(extractor, scope, _unless(cancelled, staging.write), parents)
        empty = judge_empty_result(
            resource,
            label=label,
            table=f"{schema_name(source)}.{table_name(source, resource)}",
            write_disposition=scope.write_disposition,
            incremental=scope.tracker is not None or scope.parent_cursors is not None,
            records=staging.rows,  # staged: after the cursor's filter
            previous=job.previous_rows,
            parents=stats.parents if plan.parent is not None else None,
        )
    except BaseException:
        staging.cleanup()
        client.close()
        raise
    client.close()
    elapsed = time.perf_counter() - started
    rate = stats.records / elapsed if elapsed > 0 else 0.0
    of_parents = ""
    if parent_rows is not None:
        total = f" / {parent_rows.total:,}" if parent_rows.total is not None else ""
        of_parents = f" for {stats.parents:,}{total} parents"
    log(
        f"{label}: {stats.records:,} records{of_parents} in {stats.pages:,} pages, "
        f"{client.stats.requests:,} requests, {elapsed:.2f}s ({rate:,.0f} records/s)"
    )
    ignored = client.stats.ignored_summary()
    if ignored:
        log(f"{label}: {ignored}")  # one line per resource, not one per response
    cursor = scope.cursor_metadata()
    if scope.tracker is not None:
        cursor["records_new"] = dg.MetadataValue.int(scope.tracker.kept)
    extraction: dict[str, Any] = {
        "records_extracted": dg.MetadataValue.int(stats.records),
        "pages": dg.MetadataValue.int(stats.pages),
        "requests": dg.MetadataValue.int(client.stats.requests),
        "extract_seconds": dg.MetadataValue.float(round(elapsed, 3)),
        **({"responses_ignored": dg.MetadataValue.int(client.stats.ignored)} if ignored else {}),
        **(parent_rows.meta if parent_rows is not None else {}),
    }
    metadata = {**cursor, **extraction}
    spec_ledger = (
        ledger_entry(job.ledger_partition, job.follows, metadata)
        if job.ledger_partition is not None
        else None
    )
    staged = StagedLoad(
        staging,
        LoadSpec(
            schema=schema_name(source),
            table=table_name(source, resource),
            write_disposition=scope.write_disposition,  # type: ignore[arg-type]
            **load_options(source, resource),
            partition_key=scope.partition_key,
            replace_partitions=scope.replace_partitions,
            ledger=spec_ledger,
        ),
    )
    with shared.commits.turn():
        if cancelled.is_set():
            staging.cleanup()
            raise StepCancelled(f"{label}: the step stopped before this resource committed")
        result = shared.writer.write_staged(staged)
        checks = evaluate_checks(
            source, plan, spec.key, job.check_names, shared.database, scope.partitions
        )
        # a single partition's own row count (a range run's rows all carry its label)
        single = scope.partition_key if scope.partitions and len(scope.partitions) == 1 else None
        tables = loaded_tables(shared.database, schema_name(source), result.table, partition=single)
    log(
        f"{result.table_name}: {result.rows_written} rows written "
        f"({scope.write_disposition}), {result.row_count} rows in table"
    )
    for note in result.notes:
        log(f"{label}: {note}")
    address = TableAddress(schema_name(source), result.table, tables.database, shared.database)
    deps = list(spec.asset.deps)
    metadata = resource_materialization(
        spec.key,
        address,
        result,
        tables,
        column_notes(source, plan),
        deps[0].asset_key if deps else None,
        cursor,
        extraction,
    )
    warnings = [w for w in (empty, *_cursor_warnings(scope)) if w]
    return ResourceOutcome(spec, result, metadata, checks, scope, warnings)


class StepCancelled(Exception):
    """The step stopped while this resource was running; nothing was committed."""


def _unless(
    cancelled: threading.Event, write: Callable[[list[Any]], Any]
) -> Callable[[list[Any]], Any]:
    def sink(batch: list[Any]) -> Any:
        if cancelled.is_set():
            raise StepCancelled("the step stopped")
        return write(batch)

    return sink


def _cursor_warnings(scope: RunScope) -> list[str | None]:
    """Records whose cursor value could not be compared (one line per tracker)."""
    trackers = [scope.tracker] if scope.tracker is not None else []
    if scope.parent_cursors is not None:
        trackers.extend(scope.parent_cursors.trackers.values())
    return [t.invalid_warning() for t in trackers]


def _stateful(plan: ResourcePlan) -> bool:
    """Runs that read state from their last load: an incremental cursor or a parent cursor."""
    endpoint = plan.resource.endpoint
    return (
        endpoint.incremental is not None
        or any(isinstance(v, IncrementalParam) for v in endpoint.params.values())
        or (plan.parent is not None and plan.parent_rows == "new")
    )
