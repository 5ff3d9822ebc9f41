"""Which parent rows a dependent asset handles, and where they come from.

A selected parent has a table: the child reads the fields it needs from it (flattened
columns, or JSON paths into columns kept as JSON). A `selected: false` parent has no table
and no asset: the child fetches it inline, streaming its pages, and reads the fields from
the raw records; up the chain, the nearest selected ancestor's table feeds that fetch.

Exactly once: with `parent_rows: new` (the default for append and merge children) the child
handles only the rows of the nearest selected ancestor loaded after the newest load id it
handled before. That load id is kept in the child's own materialization metadata
("parent_load_id"): a failed child run records nothing, so its parent rows are handled by
the next run, however many parent runs happened in between.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg

from rest_assets.config.models import SourceConfig
from rest_assets.dagster.naming import asset_key, schema_name, table_name
from rest_assets.extract.plan import ResourcePlan
from rest_assets.extract.records import ParentRow, ResourceExtractor
from rest_assets.extract.steps import Record
from rest_assets.load.reader import ParentTableMissingError, read_parent_rows

LOAD_ID_COLUMN = "_ra_load_id"
CURSOR_KEY = "parent_load_id"


def parent_rows(
    context: dg.AssetExecutionContext,
    source: SourceConfig,
    plan: ResourcePlan,
    plans: Mapping[str, ResourcePlan],
    database: str,
) -> tuple[Iterator[ParentRow], dict[str, Any]]:
    """The parent rows this run handles, and metadata filled in while they are read.

    The metadata dict is complete once the iterator is exhausted: `parent_load_id` (the
    child's cursor, when a selected ancestor feeds it), `parent_rows` (the mode) and, for
    parents fetched inline, `parent_requests`.
    """
    since = None
    if plan.parent_rows == "new" and plan.upstream is not None:
        since = _last_parent_load(context)
    meta: dict[str, Any] = {"parent_rows": plan.parent_rows}
    if plan.upstream is not None:
        meta[CURSOR_KEY] = since or ""
    return _rows_for(context, source, plan, plans, database, since, meta), meta


def _rows_for(
    context: dg.AssetExecutionContext,
    source: SourceConfig,
    plan: ResourcePlan,
    plans: Mapping[str, ResourcePlan],
    database: str,
    since: str | None,
    meta: dict[str, Any],
) -> Iterator[ParentRow]:
    """ParentRows for `plan`'s requests, from its parent's table or an inline fetch."""
    parent_name = plan.parent or ""
    parent = plans[parent_name]
    refs = plan.parent_refs
    included = list(plan.resource.include_from_parent)
    needed = list(dict.fromkeys([*(r.field for r in refs), *included]))
    paths = [plan.fields[name] for name in needed]
    prefix = f"_{parent_name}_"

    def make(values: list[Any]) -> ParentRow:
        by_field = dict(zip(needed, values, strict=True))
        return ParentRow(
            values={ref.placeholder: by_field[ref.field] for ref in refs},
            included={f"{prefix}{plan.fields[f].suffix}": by_field[f] for f in included},
        )

    if parent.resource.selected:
        try:
            rows, newest = read_parent_rows(
                database,
                schema_name(source),
                table_name(parent.resource),
                [p.segments for p in paths],
                load_id_column=LOAD_ID_COLUMN,
                after_load_id=since,
                where=f"parent {parent_name!r} of {plan.name!r}",
            )
        except ParentTableMissingError:
            # A parent that was materialized but never had a row has no table: no parents.
            if (
                context.instance.get_latest_materialization_event(asset_key(source, parent_name))
                is None
            ):
                raise
            rows, newest = [], None
        meta[CURSOR_KEY] = newest or since or ""
        meta["parents_read"] = len(rows)
        for row in rows:
            yield make(list(row[:-1]))
        return
    context.log.info(
        f"{source.name}.{plan.name}: fetching parent {parent_name!r} inline (selected: false)"
    )
    count = 0
    for record in _inline_records(context, source, parent, plans, database, since, meta):
        count += 1
        yield make([p.evaluate(record) for p in paths])
    meta["parents_read"] = count


def _inline_records(
    context: dg.AssetExecutionContext,
    source: SourceConfig,
    plan: ResourcePlan,
    plans: Mapping[str, ResourcePlan],
    database: str,
    since: str | None,
    meta: dict[str, Any],
) -> Iterator[Record]:
    """Stream the records of an unselected resource, page by page (its steps applied)."""
    # Imported here: runtime imports this module for the asset body.
    from rest_assets.dagster.runtime import build_client

    resource = plan.resource
    client = build_client(source, timeout=resource.endpoint.timeout)
    extractor = ResourceExtractor(client, resource, plan.steps, resource_auth=resource.auth)
    grand = None
    if plan.parent is not None:
        grand = _rows_for(context, source, plan, plans, database, since, meta)
    try:
        for batch in extractor.batches(parents=grand):
            yield from batch
    finally:
        meta["parent_requests"] = meta.get("parent_requests", 0) + client.stats.requests


def _last_parent_load(context: dg.AssetExecutionContext) -> str | None:
    event = context.instance.get_latest_materialization_event(context.asset_key)
    if event is None or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get(CURSOR_KEY)
    text = getattr(value, "value", None) or getattr(value, "text", None)
    return str(text) if text else None


def parent_rows_for_key(
    context: dg.AssetExecutionContext,
    source: SourceConfig,
    plan: ResourcePlan,
    plans: Mapping[str, ResourcePlan],
    database: str,
    key: str,
) -> Iterator[ParentRow]:
    """The parent rows of one partition of a `partition_by_parent: true` child: those whose
    (single) referenced field is `key`. All parent rows are read (no parent load id is kept:
    the partition is the unit of work); each key is requested once.
    """
    # Imported here: partitions imports the dagster layer that imports this module.
    from rest_assets.dagster.partitions import window_key

    placeholder = plan.parent_refs[0].placeholder
    done = False
    for row in _rows_for(context, source, plan, plans, database, None, {}):
        if not done and window_key(row.values.get(placeholder)) == key:
            done = True
            yield row
