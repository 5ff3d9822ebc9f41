"""Cursor state in Dagster: written with the materialization, rewound with observations.

An incremental asset's cursor is the JSON metadata entry `rest_assets/cursor` of its
materialization (written by the IO manager together with the data, so it moves only when the
load commits) and a readable `cursor` text entry for the UI. `rest-assets cursor set|reset`
records an `AssetObservation` carrying the same entry, so the asset's history shows who moved
it. The state a run starts from is the newer of the latest materialization and the latest
cursor observation; for a partition, both are read with the partition filter.
Window partitions also record their bounds under `rest_assets/window`. An incremental child
keeps one cursor per parent key under `rest_assets/parent_cursors`.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any

import dagster as dg

from rest_assets.dagster.metadata import raw_value
from rest_assets.extract.incremental import CursorState, IncrementalSpec
from rest_assets.extract.parent_cursors import ParentCursors

CURSOR_KEY = "rest_assets/cursor"
WINDOW_KEY = "rest_assets/window"
ACTION_KEY = "rest_assets/cursor_action"
# A child's cursors, one per parent key (rest_assets.extract.parent_cursors).
PARENT_CURSORS_KEY = "rest_assets/parent_cursors"
# Observations without a cursor (other tools may record some) are skipped; look this far back.
_OBSERVATIONS_SCANNED = 50


@dataclass
class StoredCursor:
    """A cursor as stored: its state (None: start from initial_value) and where it came from."""

    state: CursorState | None
    source: str  # "materialization", "observation" or "none"
    run_id: str | None = None
    timestamp: float | None = None
    storage_id: int = -1
    action: str | None = None


def _json(metadata: Any, key: str) -> tuple[bool, Any]:
    value = metadata.get(key) if metadata else None
    if value is None:
        return False, None
    return True, raw_value(value)


def read_cursor(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None = None
) -> StoredCursor:
    """The newest cursor of an asset (or of one partition of it)."""
    records_filter = dg.AssetRecordsFilter(
        asset_key=key, asset_partitions=[partition] if partition is not None else None
    )
    best = StoredCursor(None, "none")
    materialized = instance.fetch_materializations(records_filter, limit=1).records
    for record in materialized:
        event = record.asset_materialization
        found, data = _json(event.metadata if event else None, CURSOR_KEY)
        # a newer materialization without a cursor (e.g. a range backfill) hides older moves
        best = StoredCursor(
            CursorState.from_json(data) if found else None,
            "materialization",
            record.run_id,
            record.timestamp,
            record.storage_id,
        )
    observed = instance.fetch_observations(records_filter, limit=_OBSERVATIONS_SCANNED).records
    for record in observed:
        observation = record.asset_observation
        metadata = observation.metadata if observation else None
        found, data = _json(metadata, CURSOR_KEY)
        if not found:
            continue
        if record.storage_id > best.storage_id:
            _, action = _json(metadata, ACTION_KEY)
            best = StoredCursor(
                CursorState.from_json(data),
                "observation",
                record.run_id or None,
                record.timestamp,
                record.storage_id,
                str(action) if action else None,
            )
        break
    return best


def read_window(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str
) -> dict[str, Any] | None:
    """The bounds a window partition was loaded with, from its own latest materialization."""
    records_filter = dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition])
    for record in instance.fetch_materializations(records_filter, limit=1).records:
        event = record.asset_materialization
        found, data = _json(event.metadata if event else None, WINDOW_KEY)
        if found and isinstance(data, dict) and data.get("end") is not None:
            return data
    return None


def cursor_metadata(state: CursorState | None) -> dict[str, Any]:
    """Metadata entries that carry a cursor in a materialization or an observation."""
    data = state.to_json() if state is not None else {"last_value": None, "boundary_keys": []}
    text = "" if state is None else str(state.last_value)
    return {
        CURSOR_KEY: dg.MetadataValue.json(data),
        "cursor": dg.MetadataValue.text(text or "(initial value)"),
    }


def record_cursor(
    instance: dg.DagsterInstance,
    key: dg.AssetKey,
    state: CursorState | None,
    action: str,
    partition: str | None = None,
) -> None:
    """Record a cursor move made outside a run as an observation (who, what, which value)."""
    metadata = {
        **cursor_metadata(state),
        ACTION_KEY: dg.MetadataValue.text(action),
        "rest_assets/cursor_by": dg.MetadataValue.text(_user()),
    }
    instance.report_runless_asset_event(
        dg.AssetObservation(asset_key=key, partition=partition, metadata=metadata)
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def read_parent_cursors(
    instance: dg.DagsterInstance, key: dg.AssetKey, spec: IncrementalSpec
) -> ParentCursors:
    """The per-parent cursor map of a child asset, from its latest materialization.

    A `cursor set|reset` recorded after it wins: every parent then starts from that value.
    """
    stored = read_cursor(instance, key)
    if stored.source == "observation":
        return ParentCursors(spec, None, base=stored.state)
    data: Any = None
    for record in instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key), limit=1
    ).records:
        event = record.asset_materialization
        _, data = _json(event.metadata if event else None, PARENT_CURSORS_KEY)
    return ParentCursors(spec, data if isinstance(data, dict) else None)


def parent_cursors_metadata(cursors: ParentCursors) -> dict[str, Any]:
    """Materialization entries of a child's per-parent cursors (the base as its `cursor`)."""
    data = cursors.to_json()
    out = cursor_metadata(cursors.base)
    out[PARENT_CURSORS_KEY] = dg.MetadataValue.json(data)
    out["cursor"] = dg.MetadataValue.text(cursors.summary(data))
    out["records_new"] = dg.MetadataValue.int(cursors.kept)
    return out
