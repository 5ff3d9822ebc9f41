"""Commit staged records into DuckDB: one transaction per load, DuckDB doing the work.

A load runs as a few named steps in one transaction, so any failure leaves the old tables
as they were:

1. the staged records are read as one relation (:mod:`rest_assets.load.source`);
2. the flattening is planned from their DuckDB types (:mod:`rest_assets.load.plan`) and its
   temporary relations created;
3. each target table is created or evolved (:mod:`rest_assets.load.evolve`), explicit column
   types applied and non-nullable columns checked;
4. ``replace`` empties the table and its child tables (or, with ``replace_partitions``, only
   those partitions' rows), ``merge`` deletes the rows whose primary key is in the load (and
   their child rows), ``append`` does neither; then the rows are inserted;
5. a stateful load's ledger row is checked and recorded (:mod:`rest_assets.load.ledger`),
   and the transaction commits (:func:`commit_transaction`).

Two fallbacks start the transaction over: reading with the columns the staging area inferred
failed (a value the inferred type cannot hold), then DuckDB infers as it reads; the load
needed more memory than ``memory_limit`` and could not spill (very wide records), then it
runs once more with DuckDB's default. Child tables carry a table comment naming their root
table, which is how ``replace`` and ``merge`` find them.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from os import PathLike

import duckdb

from rest_assets.load.catalog import Catalog
from rest_assets.load.column_types import canonical_type
from rest_assets.load.columns import LOAD_ID, PARTITION_COLUMN, ROOT_ID, ROW_ID
from rest_assets.load.connection import connection, lift_memory_limit, tune_for_commit
from rest_assets.load.errors import LoadError
from rest_assets.load.evolve import EvolvedTable, evolve_table
from rest_assets.load.ledger import check_and_record
from rest_assets.load.plan import (
    TablePlan,
    TempNames,
    column_exprs,
    json_probe,
    not_null_probe,
    plan_tables,
)
from rest_assets.load.source import StagedFiles, infer_columns, open_records
from rest_assets.load.spec import LoadResult, LoadSpec, new_load_id
from rest_assets.load.sql import format_table_name, quote_ident, quote_literal
from rest_assets.load.staging import StagingArea


def commit(
    database: str | PathLike[str],
    staging: StagingArea | Sequence[str | PathLike[str]],
    spec: LoadSpec,
) -> LoadResult:
    """Commit staged records into ``spec.schema``.``spec.table`` of a DuckDB file in one
    transaction; see :class:`~rest_assets.load.spec.LoadSpec` for what a load can ask.

    ``staging`` is a :class:`StagingArea` (or staged JSON-array file paths, oldest first).
    Any failure rolls the whole load back: DuckDB's errors are raised as :class:`LoadError`,
    a lost race of a stateful load as ``ConcurrentLoadError``.
    """
    staged = StagedFiles.of(staging)  # waits for the staging probe before taking the lock
    with connection(database, lock_timeout=spec.lock_timeout) as con:
        tune_for_commit(con, spec.memory_limit)
        if staged.file_rows and not staged.known_columns:
            # the background probe could not settle the schema: infer it over all files now,
            # then stream the records all the same (nothing materialized, memory stays flat)
            staged = replace(staged, known_columns=infer_columns(con, staged.files))
        return _in_transaction(con, staged, spec)


def commit_transaction(con: duckdb.DuckDBPyConnection) -> None:
    """COMMIT a load's transaction: the moment its rows (and ledger row) become visible.

    Every staged load commits through this function, so it is the seam where the
    fault-injection tests stop a run with the load written but not committed
    (``tests/reliability/run_materialize.py`` wraps it before running); keep it the last
    step and keep every commit going through it.
    """
    con.execute("COMMIT")


def _in_transaction(
    con: duckdb.DuckDBPyConnection, staged: StagedFiles, spec: LoadSpec
) -> LoadResult:
    con.execute("BEGIN TRANSACTION")
    try:
        result = _write_within_memory(con, staged, spec)
        if spec.ledger is not None:
            # same transaction as the data: refused as a whole if another run won
            check_and_record(con, spec.schema, spec.table, result.load_id, spec.ledger)
        commit_transaction(con)
    except BaseException as exc:
        # the transaction may already be aborted; closing the connection discards it
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        if isinstance(exc, duckdb.Error):
            raise LoadError(
                f"loading {spec.table_name} failed and was rolled back "
                f"(the table is unchanged): {exc}"
            ) from exc
        raise
    return result


def _restart(con: duckdb.DuckDBPyConnection) -> None:
    # the failed statement aborted the transaction: start it again
    con.execute("ROLLBACK")
    con.execute("BEGIN TRANSACTION")


def _write_within_memory(
    con: duckdb.DuckDBPyConnection, staged: StagedFiles, spec: LoadSpec
) -> LoadResult:
    """The load under the memory cap, then once more without it if DuckDB ran out."""
    try:
        return _write_with_known_columns(con, staged, spec)
    except duckdb.OutOfMemoryException:
        if not spec.memory_limit:
            raise
        # some loads need more than the cap and cannot spill (very wide records: DuckDB
        # buffers every column): this one runs with DuckDB's default
        _restart(con)
        lift_memory_limit(con)
        return _write_with_known_columns(con, staged, spec)


def _write_with_known_columns(
    con: duckdb.DuckDBPyConnection, staged: StagedFiles, spec: LoadSpec
) -> LoadResult:
    """The load reading with the known columns, then once more inferring if that failed."""
    try:
        return _Load(con, staged, spec).run()
    except duckdb.OutOfMemoryException:
        raise
    except duckdb.Error:
        if staged.known_columns is None:
            raise
        # e.g. a value the pre-inferred type cannot hold: let DuckDB infer
        _restart(con)
        return _Load(con, staged.without_known_columns(), spec).run()


@dataclass(frozen=True)
class _Prepared:
    """A planned table, its target table as evolved, and the insert's columns."""

    plan: TablePlan
    table: EvolvedTable
    select: list[tuple[str, str]]  # target column, expression over the flat relation


