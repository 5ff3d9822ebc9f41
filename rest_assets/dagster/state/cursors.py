"""Cursor state in Dagster: written with the materialization, rewound with observations.

An incremental asset's cursor is the JSON metadata entry `rest_assets/internal/cursor_state`
of its materialization (written together with the data, so it moves only when the load
commits); the UI shows the readable entries `cursor` (where the next run starts) and
`cursor_range` (what this run loaded). `rest-assets cursor set|reset` records an
`AssetObservation` carrying the same entries and `previous_cursor`, so the asset's history
shows who moved it from where. The state a run starts from is the newer of the latest
materialization and the latest cursor observation; for a partition, both are read with the
partition filter. Window partitions also record their bounds under
`rest_assets/internal/window_state`, an incremental child one cursor per parent key under
`rest_assets/internal/parent_cursors`.

Dagster's UI has no way to hide a metadata entry (it hides only a fixed list of other
integrations' keys), so the state entries are named as internal and written last, after the
readable ones. Names written by earlier versions (`rest_assets/cursor`, ...) are still read.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg

from rest_assets.dagster.metadata import raw_value
from rest_assets.extract.incremental import CursorState, IncrementalSpec, compare
from rest_assets.extract.parent_cursors import ParentCursors

CURSOR_KEY = "rest_assets/internal/cursor_state"
WINDOW_KEY = "rest_assets/internal/window_state"
ACTION_KEY = "rest_assets/cursor_action"
# A child's cursors, one per parent key (rest_assets.extract.parent_cursors).
PARENT_CURSORS_KEY = "rest_assets/internal/parent_cursors"
# The state entries, written after every readable entry of a materialization.
INTERNAL_KEYS = (CURSOR_KEY, WINDOW_KEY, PARENT_CURSORS_KEY)
# What each was called before (still read, so existing cursors keep working).
_LEGACY_KEYS = {
    CURSOR_KEY: "rest_assets/cursor",
    WINDOW_KEY: "rest_assets/window",
    PARENT_CURSORS_KEY: "rest_assets/parent_cursors",
}
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
    if not metadata:
        return False, None
    value = metadata.get(key)
    if value is None and key in _LEGACY_KEYS:
        value = metadata.get(_LEGACY_KEYS[key])
    if value is None:
        return False, None
    return True, raw_value(value)


def internal_last(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """`metadata` with the state entries moved after every readable one."""
    readable = {k: v for k, v in metadata.items() if k not in INTERNAL_KEYS}
    return {**readable, **{k: metadata[k] for k in INTERNAL_KEYS if k in metadata}}


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


INITIAL = "(initial value)"


def cursor_text(state: CursorState | None) -> str:
    """A cursor as the UI shows it: its last value, or `(initial value)`."""
    text = "" if state is None else str(state.last_value)
    return text or INITIAL


def cursor_metadata(state: CursorState | None) -> dict[str, Any]:
    """Metadata entries that carry a cursor in a materialization or an observation: the
    readable `cursor`, then the state."""
    data = state.to_json() if state is not None else {"last_value": None, "boundary_keys": []}
    return {
        "cursor": dg.MetadataValue.text(cursor_text(state)),
        CURSOR_KEY: dg.MetadataValue.json(data),
    }


def record_cursor(
    instance: dg.DagsterInstance,
    key: dg.AssetKey,
    state: CursorState | None,
    action: str,
    partition: str | None = None,
) -> None:
    """Record a cursor move made outside a run as an observation (who, what, which value,
    and the value it replaces)."""
    previous = read_cursor(instance, key, partition)
    entries = cursor_metadata(state)
    metadata = internal_last(
        {
            **entries,
            "previous_cursor": dg.MetadataValue.text(cursor_text(previous.state)),
            ACTION_KEY: dg.MetadataValue.text(action),
            "rest_assets/cursor_by": dg.MetadataValue.text(_user()),
        }
    )
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
    """Materialization entries of a child's per-parent cursors: readable `cursor_range`,
    `cursor` (a summary) and `records_new`, then the state (the base as its cursor)."""
    data = cursors.to_json()
    state = cursor_metadata(cursors.base)
    return {
        "cursor_range": dg.MetadataValue.text(parent_cursor_range(cursors)),
        "cursor": dg.MetadataValue.text(cursors.summary(data)),
        "records_new": dg.MetadataValue.int(cursors.kept),
        CURSOR_KEY: state[CURSOR_KEY],
        PARENT_CURSORS_KEY: dg.MetadataValue.json(data),
    }


def cursor_range(start: Any, end: Any) -> str:
    """What a run loaded, as `start -> end` (`end` None: nothing new in range)."""
    shown = "(initial value)" if start is None else str(start)
    return f"{shown} -> {'(no new records)' if end is None else end}"


def parent_cursor_range(cursors: ParentCursors) -> str:
    """The range an incremental child loaded over all its parents: the earliest start ->
    the newest value, and how many parents."""
    trackers = list(cursors.trackers.values())
    if not trackers:
        return "no parent rows in this run"
    sign = cursors.spec.sign
    starts = [t.start for t in trackers if t.start is not None]
    ends = [t.last_value for t in trackers if t.last_value is not None]
    start = _extreme(starts, -sign)
    end = _extreme(ends, sign)
    count = len(trackers)
    return f"{cursor_range(start, end)} over {count} parent{'' if count == 1 else 's'}"


def _extreme(values: list[Any], sign: int) -> Any:
    """The largest value (sign 1) or the smallest (sign -1), compared as cursors are."""
    best = None
    for value in values:
        if best is None or compare(value, best) * sign > 0:
            best = value
    return best
