"""What one run of a resource covers: cursor, placeholder values, partition scope.

Read from the instance before the resource starts: the cursor of the latest materialization
(or a later `cursor set`), the window a window partition was loaded with, the per-parent
cursors of an incremental child, and the partition keys of the run. Every row of a
partitioned asset carries its partition key in `_ra_partition`; `replace` (and `append` for
windows, where a re-run means "this window again") replaces only the rows of the partitions
being run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dagster as dg

from rest_assets.config.models import PartitionsConfig, SourceConfig
from rest_assets.dagster.naming import asset_key, schema_name
from rest_assets.dagster.partitions import (
    dynamic_name,
    parent_keys,
    partition_kind,
    partition_label,
    run_partitions,
)
from rest_assets.dagster.run_info import RunInfo
from rest_assets.dagster.state.cursors import (
    WINDOW_KEY,
    cursor_metadata,
    cursor_range,
    parent_cursors_metadata,
    read_cursor,
    read_parent_cursors,
    read_window,
)
from rest_assets.errors import ConfigError
from rest_assets.extract import placeholders
from rest_assets.extract.incremental import (
    CursorState,
    CursorTracker,
    IncrementalSpec,
    RangeExhausted,
)
from rest_assets.extract.parent_cursors import ParentCursors
from rest_assets.extract.plan import ResourcePlan
from rest_assets.load import LoadResult

# Runs after a resource's load committed, in the step's own thread (it may call the
# instance); what it returns is added to the materialization's metadata.
AfterCommit = Callable[[LoadResult], Mapping[str, Any]]


@dataclass
class RunScope:
    """What one run of a resource needs beyond its config: placeholder values, the cursor
    tracker, the partition its rows belong to and what its write replaces."""

    values: dict[str, Any] = field(default_factory=dict)
    tracker: CursorTracker | None = None
    write_disposition: str = "replace"
    partition_key: str | None = None
    replace_partitions: list[str] | None = None
    parent_key: str | None = None
    window: str | None = None  # "new" or "rerun" for window partitions
    window_bounds: dict[str, Any] = field(default_factory=dict)
    global_state: CursorState | None = None
    after_commit: AfterCommit | None = None
    # an incremental child: one cursor per parent key (rest_assets.extract.parent_cursors)
    parent_cursors: ParentCursors | None = None
    # `incremental.window`: the (start, end) windows this run fetches one after another
    windows: Iterable[tuple[Any, Any]] | None = None
    window_count: int | None = None
    # the `_ra_partition` values of the run (None: the asset is not partitioned, or the run
    # has no partition): what its checks judge
    partitions: list[str] | None = None

    def cursor_metadata(self) -> dict[str, Any]:
        """The cursor entries of the materialization (empty for non-incremental resources):
        `cursor_range` (what this run loaded), `cursor` (where the next run starts),
        `windows`, then the state entries."""
        if self.parent_cursors is not None:
            return parent_cursors_metadata(self.parent_cursors)
        tracker = self.tracker
        if tracker is None:
            return {}
        readable: dict[str, Any] = {}
        if self.window == "rerun":
            # re-running an old window leaves the asset's cursor where it is
            bounds = dict(self.window_bounds)
            readable["cursor_range"] = cursor_range(bounds.get("start"), bounds.get("end"))
            state = cursor_metadata(self.global_state)
        else:
            readable["cursor_range"] = cursor_range(tracker.start, tracker.last_value)
            state = cursor_metadata(tracker.state())
        readable["cursor"] = state.pop("cursor")
        if self.window_count is not None:
            readable["windows"] = dg.MetadataValue.int(self.window_count)
        if self.window == "new":
            bounds = dict(self.window_bounds)
            bounds["end"] = tracker.last_value
            bounds["end_keys"] = list(tracker.keys_at_last)
            state[WINDOW_KEY] = dg.MetadataValue.json(bounds)
        elif self.window == "rerun":
            state[WINDOW_KEY] = dg.MetadataValue.json(dict(self.window_bounds))
        return {**readable, **state}


def run_scope(
    run: RunInfo,
    key: dg.AssetKey,
    source: SourceConfig,
    plan: ResourcePlan,
    plans: Mapping[str, ResourcePlan],
    database: str,
    asset_keys: Mapping[str, dg.AssetKey] | None = None,
) -> RunScope:
    """Work out cursor, placeholders and partition scope of this run from the instance.

    `asset_keys` are the asset keys of the source's resources by name (for metadata naming them).
    """
    resource = plan.resource
    spec = IncrementalSpec.for_endpoint(resource.endpoint, plan.where, resource.primary_key)
    kind = partition_kind(resource)
    disposition = resource.write_disposition
    scope = RunScope(write_disposition=disposition)
    scope.values[placeholders.RUN_DATE] = placeholders.run_date()  # {{ dt }}: today in UTC
    instance = run.instance
    keys: list[str] = []
    if kind is not None:
        keys = list(run.partition_keys)
        label = partition_label(keys)
        scope.partition_key = label
        scope.partitions = run_partitions(keys)
        scope.values["partition.key"] = label
        if disposition == "replace" or (kind == "windows" and disposition == "append"):
            scope.write_disposition = "replace"
            scope.replace_partitions = run_partitions(keys)
    if kind == "time":
        assert resource.partitions is not None and run.time_window is not None
        scope.values["partition.start"] = _format(run.time_window.start, resource.partitions)
        scope.values["partition.end"] = _format(run.time_window.end, resource.partitions)
        # the partition's own date (its first, for a range), in the partitions' timezone
        scope.values[placeholders.RUN_DATE] = run.time_window.start.date().isoformat()
    if kind == "parent":
        scope.parent_key = keys[0] if len(keys) == 1 else None
        if scope.parent_key is None:
            raise ConfigError(
                f"{plan.where}: a run of a partition_by_parent asset takes one partition key"
            )
    scope.after_commit = _parent_key_hook(instance, source, plan, plans, database, asset_keys or {})
    if spec is None:
        return scope
    if kind == "windows":
        _window_scope(instance, key, keys[0], spec, scope)
        return scope
    if kind is None and plan.parent is not None:
        # one cursor per parent key, not one for all parents (dlt issue 2429)
        scope.parent_cursors = read_parent_cursors(instance, key, spec)
        return scope
    state: CursorState | None = None
    if kind is None:
        state = read_cursor(instance, key).state
    elif len(keys) == 1 and scope.write_disposition != "replace":
        state = read_cursor(instance, key, keys[0]).state
    # a range run, or a partition replaced whole, fetches everything its bounds allow
    scope.values.update(spec.values(state))
    scope.tracker = spec.tracker(state)
    if spec.window is not None:
        scope.windows = spec.windows(state)
    return scope


def _window_scope(
    instance: dg.DagsterInstance,
    key: dg.AssetKey,
    partition: str,
    spec: IncrementalSpec,
    scope: RunScope,
) -> None:
    globally = read_cursor(instance, key).state
    scope.global_state = globally
    window = read_window(instance, key, partition)
    if window is not None:
        # A re-run: the window's recorded bounds, end included. The request gets the
        # configured end_value, not the window's end (an API's "before" filter may exclude
        # it): the tracker cuts the window, keeping at the end value only the records the
        # window had there, and the start records the previous window had.
        start, end = window.get("start"), window.get("end")
        start_keys = [str(k) for k in window.get("start_keys") or []]
        end_keys = [str(k) for k in window.get("end_keys") or []]
        at_start = CursorState(start, start_keys) if start is not None else None
        scope.tracker = spec.tracker(
            at_start, start=start, end=end, end_inclusive=True, end_keys=end_keys
        )
        scope.values.update(spec.values(at_start, start=start))
        scope.window = "rerun"
        scope.window_bounds = dict(window)
        return
    scope.window = "new"
    start_keys = list(globally.boundary_keys) if globally else []
    scope.window_bounds = {"start": spec.start_value(globally), "start_keys": start_keys}
    scope.values.update(spec.values(globally))
    scope.tracker = spec.tracker(globally)


def _format(moment: datetime, spec: PartitionsConfig) -> str:
    return moment.strftime(spec.format) if spec.format else moment.isoformat()


def _parent_key_hook(
    instance: dg.DagsterInstance,
    source: SourceConfig,
    plan: ResourcePlan,
    plans: Mapping[str, ResourcePlan],
    database: str,
    keys: Mapping[str, dg.AssetKey],
) -> AfterCommit | None:
    """After a parent's load: add its new keys to the partitions of children partitioned by
    them (`partition_by_parent`), so keys appear only for rows that landed. Metadata
    `partitions_added` counts the new partitions of each child, by the child's asset key."""
    children = [
        p for p in plans.values() if p.parent == plan.name and p.resource.partition_by_parent
    ]
    if not children:
        return None

    def add_keys(result: LoadResult) -> Mapping[str, Any]:
        added: dict[str, int] = {}
        for child in children:
            name = dynamic_name(source, child.resource)
            values = parent_keys(database, schema_name(source), result.table, child, source.naming)
            existing = set(instance.get_dynamic_partitions(name))
            new = [v for v in values if v not in existing]
            if new:
                instance.add_dynamic_partitions(name, new)
            key = keys.get(child.name) or asset_key(source, child.name)
            added[key.to_user_string()] = len(new)
        return {"partitions_added": dg.MetadataValue.json(added)}

    return add_keys


def filtered_sink(
    scope: RunScope, write: Callable[[list[Any]], Any]
) -> Callable[[list[Any]], None]:
    """`write` behind the run's cursor tracker: only records in range and not loaded before.

    Raises `RangeExhausted` after storing a batch once `row_order` shows that later pages can
    hold no record in range; the caller stops paginating there.
    """
    tracker = scope.tracker
    if tracker is None:
        return write

    def sink(batch: list[Any]) -> None:
        write(tracker.filter(batch))
        if tracker.exhausted:
            raise RangeExhausted(f"{tracker.spec.where}: past the end of the range")

    return sink
