"""Schema contracts, and how a load's columns meet an existing table's.

For each table a load writes, its staged columns are compared with the table (if any):

- a **new table** (root or child) is created under ``tables: evolve``; ``freeze`` fails the
  load; ``discard_row`` / ``discard_value`` drop the rows meant for it (for a child table
  only the child rows: the parent rows stay);
- a **new column** (not in the table, or in it but never given a value) is added under
  ``columns: evolve``; ``freeze`` fails the load when a record has a value for it;
  ``discard_row`` drops those records; ``discard_value`` drops the values. A column whose
  staged values are all null is no violation (it carries no data);
- a **value of another type** than its column's: first coerced when every value fits
  (``"123"`` into a BIGINT column, an int into a text column, an ISO string into a
  timestamp column: no change to the table, as dlt coerces); otherwise ``data_type: evolve``
  widens the column (:func:`rest_assets.load.column_types.widen`), ``freeze`` fails the
  load, ``discard_row`` drops the records whose value does not fit, ``discard_value`` stores
  NULL instead.

A failed contract raises :class:`SchemaContractError` inside the commit's transaction: the
load rolls back and changes nothing. Contracts apply after naming, to column names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb

from rest_assets.config.tables import SchemaContractConfig
from rest_assets.load.column_types import NULL_TYPE, canonical_type, widen
from rest_assets.load.errors import LoadError

_EVOLVE = SchemaContractConfig()
_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
_UNSIGNED = {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
_NUMBERS = _INTEGERS | _UNSIGNED | {"FLOAT", "REAL", "DOUBLE"}


class SchemaContractError(LoadError):
    """A load broke its resource's schema contract; nothing was written."""


@dataclass
class Settled:
    """A table's columns after the contract: what to create or evolve, how to read each
    column, which rows to keep."""

    wanted: list[tuple[str, str]]  # data columns (name, type) the table must hold
    exprs: dict[str, str]  # column -> expression over the flat relation
    keep_rows: list[str] = field(default_factory=list)  # conditions a kept row meets
    skip_table: bool = False  # discard every row meant for this (new) table
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TableState:
    """What the commit knows of one target table before writing it."""

    label: str  # schema.table, for messages
    columns: Mapping[str, tuple[str, str]] | None  # lower name -> (name, type); None: new
    never_set: frozenset[str] = frozenset()  # lower names of columns that never held a value


def fits(expr: str, staged: str, target: str) -> str:
    """SQL: ``expr`` (of type ``staged``) is NULL or becomes a ``target`` value unchanged."""
    old, new = canonical_type(target), canonical_type(staged)
    cast = f"TRY_CAST({expr} AS {target})"
    test = f"{cast} IS NOT NULL"
    if old in _NUMBERS and (new in _NUMBERS or new.startswith("DECIMAL")):
        test += f" AND CAST({cast} AS DOUBLE) = CAST({expr} AS DOUBLE)"  # no rounding
    elif old == "BOOLEAN" and (new in _NUMBERS or new.startswith("DECIMAL")):
        test = f"{expr} IN (0, 1)"
    return f"({expr} IS NULL OR ({test}))"


def settle(
    con: duckdb.DuckDBPyConnection,
    flat: str,
    state: TableState,
    exprs: dict[str, str],
    types: dict[str, str],
    contract: SchemaContractConfig | None,
) -> Settled:
    """Decide a table's columns under ``contract`` (None: evolve everything); raises
    :class:`SchemaContractError` for a frozen entity that the load would change."""
    mode = contract or _EVOLVE
    if state.columns is None:
        return _new_table(state, exprs, types, mode)
    existing = state.columns
    settled = Settled([], dict(exprs))
    fresh = [c for c in types if c.lower() not in existing or c.lower() in state.never_set]
    _new_columns(settled, state, fresh, types, mode.columns)
    known = [c for c in types if c not in fresh]
    mismatched = [
        c
        for c in known
        if types[c] != NULL_TYPE
        and canonical_type(types[c]) != canonical_type(existing[c.lower()][1])
    ]
    for c in known:
        if c not in mismatched:
            settled.wanted.append((c, types[c]))
    _mismatched(con, flat, settled, state, mismatched, types, mode.data_type)
    return settled


