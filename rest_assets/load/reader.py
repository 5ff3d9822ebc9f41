"""Reading a parent table's key columns for dependent resources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rest_assets.errors import RestAssetsError
from rest_assets.load.writer import connect, quote_ident


class ParentTableError(RestAssetsError):
    """A child cannot read what it needs from its parent's table."""


def read_rows(
    database: str,
    schema: str,
    table: str,
    columns: Sequence[str],
    *,
    load_id_column: str,
    after_load_id: str | None = None,
    where: str = "",
) -> tuple[list[tuple[Any, ...]], str | None]:
    """Rows of `columns` (in load order) and the newest load id among them.

    With `after_load_id`, only rows of later loads: the ones a child has not handled yet.
    """
    con = connect(database, read_only=True)
    try:
        found = con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
        if not found:
            raise ParentTableError(
                f"{where}: table {schema}.{table} does not exist yet; materialize the parent "
                "asset first (or select both in one run)"
            )
        present = {name for (name,) in found}
        missing = [c for c in columns if c not in present]
        if missing:
            raise ParentTableError(
                f"{where}: table {schema}.{table} has no column(s) {', '.join(missing)}; "
                f"the parent's rows have: {', '.join(sorted(present))}"
            )
        select = ", ".join(quote_ident(c) for c in columns)
        # The catalog prefix avoids "ambiguous reference" when the file is named like a schema.
        (catalog,) = con.execute("SELECT current_database()").fetchone() or ("",)
        target = f"{quote_ident(catalog)}.{quote_ident(schema)}.{quote_ident(table)}"
        sql = f"SELECT {select} FROM {target}"
        params: list[Any] = []
        if after_load_id:
            sql += f" WHERE {quote_ident(load_id_column)} > ?"
            params.append(after_load_id)
        # rowid keeps the order rows were written in within one load.
        sql += f" ORDER BY {quote_ident(load_id_column)}, rowid"
        rows = con.execute(sql, params).fetchall()
        position = list(columns).index(load_id_column)
        newest = max((r[position] for r in rows), default=None)
        return rows, newest
    finally:
        con.close()
