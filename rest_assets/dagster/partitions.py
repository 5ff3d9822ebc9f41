"""Partitions of rest-assets assets: their definitions, checks at load, and parent keys.

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

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import dagster as dg

from rest_assets.config.models import ResourceConfig, SourceConfig
from rest_assets.dagster.naming import asset_name
from rest_assets.errors import ConfigError
from rest_assets.extract import placeholders
from rest_assets.extract.incremental import CursorState, IncrementalSpec
from rest_assets.extract.plan import ResourcePlan
from rest_assets.load import LOAD_ID, read_parent_rows
from rest_assets.load.naming import Naming

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


def partition_label(keys: Sequence[str]) -> str:
    """The `_ra_partition` value of a run's rows: its key, or `first..last` for a range."""
    return keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]}"


def run_partitions(keys: Sequence[str]) -> list[str] | None:
    """The `_ra_partition` values a run covers: its keys and their label (None: no keys)."""
    if not keys:
        return None
    return list(dict.fromkeys([*keys, partition_label(keys)]))


def window_key(value: Any) -> str:
    """The partition key of a window that starts at `value`."""
    if value is None:
        return "initial"
    text = str(value)
    for bad in _BAD_KEY_PARTS:
        text = text.replace(bad, "_")
    return text[:200] or "initial"


def parent_keys(
    database: str, schema: str, table: str, child: ResourcePlan, naming: Naming = "snake_case"
) -> list[str]:
    """The partition keys of a child in its parent's table: distinct, in load order."""
    field_path = child.fields[child.parent_refs[0].field]
    rows, _ = read_parent_rows(
        database,
        schema,
        table,
        [field_path.segments],
        load_id_column=LOAD_ID,
        where=f"parent keys of {child.name!r}",
        naming=naming,
    )
    return list(dict.fromkeys(window_key(row[0]) for row in rows if row[0] is not None))


def window_sensor_key(spec: IncrementalSpec, state: CursorState | None) -> str:
    """The key a sensor gives the next window: its start value."""
    return window_key(spec.start_value(state))
