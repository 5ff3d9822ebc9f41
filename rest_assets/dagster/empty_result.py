"""An empty result never silently empties a table.

A `replace` whose extraction found no record would leave the table (or the partition) empty.
When the previous materialization wrote rows, that is far more often an API having a bad
moment (a 204, `{"data": null}`, a maintenance page) than the data really being gone, so the
resource fails instead, naming what it would have emptied, and the table, its cursor and its
latest materialization stay as they were. A resource whose data may truly become empty says
so with `allow_empty: true`; it is then replaced and a warning says how many rows went.

Other resources (append, merge) lose nothing by an empty run; when they are not incremental
(where "nothing new" is the usual answer), an empty run after one that had rows is still
logged as a warning.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from rest_assets.config.models import ResourceConfig
from rest_assets.dagster.metadata import raw_value
from rest_assets.errors import RestAssetsError

ROWS_WRITTEN_KEY = "rows_written"
ROW_COUNT_KEY = "dagster/row_count"


class EmptyResultError(RestAssetsError):
    """A replace found no records where the previous load had some; nothing was written."""


def previous_rows(
    instance: dg.DagsterInstance, key: dg.AssetKey, partitions: Sequence[str]
) -> int | None:
    """Rows the latest materialization of `key` wrote (of the one partition being run, for a
    partitioned asset); None when unknown (never materialized, or a range of partitions)."""
    if len(partitions) > 1:
        return None
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=list(partitions) or None), limit=1
    ).records
    if not records:
        return None
    event = records[0].asset_materialization
    metadata = event.metadata if event is not None else {}
    for name in (ROWS_WRITTEN_KEY, ROW_COUNT_KEY):
        value = raw_value(metadata.get(name))
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def judge_empty_result(
    resource: ResourceConfig,
    *,
    label: str,
    table: str,
    write_disposition: str,
    incremental: bool,
    records: int,
    previous: int | None,
    parents: int | None = None,
) -> str | None:
    """Raise EmptyResultError for an empty replace that would destroy rows; else the warning
    to log about an empty result (None when there is nothing to say)."""
    if records or not previous:
        return None
    found = f"no records (the last load wrote {previous:,} rows)"
    if parents is not None:
        found = f"no records from {parents:,} parent rows (the last load wrote {previous:,} rows)"
    if write_disposition == "replace":
        if not resource.allow_empty:
            raise EmptyResultError(
                f"{label}: the API returned {found}; a replace would empty {table}, so "
                "nothing was written and the table, its cursor and its materialization stay "
                "as they were. If the data can really be empty, set allow_empty: true on "
                "the resource"
            )
        return f"{label}: the API returned {found}; {table} was emptied (allow_empty: true)"
    if incremental:
        return None
    return f"{label}: the API returned {found}; {table} is unchanged ({write_disposition})"
