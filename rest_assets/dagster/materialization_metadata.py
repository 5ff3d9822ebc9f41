"""The metadata of a resource's materialization: one name per figure, readable first.

In this order (see the README's "Metadata" section for what each means):

- where the table is: `dagster/table_name`, `dagster/storage_kind`, `duckdb_file`,
  `sample_query`;
- the table: `dagster/row_count` (rows in the table), `dagster/partition_row_count` (rows of
  the run's partition), `dagster/column_schema` (with descriptions and key constraints),
  `dagster/column_lineage` (copied parent fields);
- the load: `rows_written` (rows this load inserted), `load_id`;
- the cursor, when incremental: `cursor_range`, `cursor`, `windows`, `records_new`;
- the extraction: `records_extracted`, `pages`, `requests`, `extract_seconds`, and for a
  child `parent_rows`, `parents_read`, `parent_load_id`, `parent_requests`;
- each child table T: `child_tables/T/row_count`, `child_tables/T/rows_written`,
  `child_tables/T/column_schema`, `child_tables/T/column_lineage`;
- after the commit: `partitions_added`;
- last, the state rest-assets reads back (`rest_assets/internal/...`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from rest_assets.dagster.columns import ColumnNotes, child_lineage, parent_table
from rest_assets.dagster.metadata import TableAddress
from rest_assets.dagster.state.cursors import internal_last
from rest_assets.load import LoadedTables, LoadResult

CHILD_PREFIX = "child_tables"


def table_entries(
    address: TableAddress,
    result: LoadResult,
    tables: LoadedTables,
    notes: ColumnNotes,
    parent_key: dg.AssetKey | None = None,
) -> dict[str, Any]:
    """Where the table is, its rows, schema and lineage, and what this load wrote."""
    out: dict[str, Any] = address.metadata()
    out["dagster/row_count"] = dg.MetadataValue.int(result.row_count)
    if tables.partition_rows is not None:
        out["dagster/partition_row_count"] = dg.MetadataValue.int(tables.partition_rows)
    out["dagster/column_schema"] = dg.MetadataValue.table_schema(notes.schema(result.columns))
    lineage = notes.copied_lineage(parent_key, [n for n, _ in result.columns])
    if lineage is not None:
        out["dagster/column_lineage"] = dg.MetadataValue.column_lineage(lineage)
    out["rows_written"] = dg.MetadataValue.int(result.rows_written)
    out["load_id"] = dg.MetadataValue.text(result.load_id)
    return out


def child_table_entries(
    key: dg.AssetKey, result: LoadResult, tables: LoadedTables, notes: ColumnNotes
) -> dict[str, Any]:
    """Per child table (the lists of the records): its rows, the rows this load wrote, its
    schema and its links to the asset's rows."""
    root = result.table or notes.table
    names = [root, *(t.name for t in tables.children)]
    written = {name.lower(): rows for name, rows in result.child_tables.items()}
    out: dict[str, Any] = {}
    for child in tables.children:
        prefix = f"{CHILD_PREFIX}/{child.name}"
        parent = parent_table(child.name, names)
        out[f"{prefix}/row_count"] = dg.MetadataValue.int(child.rows)
        out[f"{prefix}/rows_written"] = dg.MetadataValue.int(written.get(child.name.lower(), 0))
        schema = notes.schema(child.columns, child=child.name, child_of=parent)
        out[f"{prefix}/column_schema"] = dg.MetadataValue.table_schema(schema)
        lineage = child_lineage(key, root, parent, child.columns)
        if lineage is not None:
            out[f"{prefix}/column_lineage"] = dg.MetadataValue.column_lineage(lineage)
    return out


def resource_materialization(
    key: dg.AssetKey,
    address: TableAddress,
    result: LoadResult,
    tables: LoadedTables,
    notes: ColumnNotes,
    parent_key: dg.AssetKey | None,
    cursor: Mapping[str, Any],
    extraction: Mapping[str, Any],
) -> dict[str, Any]:
    """The materialization metadata of a committed resource, in the module's order."""
    return internal_last(
        {
            **table_entries(address, result, tables, notes, parent_key),
            **cursor,
            **extraction,
            **child_table_entries(key, result, tables, notes),
        }
    )
