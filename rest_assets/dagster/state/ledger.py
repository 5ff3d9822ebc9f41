"""Keeping a stateful asset's cursor and its table in step (see rest_assets.load.ledger).

Before a stateful run reads its cursor, `reconcile` compares the newest load the ledger
recorded in DuckDB with the newest materialization Dagster recorded; a load Dagster missed
(the process died right after DuckDB's COMMIT) is reported as a materialization carrying
that load's cursor, so the run starts where the data ends. `ledger_entry` then tells the
commit which load this run follows, so a concurrent run that committed first wins cleanly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg

from rest_assets.dagster.metadata import raw_value
from rest_assets.dagster.state.cursors import CURSOR_KEY, PARENT_CURSORS_KEY, WINDOW_KEY
from rest_assets.load.ledger import LedgerEntry, read_newest

# The metadata entries that make up a run's state: recorded in the ledger with the data.
STATE_KEYS = (CURSOR_KEY, "cursor", WINDOW_KEY, PARENT_CURSORS_KEY, "parent_load_id")


def ledger_partition(partitioned: bool, partition_keys: list[str]) -> str | None:
    """The ledger's partition key for a run, or None when the run spans several partitions."""
    if not partitioned:
        return ""
    return partition_keys[0] if len(partition_keys) == 1 else None


def reconcile(
    instance: dg.DagsterInstance,
    key: dg.AssetKey,
    database: str,
    table: tuple[str, str],
    partition: str,
    warn: Callable[[str], None],
) -> str | None:
    """The load this run follows, after recording any committed load Dagster missed."""
    schema, name = table
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None),
        limit=1,
    ).records
    latest = None
    if records and records[0].asset_materialization is not None:
        value = raw_value(records[0].asset_materialization.metadata.get("load_id"))
        latest = str(value) if value is not None else None
    row = read_newest(database, schema, name, partition)
    if row is None or (latest is not None and row.load_id <= latest):
        return latest
    warn(
        f"{schema}.{name}: load {row.load_id} was committed to DuckDB but never recorded in "
        "Dagster (the run died right after the commit); recording it now so this run starts "
        "from its cursor"
    )
    metadata = {
        **_metadata(row.state),
        "load_id": row.load_id,
        "rest_assets/reconciled": "recorded from the DuckDB load ledger",
    }
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=key, partition=partition or None, metadata=metadata)
    )
    return row.load_id


def ledger_entry(
    partition: str, expected_previous: str | None, metadata: Mapping[str, Any]
) -> LedgerEntry:
    """What the commit checks and records: the run's state, and the load it follows."""
    state = {k: raw_value(metadata[k]) for k in STATE_KEYS if k in metadata}
    return LedgerEntry(partition=partition, state=state, expected_previous=expected_previous)


def _metadata(state: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: dg.MetadataValue.json(v) if isinstance(v, dict | list) else v for k, v in state.items()
    }
