"""Run state kept in Dagster: cursors, the scope of one run, the ledger reconciliation."""

from rest_assets.dagster.state.cursors import (
    ACTION_KEY,
    CURSOR_KEY,
    PARENT_CURSORS_KEY,
    WINDOW_KEY,
    StoredCursor,
    cursor_metadata,
    read_cursor,
    read_parent_cursors,
    read_window,
    record_cursor,
)

__all__ = [
    "ACTION_KEY",
    "CURSOR_KEY",
    "PARENT_CURSORS_KEY",
    "WINDOW_KEY",
    "StoredCursor",
    "cursor_metadata",
    "read_cursor",
    "read_parent_cursors",
    "read_window",
    "record_cursor",
]
