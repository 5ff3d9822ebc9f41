"""Dagster metadata in and out: the one way we read a stored value back, and table entries.

Materialization metadata is where rest-assets keeps its state (cursors, load ids), so reading
it back must not depend on which `MetadataValue` class Dagster chose to store an entry as.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg

from rest_assets.load import LoadResult

TABLE_NAME_KEY = "dagster/table_name"


def raw_value(value: Any) -> Any:
    """The plain Python value of a metadata entry (JSON data, text, number...), or `value`."""
    return value.value if isinstance(value, dg.MetadataValue) else value


def text_value(value: Any) -> str | None:
    """A metadata entry as non-empty text, else None."""
    raw = raw_value(value)
    return raw if isinstance(raw, str) and raw else None


def column_schema(columns: Sequence[tuple[str, str]]) -> dg.TableSchema:
    """A table schema of `(name, DuckDB type)` pairs."""
    return dg.TableSchema(columns=[dg.TableColumn(name=n, type=t) for n, t in columns])


def table_metadata(result: LoadResult) -> dict[str, Any]:
    """The standard entries of a written table: row count, table name, column schema."""
    return {
        "dagster/row_count": dg.MetadataValue.int(result.row_count),
        TABLE_NAME_KEY: dg.MetadataValue.text(result.table_name),
        "dagster/column_schema": dg.MetadataValue.table_schema(column_schema(result.columns)),
        "rows_written": dg.MetadataValue.int(result.rows_written),
    }
