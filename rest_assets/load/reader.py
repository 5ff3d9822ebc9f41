"""Reading a parent table's key columns (or JSON paths) for dependent resources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from rest_assets.errors import RestAssetsError
from rest_assets.load.catalog import Catalog
from rest_assets.load.connection import connection
from rest_assets.load.naming import DEFAULT_NAMING, Naming, child_table_name, column_name
from rest_assets.load.reads import RowScope
from rest_assets.load.sql import quote_ident


class ParentTableError(RestAssetsError):
    """A child cannot read what it needs from its parent's table."""


class ParentTableMissingError(ParentTableError):
    """The parent's table does not exist (never materialized, or it never had a row)."""


FieldSegments = Sequence[str | int]


def read_parent_rows(  # noqa: PLR0913 - where to read, then keyword-only filters
    database: str,
    schema: str,
    table: str,
    fields: Sequence[FieldSegments],
    *,
    load_id_column: str,
    after_load_id: str | None = None,
    where: str = "",
    naming: Naming = DEFAULT_NAMING,
    scope: RowScope | None = None,
) -> tuple[list[tuple[Any, ...]], str | None]:
    """The values of parent `fields` per row (in load order) and the newest load id among them.

    A field is a path of names (the API's keys) and list indexes. Names only: the flattened
    column, named under the table's `naming` (`user.displayName` is `user__display_name`
    under snake_case; matched case-insensitively, as DuckDB does). A longer path is read
    from the longest prefix that is a JSON column (kept as JSON by `nested_as_json` or
    `max_table_nesting`) with a JSON pointer of the API's keys. Each returned row holds the
    field values in order, then the row's load id. With `after_load_id`, only rows of later
    loads; with `scope`, only the rows of one resource (a shared table) or the active
    versions (scd2).
    """
    if not Path(database).exists():
        raise ParentTableMissingError(
            f"{where}: table {schema}.{table} does not exist yet (no DuckDB file at "
            f"{database}); materialize the parent asset first (or select both in one run)"
        )
    with connection(database, read_only=True) as con:
        catalog = Catalog(con)
        actual = catalog.table_name(schema, table)
        if actual is None:
            raise ParentTableMissingError(
                f"{where}: table {schema}.{table} does not exist yet; materialize the parent "
                "asset first (or select both in one run)"
            )
        columns = {n.lower(): (n, t) for n, t in catalog.columns(schema, actual)}
        if load_id_column.lower() not in columns:
            raise ParentTableError(
                f"{where}: table {schema}.{table} has no {load_id_column} column; it was not "
                "written by rest-assets"
            )
        parent = _ParentTable(catalog, schema, actual, columns, where, naming)
        exprs: list[str] = []
        params: list[Any] = []
        decode: list[bool] = []
        for path in fields:
            expr, pointer = parent.field_expr(path)
            exprs.append(expr)
            decode.append(pointer is not None)
            if pointer is not None:
                params.append(pointer)
        load_col = quote_ident(columns[load_id_column.lower()][0])
        sql = f"SELECT {', '.join([*exprs, load_col])} FROM {catalog.qualified(schema, actual)}"
        scoped, scope_params = (scope or RowScope()).where(set(columns))
        sql += scoped
        params += scope_params
        if after_load_id:
            sql += f" {'AND' if scoped else 'WHERE'} {load_col} > ?"
            params.append(after_load_id)
        # rowid keeps the order rows were written in within one load.
        sql += f" ORDER BY {load_col}, rowid"
        rows = con.execute(sql, params).fetchall()
    if any(decode):
        rows = [
            tuple(
                orjson.loads(v) if flag and isinstance(v, str) else v
                for v, flag in zip(row, [*decode, False], strict=True)
            )
            for row in rows
        ]
    newest = max((r[-1] for r in rows if r[-1] is not None), default=None)
    return rows, newest


@dataclass(frozen=True)
class _ParentTable:
    """The parent's table in an open database, and the label its errors start with."""

    catalog: Catalog
    schema: str
    table: str  # as created
    columns: dict[str, tuple[str, str]]  # lower-cased name -> (name, DuckDB type)
    where: str
    naming: Naming = DEFAULT_NAMING

    def field_expr(self, path: FieldSegments) -> tuple[str, str | None]:
        """SQL for one field, and the JSON pointer bound to it (None for a plain column)."""
        segments = list(path)
        for size in range(len(segments), 0, -1):
            prefix = segments[:size]
            if any(isinstance(s, int) for s in prefix):
                continue
            found = self.columns.get(column_name([str(s) for s in prefix], self.naming).lower())
            if found is None:
                continue
            name, dtype = found
            if size == len(segments):
                return quote_ident(name), None
            if dtype.upper() != "JSON":
                raise ParentTableError(
                    f"{self.where}: parent field {_show(segments)} goes inside column {name!r} "
                    f"of {self.schema}.{self.table}, which holds {dtype}, not JSON"
                )
            rest = segments[size:]
            pointer = "/" + "/".join(str(s).replace("~", "~0").replace("/", "~1") for s in rest)
            return f"json_extract({quote_ident(name)}, ?)", pointer
        raise self.missing(segments)

    def missing(self, segments: list[str | int]) -> ParentTableError:
        """The error for a field no column holds: inside a child table, or not there at all."""
        shown = _show(segments)
        for size in range(len(segments), 0, -1):
            names = [s for s in segments[:size] if isinstance(s, str)]
            child = child_table_name(self.table, names, self.naming) if names else ""
            if names and self.catalog.table_name(self.schema, child) is not None:
                return ParentTableError(
                    f"{self.where}: parent field {shown} is inside a list that was loaded as "
                    f"child table {self.schema}.{child}; keep it as JSON on the parent "
                    "(nested_as_json: true or a lower max_table_nesting), or lift the value into "
                    "a field of its own with a map processing step on the parent"
                )
        return ParentTableError(
            f"{self.where}: table {self.schema}.{self.table} has no column for parent field "
            f"{shown}; the parent's rows have: "
            f"{', '.join(sorted(n for n, _ in self.columns.values()))}"
        )


def _show(segments: Sequence[str | int]) -> str:
    return repr(".".join(f"[{s}]" if isinstance(s, int) else s for s in segments))