class _Load:
    """One attempt at a load, inside the open transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection, staged: StagedFiles, spec: LoadSpec):
        self.con = con
        self.staged = staged
        self.spec = spec
        self.schema = spec.schema
        self.catalog = Catalog(con)
        self.names = TempNames()
        self.load_id = spec.load_id

    def target(self, table: str) -> str:
        return self.catalog.qualified(self.schema, table)

    def run(self) -> LoadResult:
        self.catalog.ensure_schema(self.schema)
        if not self.staged.files:
            return self.run_empty()
        self.load_id = self.newest_load_id()
        source, columns = open_records(self.con, self.staged, self.spec, self.load_id, self.names)
        plans = plan_tables(self.spec, source, columns, self.names)
        self.create_relations(plans)
        prepared = [self.prepare(plan) for plan in plans]
        root = prepared[0].table.name
        self.delete_replaced(prepared[0], self.children_to_clear(prepared))
        written = self.insert(prepared)
        return self.result(root, written.pop(root), written)

    # -- steps

    def newest_load_id(self) -> str:
        """This load's id, made to sort after every load already in the table.

        Dependent assets read "parent rows after the load id I handled last"; an extraction
        that started before another but commits after it must not land below that cursor.
        Commits are serialised by the file lock, so checking inside the transaction is enough.
        """
        actual = self.catalog.table_name(self.schema, self.spec.table)
        if actual is None:
            return self.load_id
        names = {n.lower(): n for n, _ in self.catalog.columns(self.schema, actual)}
        if LOAD_ID.lower() not in names:
            return self.load_id
        row = self.con.execute(
            f"SELECT max({quote_ident(names[LOAD_ID.lower()])}) FROM {self.target(actual)}"
        ).fetchone()
        newest = None if row is None or row[0] is None else str(row[0])
        if newest is None or self.load_id > newest:
            return self.load_id
        candidate = new_load_id()
        return candidate if candidate > newest else f"{newest}.{secrets.token_hex(3)}"

    def create_relations(self, plans: list[TablePlan]) -> None:
        """Run the plans' statements in order and read each flat relation's column types."""
        for plan in plans:
            for statement in plan.statements:
                self.con.execute(statement)
            rel = self.con.sql(f"SELECT * FROM {plan.flat} LIMIT 0")
            plan.types = {n: str(t) for n, t in zip(rel.columns, rel.dtypes, strict=True)}

    def prepare(self, plan: TablePlan) -> _Prepared:
        """Decide the columns' types, create or evolve the target table, map the columns."""
        exprs, types = self.staged_columns(plan)
        wanted = [*types.items(), (LOAD_ID, "VARCHAR"), *((m, t) for m, _, t in plan.meta)]
        child_of = None if plan.is_root else self.spec.table
        table = evolve_table(self.catalog, self.schema, plan.table, wanted, child_of=child_of)
        select = []
        for name, expr in exprs.items():
            target_name, target_type = table.columns[name.lower()]
            if canonical_type(target_type) != canonical_type(types[name]):
                expr = f"CAST({expr} AS {target_type})"
            select.append((target_name, expr))
        select.append((table.columns[LOAD_ID.lower()][0], quote_literal(self.load_id)))
        for meta_name, meta_expr, _ in plan.meta:
            select.append((table.columns[meta_name.lower()][0], meta_expr))
        return _Prepared(plan, table, select)

    def staged_columns(self, plan: TablePlan) -> tuple[dict[str, str], dict[str, str]]:
        """Each column's expression and staged type (see :func:`column_exprs`)."""
        # No row count up front: a new child table is created, filled, and dropped again if
        # it stayed empty (`insert`), which saves a full read of the staged files per list.
        json_cols, probe = json_probe(plan)
        nested: dict[str, bool | None] = {}
        if probe is not None:
            row = self.con.execute(probe).fetchone()
            assert row is not None
            nested = dict(zip(json_cols, row, strict=True))
        exprs, types = column_exprs(plan, nested, self.spec.column_specs)
        if plan.is_root:
            self.check_not_null(plan, exprs)
        return exprs, types

    def check_not_null(self, plan: TablePlan, exprs: dict[str, str]) -> None:
        probe = not_null_probe(plan, exprs, self.spec.column_specs)
        if probe is None:
            return
        required, sql = probe
        row = self.con.execute(sql).fetchone()
        assert row is not None
        bad = [f"{s.name} ({n} rows)" for s, n in zip(required, row, strict=True) if n]
        if bad:
            raise LoadError(
                f"NULL values in non-nullable column(s) of {self.schema}.{self.spec.table}: "
                f"{', '.join(bad)}"
            )

    def children_to_clear(self, prepared: list[_Prepared]) -> list[str]:
        """The root table's existing child tables (nothing to delete from a new one)."""
        new_tables = {p.table.name for p in prepared if p.table.created}
        return [
            name
            for name in self.catalog.child_tables(self.schema, prepared[0].table.name)
            if name not in new_tables
        ]

    def delete_replaced(self, root: _Prepared, children: list[str]) -> None:
        """What the write disposition removes before the insert."""
        if self.spec.write_disposition == "replace":
            self.clear(root.table.name, children)
        elif self.spec.write_disposition == "merge" and self.spec.primary_key:
            self.delete_merged(root, children)

    def clear(self, root: str, children: list[str]) -> None:
        """A replace: delete every row of the root and child tables, or with
        ``replace_partitions`` only those of the partitions being loaded."""
        if self.spec.replace_partitions is not None:
            self.delete_partitions(root, children)
            return
        for name in [root, *children]:
            self.con.execute(f"DELETE FROM {self.target(name)}")

    def delete_partitions(self, root: str, children: list[str]) -> None:
        """A partitioned replace: delete only the rows of the partitions being loaded."""
        columns = {n.lower() for n, _ in self.catalog.columns(self.schema, root)}
        if PARTITION_COLUMN not in columns:
            return  # no row was ever loaded for a partition
        keys = ", ".join(quote_literal(k) for k in self.spec.replace_partitions or ())
        root_target = self.target(root)
        scoped = f"{quote_ident(PARTITION_COLUMN)} IN ({keys})"
        for child in children:
            self.con.execute(
                f"DELETE FROM {self.target(child)} WHERE {ROOT_ID} IN "
                f"(SELECT {ROW_ID} FROM {root_target} WHERE {scoped})"
            )
        self.con.execute(f"DELETE FROM {root_target} WHERE {scoped}")

    def delete_merged(self, root: _Prepared, children: list[str]) -> None:
        """A merge: delete the rows whose key is in the load, and their child rows."""
        by_name = {n.lower(): (n, e) for n, e in root.select}
        keys = [by_name[k.lower()] for k in self.spec.primary_key]
        staged_keys = ", ".join(
            f"{e} AS {quote_ident(f'__ra_k{i}')}" for i, (_, e) in enumerate(keys)
        )
        match = " AND ".join(
            f"t.{quote_ident(n)} IS NOT DISTINCT FROM s.{quote_ident(f'__ra_k{i}')}"
            for i, (n, _) in enumerate(keys)
        )
        staged = f"(SELECT DISTINCT {staged_keys} FROM {root.plan.flat})"
        root_target = self.target(root.table.name)
        if children:
            replaced = self.names("replaced")
            self.con.execute(
                f"CREATE TEMP TABLE {replaced} AS SELECT t.{ROW_ID} AS id FROM {root_target} t "
                f"JOIN {staged} s ON {match}"
            )
            for child in children:
                self.con.execute(
                    f"DELETE FROM {self.target(child)} "
                    f"WHERE {ROOT_ID} IN (SELECT id FROM {replaced})"
                )
        self.con.execute(f"DELETE FROM {root_target} t USING {staged} s WHERE {match}")

    def insert(self, prepared: list[_Prepared]) -> dict[str, int]:
        """Insert each table's rows; returns the rows written per table."""
        written: dict[str, int] = {}
        for p in prepared:
            cols = ", ".join(quote_ident(n) for n, _ in p.select)
            values = ", ".join(e for _, e in p.select)
            row = self.con.execute(
                f"INSERT INTO {self.target(p.table.name)} ({cols}) "
                f"SELECT {values} FROM {p.plan.flat}"
            ).fetchone()
            count = int(row[0]) if row else 0
            if p.table.created and count == 0 and not p.plan.is_root:
                # an always-empty list: no child table for it (yet)
                self.con.execute(f"DROP TABLE {self.target(p.table.name)}")
                continue
            written[p.table.name] = count
        return written

    def run_empty(self) -> LoadResult:
        """A load of no records: only a replace changes anything (it empties the table)."""
        actual = self.catalog.table_name(self.schema, self.spec.table)
        if actual is None:
            return self.result(None, 0, {})
        if self.spec.write_disposition == "replace":
            self.clear(actual, self.catalog.child_tables(self.schema, actual))
        return self.result(actual, 0, {})

    def result(self, actual: str | None, rows_written: int, children: dict[str, int]) -> LoadResult:
        name = actual or self.spec.table
        if actual is None:
            row_count, columns = 0, []
        else:
            row_count = self.catalog.count(self.schema, actual)
            columns = self.catalog.columns(self.schema, actual)
        return LoadResult(
            row_count=row_count,
            rows_written=rows_written,
            columns=columns,
            child_tables=children,
            table_name=format_table_name(self.schema, name),
            table=name,
            load_id=self.load_id,
        )
