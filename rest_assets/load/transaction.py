"""Commit staged records into DuckDB: one transaction per load, DuckDB doing the work.

Before the transaction, the staged records' schema is settled (:func:`readable`): the
staging probe's answer, else DuckDB's inference over all files, and when DuckDB cannot read
the records as they are (keys differing only in case, empty keys, records that are not
objects, very deep nesting) a repair in Python (:mod:`rest_assets.load.repair`).

A load then runs as a few named steps in one transaction, so any failure leaves the old
tables as they were:

1. the staged records are read as one relation (:mod:`rest_assets.load.source`), with the
   types :mod:`rest_assets.load.read_types` decides;
2. the flattening is planned from their DuckDB types (:mod:`rest_assets.load.plan`) and its
   temporary relations created;
3. each target table's columns meet the schema contract (:mod:`rest_assets.load.contract`),
   then the table is created or evolved (:mod:`rest_assets.load.evolve`), explicit column
   types applied and non-nullable columns checked;
4. the write disposition deletes and inserts (:mod:`rest_assets.load.dispositions`);
5. a stateful load's ledger row is checked and recorded (:mod:`rest_assets.load.ledger`),
   and the transaction commits (:func:`commit_transaction`).

Two fallbacks start the transaction over: reading with the decided types failed (a value
the inferred type cannot hold), then DuckDB infers as it reads; the load needed more memory
than ``memory_limit`` and could not spill, then it runs once more with DuckDB's default.
Child tables carry a table comment naming their root table, which is how ``replace`` and
``merge`` find them.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import replace
from os import PathLike

import duckdb

from rest_assets.load.catalog import Catalog
from rest_assets.load.column_types import NULL_TYPE, canonical_type
from rest_assets.load.columns import LOAD_ID, RESOURCE_COLUMN, RID
from rest_assets.load.connection import (
    connection,
    lift_memory_limit,
    scratch_connection,
    tune_for_commit,
)
from rest_assets.load.contract import TableState, settle
from rest_assets.load.dispositions import Dispositions, Prepared, reserved_columns, validity_columns
from rest_assets.load.errors import LoadError
from rest_assets.load.evolve import evolve_table
from rest_assets.load.ledger import check_and_record, ledger_key
from rest_assets.load.plan import (
    NumberCounts,
    SourceColumn,
    TablePlan,
    TempNames,
    column_exprs,
    json_probe,
    not_null_probe,
    number_probe,
    plan_tables,
)
from rest_assets.load.read_types import ReadPlan, read_plan
from rest_assets.load.repair import Repaired, is_repairable, looks_renamed, repair
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
    repaired: Repaired | None = None
    try:
        # settled before the lock is taken: inference and repairs need no database
        staged, repaired = readable(staged, spec)
        with connection(database, lock_timeout=spec.lock_timeout) as con:
            tune_for_commit(con, spec.memory_limit)
            return _in_transaction(con, staged, spec)
    finally:
        if repaired is not None:
            repaired.cleanup()


def readable(staged: StagedFiles, spec: LoadSpec) -> tuple[StagedFiles, Repaired | None]:
    """The staged files with a schema DuckDB inferred over all of them, repaired first when
    DuckDB cannot read them as they are (see :mod:`rest_assets.load.repair`)."""
    if not staged.files or not staged.has_fields:
        return staged, None
    columns, reason = staged.known_columns, None
    scratch = None
    try:
        if columns is None:
            scratch = scratch_connection(threads=2)
            columns, reason = infer_columns(scratch, staged.files)
        if columns is not None and not looks_renamed(columns):
            return replace(staged, known_columns=columns), None
        if columns is None and not is_repairable(reason):
            return staged, None  # the load reports DuckDB's own error
        fixed = repair(
            staged.files, naming=spec.naming, exact=staged.exact_files, table=spec.table_name
        )
        if fixed is None:
            return replace(staged, known_columns=columns), None
        scratch = scratch or scratch_connection(threads=2)
        columns, _ = infer_columns(scratch, fixed.files)
    finally:
        if scratch is not None:
            scratch.close()
    exact = tuple(fixed.files) if staged.exact_files else ()
    repaired = StagedFiles(
        tuple(fixed.files),
        True,
        columns,
        tuple(fixed.file_rows),
        exact,
        frozenset(fixed.json_paths),
        tuple(fixed.notes),
    )
    return repaired, fixed


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
            key = ledger_key(spec.table, spec.resource)
            check_and_record(con, spec.schema, key, result.load_id, spec.ledger)
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
        if staged.known_columns is None or not staged.use_known_columns:
            raise
        # e.g. a value the pre-inferred type cannot hold: let DuckDB infer
        _restart(con)
        return _Load(con, staged.without_known_columns(), spec).run()


def _row_version(spec: LoadSpec) -> bool:
    return spec.merge is not None and bool(spec.merge.row_version_column_name)


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
        self.notes: list[str] = list(staged.notes)

    def target(self, table: str) -> str:
        return self.catalog.qualified(self.schema, table)

    def run(self) -> LoadResult:
        self.catalog.ensure_schema(self.schema)
        if not self.staged.files:
            return self.run_empty()
        self.load_id = self.newest_load_id()
        read = self.read_plan()
        source, columns = open_records(
            self.con,
            self.staged,
            self.spec,
            self.load_id,
            self.names,
            None if read is None else read.columns,
        )
        if validity_columns(self.spec) is not None and not _row_version(self.spec):
            source = self.hash_rows(source, columns)
        plans = plan_tables(
            self.spec, source, columns, self.names, read, reserved_columns(self.spec)
        )
        self.create_relations(plans)
        prepared = [self.prepare(plan) for plan in plans]
        root = prepared[0]
        if root.table is None:  # a contract discarded the new table's rows
            return self.result(None, {}, 0)
        children = self.children_to_clear(prepared)
        outcome = Dispositions(self.con, self.catalog, self.spec, self.names).write(
            prepared, children
        )
        written = dict(outcome.written)
        rows = written.pop(root.table.name, 0)
        return self.result(root.table.name, written, rows, outcome.deleted)

    # -- steps

    def read_plan(self) -> ReadPlan | None:
        """The types to read the records with (None: DuckDB infers as it reads)."""
        staged = self.staged
        if not (staged.use_known_columns and staged.known_columns and staged.has_fields):
            return None
        plan = read_plan(
            staged.known_columns,
            self.spec,
            text_json=staged.text_json,
            big_integers=staged.big_integers,
        )
        self.notes += plan.notes
        return plan

    def hash_rows(self, source: str, columns: list[SourceColumn]) -> str:
        """scd2: each record's row id is a hash of its content, so a version is recognised."""
        fields = ", ".join(f"{quote_ident(n)} := {e}" for n, e, _ in columns) or "x := 1"
        view = self.names("hashed")
        self.con.execute(
            f"CREATE TEMP VIEW {view} AS SELECT * REPLACE "
            f"(md5(to_json(struct_pack({fields}))::VARCHAR) AS {RID}) FROM {source}"
        )
        return view

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

    def prepare(self, plan: TablePlan) -> Prepared:
        """Meet the contract, create or evolve the target table, map the columns."""
        exprs, types = self.staged_columns(plan)
        state = self.table_state(plan, types)
        settled = settle(self.con, plan.flat, state, exprs, types, self.spec.schema_contract)
        self.notes += settled.notes
        if settled.skip_table:
            return Prepared(plan, None, [])
        validity = validity_columns(self.spec) if plan.is_root else None
        data = settled.wanted if not plan.is_root else self.hinted_first(settled.wanted)
        wanted = [
            *((c, "TIMESTAMP WITH TIME ZONE") for c in validity or ()),
            *data,
            (LOAD_ID, "VARCHAR"),
            *((m, t) for m, _, t in plan.meta),
        ]
        child_of = None if plan.is_root else self.spec.table
        table = evolve_table(self.catalog, self.schema, plan.table, wanted, child_of=child_of)
        select = []
        for name, expr in settled.exprs.items():
            target_name, target_type = table.columns[name.lower()]
            if canonical_type(target_type) != canonical_type(types[name]):
                expr = f"CAST({expr} AS {target_type})"
            select.append((target_name, expr))
        select.append((table.columns[LOAD_ID.lower()][0], quote_literal(self.load_id)))
        for meta_name, meta_expr, _ in plan.meta:
            select.append((table.columns[meta_name.lower()][0], meta_expr))
        return Prepared(plan, table, select, settled.keep_rows)

    def hinted_first(self, wanted: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Columns with an explicit type first, in the order of the hints (as dlt creates a
        table), then the others in the records' order."""
        typed = [s.name.lower() for s in self.spec.column_specs.values() if s.duckdb_type]
        rank = {name: i for i, name in enumerate(typed)}
        return sorted(wanted, key=lambda c: rank.get(c[0].lower(), len(rank)))

    def table_state(self, plan: TablePlan, types: dict[str, str]) -> TableState:
        """The target table as the contract sees it: its columns, and (under a contract that
        does not evolve) which of the load's columns never held a value there."""
        label = format_table_name(self.schema, plan.table)
        actual = self.catalog.table_name(self.schema, plan.table)
        if actual is None:
            return TableState(label, None)
        columns = {n.lower(): (n, t) for n, t in self.catalog.columns(self.schema, actual)}
        contract = self.spec.schema_contract
        strict = contract is not None and contract.columns != "evolve"
        # a column that never held a value is still new: it takes the load's type (and a
        # contract on columns decides about it); asked only where it matters
        present = [
            columns[c.lower()][0]
            for c, t in types.items()
            if c.lower() in columns
            and t != NULL_TYPE
            and (strict or canonical_type(t) != canonical_type(columns[c.lower()][1]))
        ]
        if not present:
            return TableState(label, columns)
        counts = ", ".join(f"count({quote_ident(c)})" for c in present)
        row = self.con.execute(f"SELECT {counts} FROM {self.target(actual)}").fetchone()
        assert row is not None
        empty = frozenset(c.lower() for c, n in zip(present, row, strict=True) if not n)
        return TableState(label, columns, empty)

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
        number_cols, numbers_sql = number_probe(plan)
        numbers: dict[str, NumberCounts] | None = None
        if numbers_sql is not None:
            counts = self.con.execute(numbers_sql).fetchone()
            assert counts is not None
            numbers = {
                name: NumberCounts(*counts[3 * i : 3 * i + 3]) for i, name in enumerate(number_cols)
            }
        exprs, types = column_exprs(
            plan, nested, self.spec.column_specs, self.spec, numbers, self.notes
        )
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

    def children_to_clear(self, prepared: list[Prepared]) -> list[str]:
        """The root table's existing child tables (nothing to delete from a new one)."""
        new_tables = {p.table.name for p in prepared if p.table is not None and p.table.created}
        root = prepared[0].table
        assert root is not None
        return [
            name
            for name in self.catalog.child_tables(self.schema, root.name)
            if name not in new_tables
        ]

    def run_empty(self) -> LoadResult:
        """A load of no records: only a replace changes anything (it empties the table)."""
        actual = self.catalog.table_name(self.schema, self.spec.table)
        if actual is None:
            return self.result(None, {}, 0)
        outcome = Dispositions(self.con, self.catalog, self.spec, self.names).clear_only(
            actual, self.catalog.child_tables(self.schema, actual)
        )
        return self.result(actual, {}, 0, outcome.deleted)

    def result(
        self, actual: str | None, children: dict[str, int], rows_written: int, deleted: int = 0
    ) -> LoadResult:
        name = actual or self.spec.table
        if actual is None:
            row_count, columns = 0, []
        else:
            row_count = self.row_count(actual)
            columns = self.catalog.columns(self.schema, actual)
        return LoadResult(
            row_count=row_count,
            rows_written=rows_written,
            columns=columns,
            child_tables=children,
            table_name=format_table_name(self.schema, name),
            table=name,
            load_id=self.load_id,
            notes=tuple(dict.fromkeys(self.notes)),
            rows_deleted=deleted,
        )

    def row_count(self, table: str) -> int:
        """The table's rows; in a table several resources share, this resource's rows."""
        if self.spec.resource is None:
            return self.catalog.count(self.schema, table)
        present = {n.lower() for n, _ in self.catalog.columns(self.schema, table)}
        if RESOURCE_COLUMN not in present:
            return self.catalog.count(self.schema, table)
        row = self.con.execute(
            f"SELECT count(*) FROM {self.target(table)} WHERE {quote_ident(RESOURCE_COLUMN)} = ?",
            [self.spec.resource],
        ).fetchone()
        return int(row[0]) if row else 0
