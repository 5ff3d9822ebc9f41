"""Stage records on disk and commit them to DuckDB in one transaction (no HTTP, no Dagster).

This package owns every DuckDB connection and SQL statement of rest-assets: the layers above
call the functions exported here and never open DuckDB themselves.

- write: :func:`commit` (staged records, one :class:`LoadSpec`), :func:`replace_table`
  (a DataFrame or Arrow table);
- read: :func:`read_table`, :func:`table_exists`, :func:`read_parent_rows`,
  :func:`key_duplicates` / :func:`key_nulls` (primary-key checks),
  :func:`snapshot_to_parquet` (outputs), :func:`read_newest` (the load ledger),
  :func:`loaded_tables` (child tables and partition rows after a load), :func:`demo_sample`,
  :func:`table_shape` (a table's columns and child tables);
- turns: :class:`CommitTurns` (a step's commits, one at a time, the file held open);
- stage: :class:`StagingArea`, :class:`StagedLoad`, :func:`new_load_id`, and
  :mod:`rest_assets.load.tempdirs` for a run's temporary directories.
"""

from rest_assets.load.columns import LOAD_ID
from rest_assets.load.connection import (
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_MEMORY_LIMIT,
    CommitTurns,
    check_writable,
)
from rest_assets.load.errors import (
    ConcurrentLoadError,
    DatabaseLockedError,
    DatabasePathError,
    LoadError,
)
from rest_assets.load.frames import replace_table
from rest_assets.load.ledger import LedgerEntry, ledger_key, read_newest
from rest_assets.load.reader import ParentTableError, ParentTableMissingError, read_parent_rows
from rest_assets.load.reads import (
    KeyDuplicates,
    KeyNulls,
    LoadedTables,
    RowScope,
    TableFacts,
    database_name,
    demo_sample,
    key_duplicates,
    key_nulls,
    loaded_tables,
    read_table,
    snapshot_to_parquet,
    table_exists,
)
from rest_assets.load.spec import (
    LoadResult,
    LoadSpec,
    StagedLoad,
    WriteDisposition,
    new_load_id,
)
from rest_assets.load.sql import format_table_name, parse_table_name
from rest_assets.load.staging import StagingArea
from rest_assets.load.tables import TableShape, table_shape
from rest_assets.load.transaction import commit

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_MEMORY_LIMIT",
    "LOAD_ID",
    "CommitTurns",
    "ConcurrentLoadError",
    "DatabaseLockedError",
    "DatabasePathError",
    "KeyDuplicates",
    "KeyNulls",
    "LedgerEntry",
    "LoadError",
    "LoadResult",
    "LoadSpec",
    "LoadedTables",
    "ParentTableError",
    "ParentTableMissingError",
    "RowScope",
    "StagedLoad",
    "StagingArea",
    "TableFacts",
    "TableShape",
    "WriteDisposition",
    "check_writable",
    "commit",
    "database_name",
    "demo_sample",
    "format_table_name",
    "key_duplicates",
    "key_nulls",
    "ledger_key",
    "loaded_tables",
    "new_load_id",
    "parse_table_name",
    "read_newest",
    "read_parent_rows",
    "read_table",
    "replace_table",
    "snapshot_to_parquet",
    "table_exists",
    "table_shape",
]
