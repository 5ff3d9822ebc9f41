"""A DataFrame or Arrow table from a user's asset, replacing a table in one transaction."""

from __future__ import annotations

import contextlib
from os import PathLike

import duckdb

from rest_assets.load.catalog import Catalog
from rest_assets.load.connection import DEFAULT_LOCK_TIMEOUT, connection
from rest_assets.load.spec import LoadResult
from rest_assets.load.sql import format_table_name

_FRAME_VIEW = "__ra_frame"


def replace_table(
    database: str | PathLike[str],
    schema: str,
    table: str,
    frame: object,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> LoadResult:
    """Replace ``schema.table`` (created with its schema if missing) with the rows of
    ``frame``, a pandas DataFrame or a pyarrow Table, in one transaction: a failure leaves
    the old table as it was."""
    with connection(database, lock_timeout=lock_timeout) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            catalog = Catalog(con)
            target = catalog.qualified(schema, table)
            catalog.ensure_schema(schema)
            con.register(_FRAME_VIEW, frame)
            con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {_FRAME_VIEW}")
            con.unregister(_FRAME_VIEW)
            rows = catalog.count(schema, table)
            columns = catalog.columns(schema, table)
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # may already be aborted
                con.execute("ROLLBACK")
            raise
    return LoadResult(
        row_count=rows,
        rows_written=rows,
        columns=columns,
        child_tables={},
        table_name=format_table_name(schema, table),
        table=table,
    )
