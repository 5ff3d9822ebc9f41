"""Stage records on disk and commit them to DuckDB in one transaction (no HTTP, no Dagster)."""

from rest_assets.load.schema import DATA_TYPES, ColumnSpec, normalize_columns, widen
from rest_assets.load.staging import (
    WRITE_DISPOSITIONS,
    StagedTable,
    StagingArea,
    WriteDisposition,
    new_load_id,
)
from rest_assets.load.writer import (
    DEFAULT_LOCK_TIMEOUT,
    LIST_IDX,
    LOAD_ID,
    PARENT_ID,
    ROOT_ID,
    ROW_ID,
    DatabaseLockedError,
    LoadError,
    LoadResult,
    commit,
    connect,
    format_table_name,
    parse_table_name,
    read_table,
    table_exists,
)

__all__ = [
    "DATA_TYPES",
    "DEFAULT_LOCK_TIMEOUT",
    "LIST_IDX",
    "LOAD_ID",
    "PARENT_ID",
    "ROOT_ID",
    "ROW_ID",
    "WRITE_DISPOSITIONS",
    "ColumnSpec",
    "DatabaseLockedError",
    "LoadError",
    "LoadResult",
    "StagedTable",
    "StagingArea",
    "WriteDisposition",
    "commit",
    "connect",
    "format_table_name",
    "new_load_id",
    "normalize_columns",
    "parse_table_name",
    "read_table",
    "table_exists",
    "widen",
]