def _new_table(
    state: TableState, exprs: dict[str, str], types: dict[str, str], mode: SchemaContractConfig
) -> Settled:
    settled = Settled(list(types.items()), dict(exprs))
    if mode.tables == "evolve":
        return settled
    if mode.tables == "freeze":
        raise SchemaContractError(
            f"{state.label} does not exist and schema_contract tables is freeze: nothing was "
            "loaded (the load would create this table; set tables: evolve to allow new tables)"
        )
    settled.skip_table = True
    settled.notes.append(
        f"{state.label}: rows for this new table discarded (schema_contract tables: {mode.tables})"
    )
    return settled


def _new_columns(
    settled: Settled, state: TableState, fresh: list[str], types: dict[str, str], mode: str
) -> None:
    with_data = [c for c in fresh if types[c] != NULL_TYPE]
    if mode == "evolve":
        settled.wanted += [(c, types[c]) for c in fresh]
        return
    # columns that only ever had nulls carry no data: no violation, no column
    if with_data and mode == "freeze":
        raise SchemaContractError(
            f"{state.label}: new column(s) {', '.join(with_data)} but schema_contract columns "
            "is freeze: nothing was loaded (set columns: evolve to add them, or discard_value "
            "/ discard_row to drop them)"
        )
    for c in fresh:
        if c.lower() in state.never_set and state.columns is not None:
            # present in the table already: keep it there, as it is
            settled.wanted.append((c, state.columns[c.lower()][1]))
            if mode == "discard_row" and c in with_data:
                settled.keep_rows.append(f"{settled.exprs[c]} IS NULL")
            if c in with_data:
                settled.exprs[c] = "NULL"
            continue
        if mode == "discard_row" and c in with_data:
            settled.keep_rows.append(f"{settled.exprs[c]} IS NULL")
        settled.exprs.pop(c, None)
    if with_data:
        what = "records with them dropped" if mode == "discard_row" else "their values dropped"
        settled.notes.append(
            f"{state.label}: new column(s) {', '.join(with_data)} not added, {what} "
            f"(schema_contract columns: {mode})"
        )


def _mismatched(
    con: duckdb.DuckDBPyConnection,
    flat: str,
    settled: Settled,
    state: TableState,
    columns: list[str],
    types: dict[str, str],
    mode: str,
) -> None:
    """Values whose type differs from their column's: coerced, widened, refused or dropped."""
    assert state.columns is not None
    probe: list[tuple[str, str, str]] = []  # column, target, fits-expression
    for c in columns:
        target = state.columns[c.lower()][1]
        if canonical_type(widen(target, types[c])) == canonical_type(target):
            settled.wanted.append((c, target))  # every value fits (e.g. a number into text)
            continue
        probe.append((c, target, fits(settled.exprs[c], types[c], target)))
    if not probe:
        return
    counts = con.execute(
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE NOT {f})" for _, _, f in probe)
        + f" FROM {flat}"
    ).fetchone()
    assert counts is not None
    misfits: list[str] = []
    for (c, target, test), bad in zip(probe, counts, strict=True):
        if not bad:
            settled.wanted.append((c, target))  # coerced: e.g. "123" into a BIGINT column
            continue
        misfits.append(f"{c} ({bad} value(s) not {target})")
        if mode == "evolve":
            settled.wanted.append((c, types[c]))  # the column widens
        elif mode == "discard_row":
            settled.wanted.append((c, target))
            settled.keep_rows.append(test)
        elif mode == "discard_value":
            settled.wanted.append((c, target))
            settled.exprs[c] = f"CASE WHEN {test} THEN {settled.exprs[c]} END"
    if not misfits or mode == "evolve":
        return
    if mode == "freeze":
        raise SchemaContractError(
            f"{state.label}: value(s) of another type in {', '.join(misfits)} but "
            "schema_contract data_type is freeze: nothing was loaded (set data_type: evolve "
            "to widen the columns, or discard_value / discard_row to drop them)"
        )
    what = "records dropped" if mode == "discard_row" else "values stored as NULL"
    settled.notes.append(
        f"{state.label}: {', '.join(misfits)}: {what} (schema_contract data_type: {mode})"
    )
