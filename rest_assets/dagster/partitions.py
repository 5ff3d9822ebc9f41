"""Partitions of rest-assets assets and what one run of an incremental/partitioned asset does.

Three opt-in kinds:

- time (`partitions: {type: daily|hourly|weekly|monthly, start}`): `{partition.start}` and
  `{partition.end}` are the run's time window; a backfill runs as one run over the whole range
  (`BackfillPolicy.single_run()`), the placeholders then spanning the range.
- windows (`partitions: {type: windows}`): every incremental window is a dynamic partition
  named after its start value; a re-run of one fetches that window again (its recorded bounds).
- parent keys (`partition_by_parent: true` on a child): each value of the parent field the
  child's path uses is a dynamic partition, added right after the parent's load commits.

Every row of a partitioned asset carries its partition key in `_ra_partition`; `replace`
(and `append` for windows, where a re-run means "this window again") replaces only the rows
of the partitions being run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dagster as dg

from rest_assets.config.models import PartitionsConfig, ResourceConfig, SourceConfig
from rest_assets.dagster.naming import asset_name, schema_name
from rest_assets.dagster.state import (
    WINDOW_KEY,
    cursor_metadata,
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
from rest_assets.load import LOAD_ID, LoadResult
from rest_assets.load.reader import read_parent_rows

_TIME_TYPES = {
    "hourly": dg.HourlyPartitionsDefinition,
    "daily": dg.DailyPartitionsDefinition,
    "weekly": dg.WeeklyPartitionsDefinition,
    "monthly": dg.MonthlyPartitionsDefinition,
}
_BAD_KEY_PARTS = ("...", "\n", "\r", "\t", "\0")


def partition_kind(resource: ResourceConfig) -> str | None:
    """`time`, `windows`, `parent` or None."""
    if resource.partition_by_parent:
        return "parent"
    if resource.partitions is None:
        return None
    return "windows" if resource.partitions.type == "windows" else "time"


def dynamic_name(source: SourceConfig, resource: ResourceConfig) -> str:
    """The name of a resource's dynamic partitions (windows or parent keys)."""
    suffix = "parent_keys" if resource.partition_by_parent else "windows"
    return f"{source.name}__{asset_name(resource.name)}__{suffix}"


def partitions_def_for(
    source: SourceConfig, resource: ResourceConfig
) -> dg.PartitionsDefinition | None:
    """The asset's partitions definition, or None when it is not partitioned."""
    kind = partition_kind(resource)
    if kind is None:
        return None
    if kind in ("windows", "parent"):
        return dg.DynamicPartitionsDefinition(name=dynamic_name(source, resource))
    spec = resource.partitions
    assert spec is not None
    cls = _TIME_TYPES[spec.type]
    kwargs: dict[str, Any] = {
        "start_date": _date(spec.start or ""),
        "timezone": spec.timezone,
        "end_offset": spec.end_offset,
    }
    if spec.end:
        kwargs["end_date"] = _date(spec.end)
    return cls(**kwargs)


def backfill_policy_for(resource: ResourceConfig) -> dg.BackfillPolicy | None:
    """Time partitions backfill in one run over the whole range."""
    return dg.BackfillPolicy.single_run() if partition_kind(resource) == "time" else None


def _date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"partitions: {text!r} is not an ISO date like 2024-01-01") from None


def check_partitions(
    source: SourceConfig,
    plan: ResourcePlan,
    spec: IncrementalSpec | None,
) -> None:
    """Config mistakes about partitions and incremental placeholders, at definitions load."""
    resource = plan.resource
    where = plan.where
    endpoint = resource.endpoint
    used = set(
        placeholders.names_in(
            [endpoint.path, endpoint.params, endpoint.json_body, endpoint.data, endpoint.headers]
        )
    )
    kind = partition_kind(resource)
    if kind == "parent" and resource.partitions is not None:
        raise ConfigError(f"{where}: use either partitions or partition_by_parent, not both")
    if kind == "parent" and plan.parent != plan.upstream:
        raise ConfigError(f"{where}.partition_by_parent needs a selected parent (with a table)")
    if kind == "parent" and (plan.parent is None or len(plan.parent_refs) != 1):
        raise ConfigError(
            f"{where}.partition_by_parent needs exactly one parent field in the endpoint, "
            "e.g. path: posts/{resources.posts.id}/comments"
        )
    if kind == "windows" and spec is None:
        raise ConfigError(f"{where}.partitions: type windows needs an incremental section")
    if kind in ("windows", "time") and plan.parent is not None:
        raise ConfigError(
            f"{where}.partitions: a child resource is partitioned with partition_by_parent"
        )
    if kind != "time" and used & {"partition.start", "partition.end"}:
        raise ConfigError(
            f"{where}.endpoint uses {{partition.start}}/{{partition.end}} but the resource has "
            "no time partitions; add partitions: {type: daily, start: 2024-01-01}"
        )
    if kind is None and "partition.key" in used:
        raise ConfigError(f"{where}.endpoint uses {{partition.key}} but has no partitions")
    if spec is not None and spec.window is not None and (kind is not None or plan.parent):
        raise ConfigError(
            f"{where}.incremental.window is for a resource without parent and partitions"
        )
    if spec is None and any(n.startswith("incremental.") for n in used):
        raise ConfigError(
            f"{where}.endpoint uses {{incremental.*}} placeholders without an incremental "
            "section; add incremental: {cursor_path: ..., initial_value: ...}"
        )


