"""Which parent rows a dependent asset handles: read from the parent's DuckDB table."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg

from rest_assets.config.models import SourceConfig
from rest_assets.dagster.naming import schema_name, table_name
from rest_assets.extract.plan import ResourcePlan, column_for
from rest_assets.extract.records import ParentRow
from rest_assets.load.reader import read_rows

LOAD_ID_COLUMN = "_ra_load_id"


def parent_rows(
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
