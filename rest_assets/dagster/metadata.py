"""Dagster metadata in and out: reading a stored value back, and where a table lives.

Materialization metadata is where rest-assets keeps its state (cursors, load ids), so reading
it back must not depend on which `MetadataValue` class Dagster chose to store an entry as.

A table's address is Dagster's `TableMetadataSet` as intended: `dagster/table_name` fully
qualified, `<database>.<schema>.<table>` (the database is DuckDB's catalog name of the
file, `warehouse` for `warehouse.duckdb`), `dagster/storage_kind` `duckdb`, plus the file
(`duckdb_file`) and a query to paste (`sample_query`). A part holding a dot or a double
quote is double-quoted. Names written before (`schema.table`) are still read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

from rest_assets.load import LoadResult, database_name
from rest_assets.load.sql import quote_ident

TABLE_NAME_KEY = "dagster/table_name"
STORAGE_KIND_KEY = "dagster/storage_kind"
STORAGE_KIND = "duckdb"
DATABASE_FILE_KEY = "duckdb_file"
QUERY_KEY = "sample_query"


def raw_value(value: Any) -> Any:
    """The plain Python value of a metadata entry (JSON data, text, number...), or `value`."""
    return value.value if isinstance(value, dg.MetadataValue) else value


def text_value(value: Any) -> str | None:
    """A metadata entry as non-empty text, else None."""
    raw = raw_value(value)
    return raw if isinstance(raw, str) and raw else None


def _part(name: str) -> str:
    return quote_ident(name) if ("." in name or '"' in name) else name


def split_table_name(text: str) -> list[str]:
    """The parts of a dotted table name, double-quoted parts unquoted (`a."b.c"` -> a, b.c)."""
    parts: list[str] = []
    buf: list[str] = []
    i, n = 0, len(text)
    quoted = False
    while i < n:
        char = text[i]
        if quoted:
            if char == '"' and i + 1 < n and text[i + 1] == '"':
                buf.append('"')
                i += 1
            elif char == '"':
                quoted = False
            else:
                buf.append(char)
        elif char == '"':
            quoted = True
        elif char == ".":
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(char)
        i += 1
    parts.append("".join(buf))
    return parts


def schema_and_table(text: str) -> tuple[str, str]:
    """`(schema, table)` of a table name: `database.schema.table` or `schema.table`."""
    parts = split_table_name(text.strip())
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"not a table name: {text!r}; write database.schema.table or schema.table")
    return parts[-2], parts[-1]


@dataclass(frozen=True)
class TableAddress:
    """Where a table lives: the DuckDB file (when known), its catalog name, schema, table."""

    schema: str
    table: str
    database: str | None = None  # DuckDB's catalog name of the file
    file: str | None = None

    @classmethod
    def of(cls, file: str | None, schema: str, table: str) -> TableAddress:
        """The address of `schema.table` in the DuckDB file `file` (None: not known yet)."""
        return cls(schema, table, database_name(file) if file else None, file)

    @property
    def name(self) -> str:
        """`database.schema.table` (`schema.table` while the file is not known)."""
        parts = [self.database, self.schema, self.table] if self.database else []
        return ".".join(_part(p) for p in parts or [self.schema, self.table])

    @property
    def query(self) -> str:
        """A query a user can paste into DuckDB opened on the file."""
        parts = [self.database, self.schema, self.table] if self.database else []
        quoted = ".".join(quote_ident(p) for p in parts or [self.schema, self.table])
        return f"SELECT * FROM {quoted} LIMIT 10"

    def metadata(self) -> dict[str, Any]:
        """The entries that say where the table is."""
        out: dict[str, Any] = {
            TABLE_NAME_KEY: dg.MetadataValue.text(self.name),
            STORAGE_KIND_KEY: dg.MetadataValue.text(STORAGE_KIND),
        }
        if self.file:
            out[DATABASE_FILE_KEY] = dg.MetadataValue.path(self.file)
        out[QUERY_KEY] = dg.MetadataValue.text(self.query)
        return out


def column_schema(columns: Sequence[tuple[str, str]]) -> dg.TableSchema:
    """A table schema of `(name, DuckDB type)` pairs."""
    return dg.TableSchema(columns=[dg.TableColumn(name=n, type=t) for n, t in columns])


def table_metadata(
    result: LoadResult, file: str | None = None, schema: dg.TableSchema | None = None
) -> dict[str, Any]:
    """The standard entries of a table written by the IO manager: where it is, its row count,
    its column schema (`schema`, else names and types) and the rows this write inserted."""
    address = TableAddress.of(file, *schema_and_table(result.table_name))
    return {
        **address.metadata(),
        "dagster/row_count": dg.MetadataValue.int(result.row_count),
        "dagster/column_schema": dg.MetadataValue.table_schema(
            schema or column_schema(result.columns)
        ),
        "rows_written": dg.MetadataValue.int(result.rows_written),
    }
