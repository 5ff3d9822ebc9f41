"""The catalog of the database a connection is attached to: tables, columns, child tables.

Names are looked up case-insensitively, as DuckDB resolves them, and statements name tables
with the catalog prefix (``"db"."schema"."table"``): without it a file named like a schema
(``jp.duckdb`` holding schema ``jp``) makes every reference ambiguous.
"""

from __future__ import annotations

import duckdb
import orjson

from rest_assets.load.sql import quote_ident, quote_literal

# The table comment that marks a child table (a list field of a root table's records):
# how `replace` and `merge` find the child rows of the rows they remove.
_CHILD_OF = "rest_assets_child_of"


class Catalog:
    """One connection's database: the current database's name and lookups in it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        row = con.execute("SELECT current_database()").fetchone()
        self.name = str(row[0]) if row else "memory"

    def qualified(self, schema: str, table: str) -> str:
        """``"catalog"."schema"."table"``, quoted for SQL."""
        return f"{quote_ident(self.name)}.{quote_ident(schema)}.{quote_ident(table)}"

    def ensure_schema(self, schema: str) -> None:
        self.con.execute(
            f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.name)}.{quote_ident(schema)}"
        )

    def table_name(self, schema: str, table: str) -> str | None:
        """The table's name as it was created, or None when there is no such table."""
        row = self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
            "AND lower(schema_name) = lower(?) AND lower(table_name) = lower(?)",
            [self.name, schema, table],
        ).fetchone()
        return None if row is None else str(row[0])

    def columns(self, schema: str, table: str) -> list[tuple[str, str]]:
        """``(name, DuckDB type)`` of the table's columns in order (empty: no such table)."""
        rows = self.con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = ? AND lower(schema_name) = lower(?) "
            "AND lower(table_name) = lower(?) ORDER BY column_index",
            [self.name, schema, table],
        ).fetchall()
        return [(str(name), str(dtype)) for name, dtype in rows]

    def count(self, schema: str, table: str) -> int:
        """The table's row count."""
        row = self.con.execute(f"SELECT count(*) FROM {self.qualified(schema, table)}").fetchone()
        return int(row[0]) if row else 0

    def child_tables(self, schema: str, root: str) -> list[str]:
        """The child tables of a root table (marked by :meth:`mark_child`)."""
        rows = self.con.execute(
            "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = ? "
            "AND lower(schema_name) = lower(?) AND comment IS NOT NULL",
            [self.name, schema],
        ).fetchall()
        children = []
        for name, comment in rows:
            try:
                marker = orjson.loads(comment)
            except orjson.JSONDecodeError:
                continue
            if isinstance(marker, dict) and str(marker.get(_CHILD_OF, "")).lower() == root.lower():
                children.append(str(name))
        return children

    def mark_child(self, schema: str, table: str, root: str) -> None:
        """Record that ``table`` holds list items of the root table ``root``."""
        marker = orjson.dumps({_CHILD_OF: root}).decode()
        self.con.execute(
            f"COMMENT ON TABLE {self.qualified(schema, table)} IS {quote_literal(marker)}"
        )
