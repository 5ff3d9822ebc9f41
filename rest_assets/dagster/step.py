"""A source's step: one subsettable multi-asset that runs its selected resources concurrently.

Dagster gives every step its own process under the default executor, so an asset per
resource (and a step per check) made a 12-resource source pay a process start-up per table.
Like dagster-dlt, dagster-sling and dagster-dbt, a source is one step and each table is still
its own asset. Inside the step:

- independent resources are fetched at the same time on a bounded pool (`max_concurrency`
  per source), sharing the source's rate limiter; a child starts once its parent (when both
  run in this step) has committed, and reads the parent rows from DuckDB;
- each resource commits, is checked and yields its materialization as soon as it is done;
- a resource that fails does not stop its independent siblings; its children in the step do
  not run; the step fails at the end naming every resource that failed. A blocking check
  that fails keeps the resource's children from running, and Dagster stops downstream steps.

Worker threads call no Dagster API: they put log lines and outcomes on a queue that the
step's thread drains, so the event log is written from one thread.

No `from __future__ import annotations` here: Dagster reads the step function's `context`
annotation at definition time and accepts only the class itself.
"""

import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import dagster as dg

from rest_assets.dagster.checks import evaluate_checks
from rest_assets.dagster.io_manager import IO_MANAGER_KEY
from rest_assets.dagster.partitions import run_partitions
from rest_assets.dagster.resource_run import ResourceOutcome, SourceRun, execute, prepare
from rest_assets.dagster.run_info import RunInfo
from rest_assets.dagster.specs import ResourceSpec, StepSpec
from rest_assets.dagster.state.cursors import internal_last
from rest_assets.errors import RestAssetsError
from rest_assets.extract.clients import SourceClients
from rest_assets.extract.plan import ResourcePlan
from rest_assets.heap import freeze_at_exit, frozen_heap
from rest_assets.load import check_writable, tempdirs

StepEvent = dg.MaterializeResult | dg.AssetCheckResult


class SourceStepError(RestAssetsError):
    """Some resources of a step failed; the others committed and were materialized."""


def step_asset(
    step: StepSpec, plans: Mapping[str, ResourcePlan], clients: SourceClients
) -> dg.AssetsDefinition:
    """The multi-asset of one step."""
    source = step.source

    @dg.multi_asset(
        name=step.name,
        specs=[r.asset for r in step.resources],
        check_specs=[c for r in step.resources for c in r.checks],
        can_subset=True,
        partitions_def=step.partitions_def,
        backfill_policy=step.backfill_policy,
        pool=step.pool,
        required_resource_keys={IO_MANAGER_KEY},
        description=source.description or f"The resources of REST source {source.name}.",
    )
    def _step(context: dg.AssetExecutionContext) -> Iterator[StepEvent]:
        yield from run_step(context, step, plans, clients)

    return _step


def run_step(
    context: dg.AssetExecutionContext,
    step: StepSpec,
    plans: Mapping[str, ResourcePlan],
    clients: SourceClients,
) -> Iterator[StepEvent]:
    """The body of a step: the selected resources, then the selected checks on their own."""
    run = RunInfo.from_context(context)
    writer = getattr(context.resources, IO_MANAGER_KEY)
    shared = SourceRun(step.source, plans, clients, writer, run, step.keys)
    selected_keys = set(context.selected_asset_keys)
    checks = _selected_checks(context, step)
    resources = [r for r in step.resources if r.key in selected_keys]
    done_before = _materialized_before(context, resources, step)
    for spec in resources:
        if spec.key in done_before:
            run.info(
                f"{step.source.name}.{spec.name}: materialized by run "
                f"{done_before[spec.key]}, which this run re-executes: not fetched again"
            )
    resources = [r for r in resources if r.key not in done_before]
    if resources:
        check_writable(shared.database)  # before fetching anything the commit could not keep
    swept, swept_bytes = tempdirs.sweep()  # pages a killed run left behind go first
    if swept:
        run.info(
            f"removed {swept} temporary director{'y' if swept == 1 else 'ies'} "
            f"({swept_bytes / 2**20:,.1f} MiB) left by runs that were killed"
        )
    freeze_at_exit()  # this process exits after its run: a short exit (heap.py)
    with frozen_heap():  # the collector stays off the heap while records stream (heap.py)
        yield from _Scheduler(shared, resources, checks, context.add_asset_metadata).run()
    # checks selected without their asset (the UI's "Execute" on a check): of the run's
    # partitions, when it has some
    partitions = run_partitions(list(run.partition_keys))
    for spec in step.resources:
        names = checks.get(spec.key, [])
        if names and spec.key not in selected_keys:
            yield from evaluate_checks(
                step.source, spec.plan, spec.key, names, shared.database, partitions
            )


