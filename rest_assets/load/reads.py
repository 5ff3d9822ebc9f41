"""Reading tables for the layers above: DataFrames, primary-key checks, Parquet snapshots,
the demo's sample query.

Every read opens a read-only connection (retrying while another process holds the file
lock, see :mod:`rest_assets.load.connection`) and closes it before returning, so the lock
is held for the read only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rest_assets.load.catalog import Catalog
from rest_assets.load.columns import PARTITION_COLUMN, RESOURCE_COLUMN
from rest_assets.load.connection import DEFAULT_LOCK_TIMEOUT, connection
from rest_assets.load.errors import LoadError
from rest_assets.load.sql import quote_ident, quote_literal

if TYPE_CHECKING:  # pandas costs ~0.4 s to import: only readers of DataFrames pay for it
    import pandas as pd

PathOrStr = str | PathLike[str]


@dataclass(frozen=True)
class _Table:
    """A table found in an open database: where it is and what it is called there."""

    catalog: Catalog
    schema: str
    name: str  # as created

    @property
    def qualified(self) -> str:
        return self.catalog.qualified(self.schema, self.name)

    def present(self) -> set[str]:
        """The table's column names, lower-cased."""
        return {n.lower() for n, _ in self.catalog.columns(self.schema, self.name)}

    def absent(self, columns: Sequence[str]) -> tuple[str, ...]:
        """Those of ``columns`` the table does not have (names match case-insensitively)."""
        present = self.present()
        return tuple(c for c in columns if c.lower() not in present)

    def rows(self, where: str = "", params: Sequence[Any] = ()) -> int:
        row = self.catalog.con.execute(
            f"SELECT count(*) FROM {self.qualified}{where}", list(params)
        ).fetchone()
        return int(row[0]) if row else 0


