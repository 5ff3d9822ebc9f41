"""Target tables created or evolved to hold a load: columns added, types widened.

A new column is added; a column whose staged type differs takes the wider type of the two
(:func:`rest_assets.load.column_types.widen`), or the staged type as is when it never held a
value. Columns are never dropped, so older rows keep their data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rest_assets.load.catalog import Catalog
from rest_assets.load.column_types import NULL_TYPE, canonical_type, widen
from rest_assets.load.sql import quote_ident

# a column the table has: lower-cased name -> (name as created, DuckDB type)
ColumnsByName = dict[str, tuple[str, str]]


@dataclass(frozen=True)
class EvolvedTable:
    name: str  # as created (names match case-insensitively)
    columns: ColumnsByName  # after the change
    created: bool  # by this load


def evolve_table(
    catalog: Catalog,
    schema: str,
    table: str,
    wanted: Sequence[tuple[str, str]],
    *,
    child_of: str | None,
) -> EvolvedTable:
    """Create ``schema.table`` with the ``wanted`` ``(name, staged type)`` columns, or evolve
    it to hold them. A new child table is marked as one of root table ``child_of``."""
    existing = catalog.table_name(schema, table)
    if existing is None:
        _create(catalog, schema, table, wanted, child_of)
        name, created = table, True
    else:
        _evolve(catalog, schema, existing, wanted)
        name, created = existing, False
    final = {n.lower(): (n, t) for n, t in catalog.columns(schema, name)}
    return EvolvedTable(name, final, created)


def _create(
    catalog: Catalog,
    schema: str,
    table: str,
    wanted: Sequence[tuple[str, str]],
    child_of: str | None,
) -> None:
    defs = ", ".join(f"{quote_ident(n)} {'VARCHAR' if t == NULL_TYPE else t}" for n, t in wanted)
    catalog.con.execute(f"CREATE TABLE {catalog.qualified(schema, table)} ({defs})")
    if child_of is not None:
        catalog.mark_child(schema, table, child_of)


def _evolve(catalog: Catalog, schema: str, table: str, wanted: Sequence[tuple[str, str]]) -> None:
    target = catalog.qualified(schema, table)
    current = {n.lower(): (n, t) for n, t in catalog.columns(schema, table)}
    for name, staged in wanted:
        found = current.get(name.lower())
        if found is None:
            dtype = "VARCHAR" if staged == NULL_TYPE else staged
            catalog.con.execute(f"ALTER TABLE {target} ADD COLUMN {quote_ident(name)} {dtype}")
            continue
        actual, old = found
        if staged == NULL_TYPE or canonical_type(staged) == canonical_type(old):
            continue
        new = widen(old, staged)
        if _non_null(catalog, target, actual) == 0:
            new = staged  # a column that never held a value takes the new type as is
        if canonical_type(new) == canonical_type(old):
            continue
        catalog.con.execute(
            f"ALTER TABLE {target} ALTER COLUMN {quote_ident(actual)} SET DATA TYPE {new}"
        )


def _non_null(catalog: Catalog, target: str, column: str) -> int:
    row = catalog.con.execute(f"SELECT count({quote_ident(column)}) FROM {target}").fetchone()
    return int(row[0]) if row else 0