def _selected_checks(
    context: dg.AssetExecutionContext, step: StepSpec
) -> dict[dg.AssetKey, list[str]]:
    selected = set(context.selected_asset_check_keys)
    out: dict[dg.AssetKey, list[str]] = {}
    for spec in step.resources:
        for check in spec.checks:
            if check.key in selected:
                out.setdefault(spec.key, []).append(check.name)
    return out


def _materialized_before(
    context: dg.AssetExecutionContext, resources: Sequence[ResourceSpec], step: StepSpec
) -> dict[dg.AssetKey, str]:
    """Resources a re-execution from failure need not fetch again, with the run that did.

    Dagster re-runs a failed step whole; the resources that committed in the run being
    re-executed (or an earlier one of its chain) are skipped, unless an asset of another step
    depends on them: that step needs this one to produce them.
    """
    if not context.run.is_resume_retry or not resources:
        return {}
    instance = context.instance
    in_step = {r.key for r in step.resources}
    graph = context.repository_def.asset_graph
    done: dict[dg.AssetKey, str] = {}
    run_id = context.run.parent_run_id
    while run_id:
        for record in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records:
            event = record.event_log_entry.dagster_event
            if event is not None and event.asset_key is not None:
                done.setdefault(event.asset_key, run_id)
        parent = instance.get_run_by_id(run_id)
        run_id = parent.parent_run_id if parent is not None else None
    out = {}
    for spec in resources:
        if spec.key not in done:
            continue
        children = graph.get(spec.key).child_keys if graph.has(spec.key) else set()
        if all(child in in_step for child in children):
            out[spec.key] = done[spec.key]
    return out


@dataclass
class _Task:
    spec: ResourceSpec
    # the in-step parent this resource waits for, if its upstream runs in this step
    waits_for: dg.AssetKey | None = None
    children: list["_Task"] = field(default_factory=list)


# Attaches metadata to an asset's materialization only (`context.add_asset_metadata`).
AttachMetadata = Callable[..., None]


