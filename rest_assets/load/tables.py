"""What a DuckDB file holds for one resource: its table's columns and its child tables.

For readers that describe the tables rather than their rows (`rest-assets dbt-sources`).
A read-only connection is opened and closed per call, as in :mod:`rest_assets.load.reads`.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from rest_assets.load.catalog import Catalog
from rest_assets.load.connection import DEFAULT_LOCK_TIMEOUT, connection


@dataclass(frozen=True)
class TableShape:
    """A table as created: its name, its ``(column, DuckDB type)`` pairs, its child tables."""

    name: str
    columns: tuple[tuple[str, str], ...]
    children: tuple[TableShape, ...] = ()


def table_shape(
    database: str | PathLike[str],
    schema: str,
    table: str,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> TableShape | None:
    """The columns and child tables of ``schema.table``; None without the file or table."""
    if not Path(database).exists():
        return None
    with connection(database, read_only=True, lock_timeout=lock_timeout) as con:
        catalog = Catalog(con)
        actual = catalog.table_name(schema, table)
        if actual is None:
            return None
        children = tuple(
            TableShape(child, tuple(catalog.columns(schema, child)))
            for child in sorted(catalog.child_tables(schema, actual))
        )
        return TableShape(actual, tuple(catalog.columns(schema, actual)), children)