def window_key(value: Any) -> str:
    """The partition key of a window that starts at `value`."""
    if value is None:
        return "initial"
    text = str(value)
    for bad in _BAD_KEY_PARTS:
        text = text.replace(bad, "_")
    return text[:200] or "initial"


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
    on_commit: Callable[[LoadResult], Mapping[str, Any] | None] | None = None
    # an incremental child: one cursor per parent key (rest_assets.extract.parent_cursors)
    parent_cursors: ParentCursors | None = None
    # `incremental.window`: the (start, end) windows this run fetches one after another
    windows: Iterable[tuple[Any, Any]] | None = None
    window_count: int | None = None

    def cursor_metadata(self) -> dict[str, Any]:
        """The cursor entries of the materialization (empty for non-incremental resources)."""
        if self.parent_cursors is not None:
            return parent_cursors_metadata(self.parent_cursors)
        if self.tracker is None:
            return {}
        if self.window_count is not None:
            out = cursor_metadata(self.tracker.state())
            out["windows"] = dg.MetadataValue.int(self.window_count)
            return out
        if self.window is None:
            return cursor_metadata(self.tracker.state())
        bounds = dict(self.window_bounds)
        if self.window == "rerun":
            # re-running an old window leaves the asset's cursor where it is
            out = cursor_metadata(self.global_state)
        else:
            out = cursor_metadata(self.tracker.state())
            bounds["end"] = self.tracker.last_value
            bounds["end_keys"] = list(self.tracker.keys_at_last)
        out[WINDOW_KEY] = dg.MetadataValue.json(bounds)
        out["window"] = dg.MetadataValue.text(f"{bounds.get('start')} .. {bounds.get('end')}")
        return out


def run_scope(
    context: dg.AssetExecutionContext,
    source: SourceConfig,
    plan: ResourcePlan,
    plans: Mapping[str, ResourcePlan],
    database: str,
) -> RunScope:
    """Work out cursor, placeholders and partition scope of this run from the instance."""
    resource = plan.resource
    spec = IncrementalSpec.for_endpoint(resource.endpoint, plan.where, resource.primary_key)
    kind = partition_kind(resource)
    disposition = resource.write_disposition
    scope = RunScope(write_disposition=disposition)
    instance = context.instance
    key = context.asset_key
    keys: list[str] = []
    if kind is not None:
        keys = list(context.partition_keys)
        label = keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]}"
        scope.partition_key = label
        scope.values["partition.key"] = label
        if disposition == "replace" or (kind == "windows" and disposition == "append"):
            scope.write_disposition = "replace"
            scope.replace_partitions = list(dict.fromkeys([*keys, label]))
    if kind == "time":
        assert resource.partitions is not None
        window = context.partition_time_window
        scope.values["partition.start"] = _format(window.start, resource.partitions)
        scope.values["partition.end"] = _format(window.end, resource.partitions)
    if kind == "parent":
        scope.parent_key = keys[0] if len(keys) == 1 else None
        if scope.parent_key is None:
            raise ConfigError(
                f"{plan.where}: a run of a partition_by_parent asset takes one partition key"
            )
    _add_parent_key_hook(context, source, plan, plans, database, scope)
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


def window_sensor_key(spec: IncrementalSpec, state: CursorState | None) -> str:
    """The key a sensor gives the next window: its start value."""
    return window_key(spec.start_value(state))


# ---------------------------------------------------------------- parent keys


def parent_key_children(
    plan: ResourcePlan, plans: Mapping[str, ResourcePlan]
) -> list[ResourcePlan]:
    """The children partitioned by this resource's keys."""
    return [p for p in plans.values() if p.parent == plan.name and p.resource.partition_by_parent]


def _add_parent_key_hook(
    context: dg.AssetExecutionContext,
    source: SourceConfig,
    plan: ResourcePlan,
    plans: Mapping[str, ResourcePlan],
    database: str,
    scope: RunScope,
) -> None:
    children = parent_key_children(plan, plans)
    if not children:
        return
    instance = context.instance

    def add_keys(result: LoadResult) -> Mapping[str, Any]:
        # runs after the parent's load committed: keys appear only for rows that landed
        added = 0
        for child in children:
            name = dynamic_name(source, child.resource)
            values = parent_keys(database, schema_name(source), result.table, child)
            existing = set(instance.get_dynamic_partitions(name))
            new = [v for v in values if v not in existing]
            if new:
                instance.add_dynamic_partitions(name, new)
                added += len(new)
        return {"partitions_added": added}

    scope.on_commit = add_keys


def parent_keys(database: str, schema: str, table: str, child: ResourcePlan) -> list[str]:
    """The partition keys of a child in its parent's table: distinct, in load order."""
    field_path = child.fields[child.parent_refs[0].field]
    rows, _ = read_parent_rows(
        database,
        schema,
        table,
        [field_path.segments],
        load_id_column=LOAD_ID,
        where=f"parent keys of {child.name!r}",
    )
    return list(dict.fromkeys(window_key(row[0]) for row in rows if row[0] is not None))


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
