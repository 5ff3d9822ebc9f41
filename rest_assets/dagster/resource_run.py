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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import duckdb

from rest_assets.config.models import IncrementalParam, SourceConfig
from rest_assets.dagster.checks import evaluate_checks
from rest_assets.dagster.incremental_run import run_extractor
from rest_assets.dagster.io_manager import DuckDBIOManager
from rest_assets.dagster.metadata import table_metadata
from rest_assets.dagster.naming import schema_name, table_name
from rest_assets.dagster.parents import ParentReader, last_parent_load
from rest_assets.dagster.progress import Progress
from rest_assets.dagster.run_info import RunInfo
from rest_assets.dagster.specs import ResourceSpec
from rest_assets.dagster.state.ledger import ledger_entry, ledger_partition, reconcile
from rest_assets.dagster.state.scope import RunScope, run_scope
from rest_assets.extract.clients import SourceClients
from rest_assets.extract.plan import ResourcePlan
from rest_assets.extract.records import ParentRow, ResourceExtractor
from rest_assets.load import tempdirs
from rest_assets.load.staging import StagedTable, StagingArea, new_load_id
from rest_assets.load.writer import LoadResult, connect

Log = Callable[[str], None]


class CommitTurns:
    """One commit at a time per step, with the database kept open while commits queue up.

    DuckDB has one writer per file, and our reads of a table that was just written (checks,
    a child's parents) must see it whole: resources commit one after the other. Opening the
    file and closing it again (the close checkpoints it) cost more than committing a small
    load: with 40 resources of 2,000 records, ~0.2 s of each ~0.45 s turn, once for the
    commit and once per check. A connection held from the first waiting commit until none
    waits lets the commit's and the checks' own connections share one open database; the
    file is released as soon as no commit waits, so other processes get it between bursts.
    """

    # how long a commit waits for a read-only connection of this process to close
    READER_WAIT_SECONDS = 60.0

    def __init__(self, database: str) -> None:
        self.database = database
        self._turn = threading.Lock()
        self._count = threading.Lock()
        self._waiting = 0
        self._held: Any = None  # a DuckDB connection while commits queue up

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._count:
            self._waiting += 1
        with self._turn:
            try:
                if self._held is None:
                    self._held = self._open()
                yield
            finally:
                with self._count:
                    self._waiting -= 1
                    last = self._waiting == 0
                if last and self._held is not None:
                    held, self._held = self._held, None
                    held.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        """The database for writing, once no read-only connection of this process holds it.

        DuckDB refuses a read-write connection while the process has the file open read-only
        (a child reading its parent's rows on another worker): such reads are short, wait.
        """
        deadline = time.monotonic() + self.READER_WAIT_SECONDS
        while True:
            try:
                return connect(self.database)
            except duckdb.ConnectionException as exc:
                if "different configuration" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)


@dataclass
class SourceRun:
    """What the resources of one step share: the source, its clients, the writer."""

    source: SourceConfig
    plans: Mapping[str, ResourcePlan]
    clients: SourceClients
    writer: DuckDBIOManager
    run: RunInfo
    commits: CommitTurns = field(init=False)

    def __post_init__(self) -> None:
        self.commits = CommitTurns(self.writer.database)

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


@dataclass
class ResourceOutcome:
    """A committed resource: its load, the materialization's metadata and check results."""

    spec: ResourceSpec
    result: LoadResult
    metadata: dict[str, Any]
    checks: list[dg.AssetCheckResult]
    scope: RunScope


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
            (schema_name(shared.source), table_name(plan.resource)),
            job.ledger_partition,
            run.warning,
        )
    job.scope = run_scope(run, spec.key, shared.source, plan, shared.plans, shared.database)
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
    extractor = ResourceExtractor(
        client,
        resource,
        plan.steps,
        resource_auth=resource.auth,
        progress=lambda s: progress.update(s.pages, s.records, f"{client.stats.requests} requests"),
    )
    staging = StagingArea(tempdirs.new_directory("stage"))
    started = time.perf_counter()
    parent_meta: dict[str, Any] = {}
    try:
        parents: Iterator[ParentRow] | None = None
        if job.parents is not None and scope.parent_key is not None:
            parents = job.parents.rows_for_key(plan, scope.parent_key)
        elif job.parents is not None:
            parents, parent_meta = job.parents.rows(plan, job.since)
        stats = run_extractor(extractor, scope, _unless(cancelled, staging.write), parents)
    except BaseException:
        staging.cleanup()
        client.close()
        raise
    client.close()
    elapsed = time.perf_counter() - started
    rate = stats.records / elapsed if elapsed > 0 else 0.0
    extracted = (
        f"{label}: {stats.records} records in {stats.pages} pages, "
        f"{client.stats.requests} requests, {elapsed:.2f}s ({rate:,.0f} records/s)"
    )
    # Each line is an event in the run's log (a SQLite write on a persistent instance, ~10 ms
    # and more): a resource that already showed progress says now that its commit starts,
    # a short one says it all in one line after the commit.
    if progress.lines:
        log(extracted)
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
    staged = StagedTable(
        staging=staging,
        schema=schema_name(source),
        table=table_name(resource),
        write_disposition=scope.write_disposition,  # type: ignore[arg-type]
        primary_key=list(resource.primary_key),
        columns={k: v.model_dump() for k, v in resource.columns.items()} or None,
        max_table_nesting=resource.max_table_nesting,
        nested_as_json=resource.nested_as_json,
        load_id=new_load_id(),
        partition_key=scope.partition_key,
        replace_partitions=scope.replace_partitions,
        ledger=(
            ledger_entry(job.ledger_partition, job.follows, metadata)
            if job.ledger_partition is not None
            else None
        ),
    )
    # the staged files' schema, inferred before this resource's turn: other resources
    # commit meanwhile (the commit waits for the probe otherwise, holding the turn)
    staging.inferred_columns()
    with shared.commits.turn():
        if cancelled.is_set():
            staging.cleanup()
            raise StepCancelled(f"{label}: the step stopped before this resource committed")
        result = shared.writer.write_staged(staged)
        checks = evaluate_checks(source, plan, spec.key, job.check_names, shared.database)
    written = (
        f"{result.table_name}: {result.rows_written} rows written "
        f"({scope.write_disposition}), {result.row_count} rows in table"
    )
    log(written if progress.lines else f"{extracted}; {written}")
    metadata = {
        **table_metadata(result),
        "load_id": result.load_id,
        "child_tables": dict(result.child_tables),
        **metadata,
    }
    return ResourceOutcome(spec, result, metadata, checks, scope)


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


def _stateful(plan: ResourcePlan) -> bool:
    """Runs that read state from their last load: an incremental cursor or a parent cursor."""
    endpoint = plan.resource.endpoint
    return (
        endpoint.incremental is not None
        or any(isinstance(v, IncrementalParam) for v in endpoint.params.values())
        or (plan.parent is not None and plan.parent_rows == "new")
    )