@contextmanager
def _find_table(
    database: PathOrStr, schema: str, table: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> Iterator[_Table | None]:
    """The table under a read-only connection, or None (no such file or table)."""
    if not Path(database).exists():
        yield None
        return
    with connection(database, read_only=True, lock_timeout=lock_timeout) as con:
        catalog = Catalog(con)
        actual = catalog.table_name(schema, table)
        yield None if actual is None else _Table(catalog, schema, actual)


def table_exists(
    database: PathOrStr, schema: str, table: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> bool:
    """Whether ``schema.table`` exists in the DuckDB file (False when the file does not)."""
    with _find_table(database, schema, table, lock_timeout=lock_timeout) as found:
        return found is not None


def read_table(
    database: PathOrStr,
    schema: str,
    table: str,
    columns: Sequence[str] | None = None,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> pd.DataFrame:
    """Read a table (optionally only some columns) into a pandas DataFrame.

    Raises :class:`LoadError` when the table does not exist.
    """
    if not Path(database).exists():
        raise LoadError(f"table {schema}.{table} does not exist: no DuckDB file at {database}")
    with _find_table(database, schema, table, lock_timeout=lock_timeout) as found:
        if found is None:
            raise LoadError(f"table {schema}.{table} does not exist in {database}")
        cols = "*" if not columns else ", ".join(quote_ident(c) for c in columns)
        return found.catalog.con.execute(f"SELECT {cols} FROM {found.qualified}").df()


# --------------------------------------------------------------------------- what a load left


def database_name(database: PathOrStr) -> str:
    """The catalog name DuckDB gives a database file: its file name up to the first dot
    (`warehouse.duckdb` -> `warehouse`), as `current_database()` reports it."""
    name = Path(database).name
    return name.split(".", 1)[0] or name


@dataclass(frozen=True)
class TableFacts:
    """One table as it is now: its name as created, ``(name, DuckDB type)`` columns, rows."""

    name: str
    columns: tuple[tuple[str, str], ...]
    rows: int


@dataclass(frozen=True)
class LoadedTables:
    """A root table's child tables and, for one partition, its row count, after a load.

    ``database`` is the catalog name DuckDB gave the file; ``partition_rows`` is None when
    no partition was asked for.
    """

    database: str
    children: tuple[TableFacts, ...] = ()
    partition_rows: int | None = None


def loaded_tables(
    database: PathOrStr,
    schema: str,
    table: str,
    *,
    partition: str | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> LoadedTables:
    """The child tables of ``schema.table`` (lists of its records, at any depth), with their
    columns and row counts, and the rows of ``partition`` (``_ra_partition``) in the root
    table; empty when the file or the table does not exist."""
    with _find_table(database, schema, table, lock_timeout=lock_timeout) as found:
        if found is None:
            return LoadedTables(database_name(database))
        catalog = found.catalog
        children = tuple(
            TableFacts(name, tuple(catalog.columns(schema, name)), catalog.count(schema, name))
            for name in sorted(catalog.child_tables(schema, found.name))
        )
        partition_rows = None
        if partition is not None:
            where, params = RowScope(partitions=(partition,)).where(found.present())
            partition_rows = found.rows(where, params)
        return LoadedTables(catalog.name, children, partition_rows)


# --------------------------------------------------------------------------- key checks


@dataclass(frozen=True)
class RowScope:
    """The rows of a table that are one asset's: those of one ``resource`` in a table
    several resources share, the active versions of an scd2 table (``active_column`` NULL,
    or equal to ``active_value``). Conditions on columns the table lacks are left out."""

    resource: str | None = None
    active_column: str | None = None
    active_value: str | None = None
    # the rows of these partitions only (a partitioned asset's checks judge the run's)
    partitions: tuple[str, ...] | None = None

    def where(self, present: set[str]) -> tuple[str, list[Any]]:
        """An SQL condition (`` WHERE ...`` or empty) and its parameters."""
        conditions: list[str] = []
        params: list[Any] = []
        if self.resource is not None and RESOURCE_COLUMN in present:
            conditions.append(f"{quote_ident(RESOURCE_COLUMN)} = ?")
            params.append(self.resource)
        if self.active_column is not None and self.active_column.lower() in present:
            column = quote_ident(self.active_column)
            if self.active_value is None:
                conditions.append(f"{column} IS NULL")
            else:
                conditions.append(f"{column} = CAST(? AS TIMESTAMPTZ)")
                params.append(self.active_value)
        if self.partitions is not None:
            if PARTITION_COLUMN not in present or not self.partitions:
                conditions.append("FALSE")  # no row was ever loaded for a partition
            else:
                conditions.append(
                    f"{quote_ident(PARTITION_COLUMN)} IN ({', '.join('?' * len(self.partitions))})"
                )
                params.extend(self.partitions)
        return (f" WHERE {' AND '.join(conditions)}" if conditions else ""), params


@dataclass(frozen=True)
class KeyDuplicates:
    """Primary key values that appear in more than one row.

    ``absent`` lists key columns the table lacks; when there are any nothing is counted.
    ``sample`` holds the most repeated keys: ``(key values, rows)``, most rows first;
    ``sample_partitions`` the partition of each (None when not counted by partition).
    """

    rows: int = 0
    duplicate_keys: int = 0
    rows_with_duplicate_keys: int = 0
    sample: tuple[tuple[tuple[Any, ...], int], ...] = ()
    absent: tuple[str, ...] = ()
    sample_partitions: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class KeyNulls:
    """Rows with a NULL in a primary key column (``absent`` as in :class:`KeyDuplicates`)."""

    rows: int = 0
    rows_with_null_key: int = 0
    per_column: tuple[tuple[str, int], ...] = ()  # (key column, rows NULL in it), key order
    absent: tuple[str, ...] = ()


def key_duplicates(
    database: PathOrStr,
    schema: str,
    table: str,
    key: Sequence[str],
    *,
    sample_size: int = 5,
    scope: RowScope | None = None,
    by_partition: bool = False,
) -> KeyDuplicates | None:
    """How often primary key values repeat in a table, among the rows of ``scope`` (None:
    no such table).

    A partitioned table's key is unique within a partition, not across partitions: with
    ``by_partition`` a key repeats only when it appears twice in one ``_ra_partition``
    (``sample_partitions`` then names each sample's partition).
    """
    keys = ", ".join(quote_ident(c) for c in key)
    with _find_table(database, schema, table) as found:
        if found is None:
            return None
        absent = found.absent(key)
        if absent:
            return KeyDuplicates(absent=absent)
        con = found.catalog.con
        present = found.present()
        where, params = (scope or RowScope()).where(present)
        part = (
            quote_ident(PARTITION_COLUMN)
            if by_partition and PARTITION_COLUMN in present
            else "NULL"
        )
        groups = (
            f"SELECT {keys}, {part} AS __ra_part, count(*) AS n FROM {found.qualified}{where} "
            "GROUP BY ALL HAVING count(*) > 1"
        )
        counts = con.execute(
            f"SELECT count(*), coalesce(sum(n), 0) FROM ({groups})", params
        ).fetchone()
        sample = con.execute(
            f"{groups} ORDER BY n DESC, {keys}, __ra_part LIMIT {int(sample_size)}", params
        ).fetchall()
        rows = found.rows(where, params)
    repeated, involved = (int(v) for v in counts or (0, 0))
    return KeyDuplicates(
        rows=rows,
        duplicate_keys=repeated,
        rows_with_duplicate_keys=involved,
        sample=tuple((tuple(row[:-2]), int(row[-1])) for row in sample),
        sample_partitions=tuple(None if r[-2] is None else str(r[-2]) for r in sample),
    )


def key_nulls(
    database: PathOrStr,
    schema: str,
    table: str,
    key: Sequence[str],
    *,
    scope: RowScope | None = None,
) -> KeyNulls | None:
    """How many rows (of ``scope``) have a NULL primary key, in all and per key column
    (None: no table)."""
    any_null = " OR ".join(f"{quote_ident(c)} IS NULL" for c in key)
    per_column = ", ".join(f"count(*) FILTER (WHERE {quote_ident(c)} IS NULL)" for c in key)
    with _find_table(database, schema, table) as found:
        if found is None:
            return None
        absent = found.absent(key)
        if absent:
            return KeyNulls(absent=absent)
        where, params = (scope or RowScope()).where(found.present())
        row = found.catalog.con.execute(
            f"SELECT {per_column}, count(*) FILTER (WHERE {any_null}), count(*) "
            f"FROM {found.qualified}{where}",
            params,
        ).fetchone()
    counts = tuple(int(v) for v in row or ())
    return KeyNulls(
        rows=counts[-1] if counts else 0,
        rows_with_null_key=counts[-2] if counts else 0,
        per_column=tuple(zip(key, counts[:-2], strict=True)),
    )


# --------------------------------------------------------------------------- snapshots

# given a table's columns in order: the columns to copy and those to order by (none: all)
ChooseColumns = Callable[[list[str]], tuple[Sequence[str], Sequence[str]]]


def snapshot_to_parquet(
    database: PathOrStr, schema: str, table: str, path: Path, choose: ChooseColumns
) -> list[str] | None:
    """Copy some columns of a table into a Parquet file, in a stable order, under one
    read-only connection (the file lock is held for the copy only).

    ``choose`` gets the table's column names and returns the columns to copy and the columns
    to sort by (empty: every column). Returns the copied columns, or None (and writes
    nothing) when there is no such table.
    """
    with _find_table(database, schema, table) as found:
        if found is None:
            return None
        present = [n for n, _ in found.catalog.columns(schema, found.name)]
        columns, order = choose(present)
        order_sql = ", ".join(quote_ident(c) for c in order) if order else "ALL"
        select = ", ".join(quote_ident(c) for c in columns)
        found.catalog.con.execute(
            f"COPY (SELECT {select} FROM {found.qualified} ORDER BY {order_sql}) "
            f"TO {quote_literal(str(path))} (FORMAT parquet)"
        )
    return list(columns)


# --------------------------------------------------------------------------- the demo

DEMO_SAMPLE_SQL = (
    "SELECT p.author__name AS author, count(*) AS comments FROM raw_blog.comments c "
    "JOIN raw_blog.posts p ON p.id = c.post_id GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3"
)


def demo_sample(database: PathOrStr) -> tuple[str, list[tuple[Any, ...]]]:
    """The bundled demo's sample query (comments per post author, top three) and its rows."""
    with connection(database, read_only=True) as con:
        return DEMO_SAMPLE_SQL, con.execute(DEMO_SAMPLE_SQL).fetchall()