class _Scheduler:
    """Runs a step's resources on a bounded pool, children after their parents.

    A resource's metadata goes on its materialization through `attach` rather than on the
    `MaterializeResult`: metadata of a result is also the step output's, and the run log
    would show the same block twice (under STEP_OUTPUT and ASSET_MATERIALIZATION).
    """

    def __init__(
        self,
        shared: SourceRun,
        resources: Sequence[ResourceSpec],
        checks: Mapping[dg.AssetKey, list[str]],
        attach: AttachMetadata,
    ) -> None:
        self.shared = shared
        self.checks = checks
        self.attach = attach
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.cancelled = threading.Event()
        by_key = {r.key: _Task(r) for r in resources}
        upstream_keys = _upstream_keys(resources)
        for task in by_key.values():
            parent = upstream_keys.get(task.spec.key)
            if parent in by_key:
                task.waits_for = parent
                by_key[parent].children.append(task)
        self.tasks = list(by_key.values())
        self.failures: list[tuple[ResourceSpec, BaseException]] = []
        self.running = 0

    def run(self) -> Iterator[StepEvent]:
        if not self.tasks:
            return
        width = min(self.shared.source.max_concurrency, len(self.tasks))
        pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="rest-assets-step")
        try:
            for task in self.tasks:
                if task.waits_for is None:
                    self._start(pool, task, parent_materialized=None)
            while self.running:
                kind, payload = self.events.get()
                if kind == "info":
                    self.shared.run.info(payload)
                elif kind == "done":
                    self.running -= 1
                    yield from self._finish(pool, *payload)
        finally:
            self.cancelled.set()
            pool.shutdown(wait=True, cancel_futures=True)
        if self.failures:
            raise SourceStepError(_failure_text(self.shared.source.name, self.failures))

    def _start(
        self, pool: ThreadPoolExecutor, task: _Task, parent_materialized: bool | None
    ) -> None:
        spec = task.spec
        try:
            if parent_materialized is None:
                parent_materialized = _ever_materialized(self.shared, spec)
            job = prepare(self.shared, spec, parent_materialized)
        except Exception as exc:
            self._failed(task, exc)
            return
        job.check_names = list(self.checks.get(spec.key, []))
        self.running += 1
        future = pool.submit(execute, self.shared, job, self._log, self.cancelled)
        future.add_done_callback(partial(self._done, task))

    def _done(self, task: _Task, future: Future[ResourceOutcome]) -> None:
        self.events.put(("done", (task, future)))

    def _log(self, text: str) -> None:
        self.events.put(("info", text))

    def _finish(
        self, pool: ThreadPoolExecutor, task: _Task, future: Future[ResourceOutcome]
    ) -> Iterator[StepEvent]:
        try:
            outcome = future.result()
        except BaseException as exc:
            self._failed(task, exc)
            return
        for warning in outcome.warnings:
            self.shared.run.warning(warning)
        metadata = dict(outcome.metadata)
        hook = outcome.scope.after_commit
        if hook is not None:
            # the data is committed: a failing hook must not fail the resource (and so hold
            # back the cursor recorded with this materialization)
            try:
                metadata = internal_last({**metadata, **hook(outcome.result)})
            except Exception as exc:
                self.shared.run.warning(f"after loading {outcome.result.table_name}: {exc}")
        self.attach(metadata, asset_key=task.spec.key)
        yield dg.MaterializeResult(asset_key=task.spec.key)
        yield from outcome.checks
        blocked = [
            c.check_name or ""
            for c in outcome.checks
            if not c.passed
            and c.severity == dg.AssetCheckSeverity.ERROR
            and any(s.name == c.check_name and s.blocking for s in task.spec.checks)
        ]
        for child in task.children:
            if blocked:
                self.shared.run.warning(
                    f"{self.shared.source.name}.{child.spec.name}: not run, the blocking "
                    f"check(s) {', '.join(blocked)} of {task.spec.name} failed"
                )
                continue
            self._start(pool, child, parent_materialized=True)

    def _failed(self, task: _Task, exc: BaseException) -> None:
        self.failures.append((task.spec, exc))
        self.shared.run.warning(f"{self.shared.source.name}.{task.spec.name} failed: {exc}")
        for child in task.children:
            self.shared.run.warning(
                f"{self.shared.source.name}.{child.spec.name}: not run, its parent "
                f"{task.spec.name} failed"
            )


def _upstream_keys(resources: Sequence[ResourceSpec]) -> dict[dg.AssetKey, dg.AssetKey]:
    """Each resource's upstream asset (the nearest selected ancestor), by translated key."""
    by_name = {r.name: r.key for r in resources}
    out = {}
    for spec in resources:
        upstream = spec.plan.upstream
        if upstream is not None and upstream in by_name:
            out[spec.key] = by_name[upstream]
    return out


def _ever_materialized(shared: SourceRun, spec: ResourceSpec) -> bool:
    """Whether a resource's upstream asset (outside this run's share) was ever materialized."""
    deps = list(spec.asset.deps)
    if not deps:
        return False
    event = shared.run.instance.get_latest_materialization_event(deps[0].asset_key)
    return event is not None


def _failure_text(source: str, failures: Sequence[tuple[ResourceSpec, BaseException]]) -> str:
    lines = [f"{len(failures)} resource(s) of source {source!r} failed:"]
    lines.extend(f"  - {spec.name}: {exc}" for spec, exc in failures)
    return "\n".join(lines)
