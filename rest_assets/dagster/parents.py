"""Which parent rows a dependent resource handles, and where they come from.

A selected parent has a table: the child reads the fields it needs from it (flattened
columns, or JSON paths into columns kept as JSON). A `selected: false` parent has no table
and no asset: the child fetches it inline, streaming its pages, and reads the fields from
the raw records; up the chain, the nearest selected ancestor's table feeds that fetch.

Exactly once: with `parent_rows: new` (the default for append and merge children) the child
handles only the rows of the nearest selected ancestor loaded after the newest load id it
handled before. That load id is kept in the child's own materialization metadata
("parent_load_id"): a failed child run records nothing, so its parent rows are handled by
the next run, however many parent runs happened in between.

Nothing here calls Dagster: the step reads the child's last parent load id and whether the
parent was ever materialized from the instance first (`last_parent_load`), so this runs on
a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg

from rest_assets.config.models import SourceConfig
from rest_assets.dagster.load_options import row_scope
from rest_assets.dagster.metadata import text_value
from rest_assets.dagster.naming import schema_name, table_name
from rest_assets.dagster.partitions import window_key
from rest_assets.extract.clients import SourceClients
from rest_assets.extract.plan import ResourcePlan
from rest_assets.extract.records import ParentRow, ResourceExtractor
from rest_assets.extract.steps import Record
from rest_assets.load.reader import ParentTableMissingError, read_parent_rows

LOAD_ID_COLUMN = "_ra_load_id"
CURSOR_KEY = "parent_load_id"


def last_parent_load(instance: dg.DagsterInstance, key: dg.AssetKey) -> str | None:
    """The newest parent load id a child handled, from its latest materialization."""
    event = instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return None
    return text_value(event.asset_materialization.metadata.get(CURSOR_KEY))


@dataclass
class ParentRows:
    """The parent rows one run of a child handles.

    `total` is known when they come from the parent's table (they are read first); parents
    fetched inline stream, and their count is known at the end only. `meta` is complete
    once `rows` is exhausted. `summary` says which rows they are, for the run log.
    """

    rows: Iterator[ParentRow]
    meta: dict[str, Any]
    total: int | None
    summary: str


@dataclass
class ParentReader:
    """Reads the parent rows of one child resource of a source."""

    source: SourceConfig
    plans: Mapping[str, ResourcePlan]
    database: str
    clients: SourceClients
    # whether the child's selected parent has been materialized at least once: one that was
    # materialized but never had a row has no table, and feeds no parents
    parent_materialized: bool
    log: Callable[[str], None]

    def rows(self, plan: ResourcePlan, since: str | None) -> ParentRows:
        """The parent rows this run handles, and metadata filled in while they are read.

        `since` is the child's last parent load id (`parent_rows: new`), or None for all.
        The metadata is `parent_rows` (the mode), `parents_read`, `parent_load_id` (the
        child's cursor, when a selected ancestor feeds it) and, for parents fetched inline,
        `parent_requests`.
        """
        meta: dict[str, Any] = {"parent_rows": plan.parent_rows}
        if plan.upstream is not None:
            meta[CURSOR_KEY] = since or ""
        parent = self.plans[plan.parent or ""]
        fields = _fields(plan)
        if parent.resource.selected:
            rows = list(self._rows_for(plan, since, meta))
            if plan.parent_rows == "all":
                which = "(parent_rows: all)"
            else:
                which = f"loaded after load {since}" if since else "(none handled before)"
            summary = f"reading the {fields} of {len(rows)} {parent.name} rows {which}"
            return ParentRows(iter(rows), meta, len(rows), summary)
        summary = f"requesting once per {parent.name} row ({fields}), fetched inline"
        return ParentRows(self._rows_for(plan, since, meta), meta, None, summary)

    def rows_for_key(self, plan: ResourcePlan, key: str) -> ParentRows:
        """The parent rows of one partition of a `partition_by_parent: true` child: those
        whose (single) referenced field is `key`. All parent rows are read (no parent load id
        is kept: the partition is the unit of work); each key is requested once.
        """
        placeholder = plan.parent_refs[0].placeholder
        found: list[ParentRow] = []
        for row in self._rows_for(plan, None, {}):
            if window_key(row.values.get(placeholder)) == key:
                found.append(row)
                break
        parent = plan.parent or ""
        summary = f"partition {key}: the {parent} row with {_fields(plan)} {key}"
        if not found:
            summary += " is not in its table (nothing to request)"
        return ParentRows(iter(found), {}, len(found), summary)

    def _rows_for(
        self, plan: ResourcePlan, since: str | None, meta: dict[str, Any]
    ) -> Iterator[ParentRow]:
        """ParentRows for `plan`'s requests, from its parent's table or an inline fetch."""
        parent_name = plan.parent or ""
        parent = self.plans[parent_name]
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
                    self.database,
                    schema_name(self.source),
                    table_name(self.source, parent.resource),
                    [p.segments for p in paths],
                    load_id_column=LOAD_ID_COLUMN,
                    after_load_id=since,
                    where=f"parent {parent_name!r} of {plan.name!r}",
                    naming=self.source.naming,
                    scope=row_scope(self.source, parent.resource),
                )
            except ParentTableMissingError:
                if not self.parent_materialized:
                    raise
                rows, newest = [], None
            meta[CURSOR_KEY] = newest or since or ""
            meta["parents_read"] = len(rows)
            for row in rows:
                yield make(list(row[:-1]))
            return
        self.log(
            f"{self.source.name}.{plan.name}: fetching parent {parent_name!r} inline "
            "(selected: false)"
        )
        count = 0
        for record in self._inline_records(parent, since, meta):
            count += 1
            yield make([p.evaluate(record) for p in paths])
        meta["parents_read"] = count

    def _inline_records(
        self, plan: ResourcePlan, since: str | None, meta: dict[str, Any]
    ) -> Iterator[Record]:
        """Stream the records of an unselected resource, page by page (its steps applied)."""
        resource = plan.resource
        client = self.clients.client(timeout=resource.endpoint.timeout)
        assert plan.steps is not None  # every plan compiles its steps
        extractor = ResourceExtractor(client, resource, plan.steps, resource_auth=resource.auth)
        grand = None
        if plan.parent is not None:
            grand = self._rows_for(plan, since, meta)
        try:
            for batch in extractor.batches(parents=grand):
                yield from batch
        finally:
            meta["parent_requests"] = meta.get("parent_requests", 0) + client.stats.requests


def _fields(plan: ResourcePlan) -> str:
    """The parent fields a child's requests use, in words (`id`, `id, slug`)."""
    return ", ".join(dict.fromkeys(ref.field for ref in plan.parent_refs))
