"""The load ledger: which stateful load last committed to a table, written in its transaction.

Cursors live in Dagster's materialization metadata, which Dagster records after the DuckDB
commit. Two gaps follow, and this ledger closes both:

- a process killed between DuckDB's COMMIT and Dagster's event leaves the table ahead of the
  cursor; the next run finds the newer ledger row and reports the missing materialization
  first (`rest_assets.dagster.guard`), so its cursor starts where the data ends;
- two runs of one incremental asset at once read the same cursor; the ledger row is checked
  inside the commit transaction (DuckDB has one writer at a time), so the second commit is
  refused instead of landing the same records twice.

Only loads that carry state (incremental cursors, a child's parent cursor) are recorded.
The ledger is `_rest_assets.loads` in the same DuckDB file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import duckdb
import orjson

from rest_assets.load.catalog import Catalog
from rest_assets.load.connection import connection
from rest_assets.load.errors import ConcurrentLoadError
from rest_assets.load.sql import quote_ident

LEDGER_SCHEMA = "_rest_assets"
LEDGER_TABLE = "loads"
LEDGER = f"{quote_ident(LEDGER_SCHEMA)}.{quote_ident(LEDGER_TABLE)}"


def ledger_key(table: str, resource: str | None = None) -> str:
    """The ledger's name for a table's loads: the table, or ``table:resource`` for one
    resource's loads when several resources share the table (each keeps its own state)."""
    return table if resource is None else f"{table}:{resource}"


@dataclass(frozen=True)
class LedgerEntry:
    """What a stateful load writes to the ledger, and the load it expects to follow."""

    partition: str = ""
    state: dict[str, Any] = field(default_factory=dict)
    expected_previous: str | None = None


@dataclass(frozen=True)
class LedgerRow:
    load_id: str
    state: dict[str, Any]


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(LEDGER_SCHEMA)}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {LEDGER} (schema_name VARCHAR, table_name VARCHAR, "
        "partition_key VARCHAR, load_id VARCHAR, state JSON, committed_at TIMESTAMPTZ)"
    )


def _newest(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, partition: str
) -> LedgerRow | None:
    row = con.execute(
        f"SELECT load_id, state FROM {LEDGER} WHERE schema_name = ? AND table_name = ? "
        "AND partition_key = ? ORDER BY load_id DESC LIMIT 1",
        [schema, table, partition],
    ).fetchone()
    if row is None:
        return None
    return LedgerRow(row[0], orjson.loads(row[1]) if row[1] else {})


def check_and_record(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    load_id: str,
    entry: LedgerEntry,
) -> None:
    """Inside the commit's transaction: refuse a load that lost a race, then record it."""
    _ensure(con)
    newest = _newest(con, schema, table, entry.partition)
    if newest is not None and (
        entry.expected_previous is None or newest.load_id > entry.expected_previous
    ):
        raise ConcurrentLoadError(
            f"another run committed load {newest.load_id} to {schema}.{table} after this run "
            f"read its cursor (based on load {entry.expected_previous or 'none'}); nothing was "
            "written, so run it again. To queue such runs instead, give the resource a `pool:` "
            "with a limit of 1"
        )
    con.execute(
        f"INSERT INTO {LEDGER} VALUES (?, ?, ?, ?, ?, now())",
        [schema, table, entry.partition, load_id, orjson.dumps(entry.state).decode()],
    )


def read_newest(
    database: str | PathLike[str], schema: str, table: str, partition: str = ""
) -> LedgerRow | None:
    """The newest ledger row of a table (None without a database, ledger or row)."""
    if not Path(database).exists():
        return None
    with connection(database, read_only=True) as con:
        if Catalog(con).table_name(LEDGER_SCHEMA, LEDGER_TABLE) is None:
            return None
        return _newest(con, schema, table, partition)
