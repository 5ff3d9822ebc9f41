"""Commit staged batches into DuckDB: one transaction per load, DuckDB doing the work.

How a load runs (all in one transaction, so any failure leaves the old tables as they were):

1. The staged records' columns are what DuckDB's ``read_json`` infers over every file
   (``union_by_name``, all rows sampled; a field whose type differs between pages becomes
   JSON). A :class:`StagingArea` usually knows them already (its background probe, see
   :mod:`rest_assets.load.staging`); otherwise they are inferred here, once. The records are
   then read with those columns, the files in parallel (a row's position is its file's first
   row number plus its index). A load with only a root table streams the files straight into
   it; one with child tables parses them once into a temporary table that the root and child
   inserts share. DuckDB's buffer memory is capped by ``memory_limit`` (temporary tables spill
   to disk), so memory stays flat however large the load. If reading with those columns
   fails, the load starts over and takes the older path: everything read into a temporary
   table with inference (also used for a plain list of files).
2. The temporary table's DuckDB types (not the records) are walked in Python to build SQL:
   STRUCTs are flattened to ``parent__child`` columns, LISTs become child tables
   ``<table>__<field>`` built with ``unnest``; beyond ``max_table_nesting`` (or with
   ``nested_as_json``) nested values are kept as JSON. Mixed-type scalar columns become VARCHAR.
3. Target tables are created or evolved: new columns are added, types widened
   (:func:`rest_assets.load.schema.widen`), explicit column types applied.
4. ``replace`` empties the table and its child tables, ``merge`` deletes the rows whose primary
   key is in the load (and their child rows) and ``append`` does neither; then rows are inserted.

Every row gets ``_ra_load_id``; root and child rows get ``_ra_id`` (md5 of load id and row
position, or of parent id and list index), child rows ``_ra_parent_id``, ``_ra_root_id`` and
``_ra_list_idx``. Child tables carry a table comment naming their root table, which is how
``replace`` and ``merge`` find them.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import orjson

from rest_assets.errors import ConfigError, RestAssetsError
from rest_assets.load.ledger import LedgerEntry, check_and_record
from rest_assets.load.schema import (
    NULL_TYPE,
    ColumnSpec,
    canonical_type,
    normalize_columns,
    quote_ident,
    quote_literal,
    widen,
)
from rest_assets.load.staging import (
    READ_JSON_INFER,
    WRITE_DISPOSITIONS,
    StagingArea,
    new_load_id,
)

if TYPE_CHECKING:  # pandas costs ~0.4 s to import: only readers of DataFrames pay for it
    import pandas as pd

DEFAULT_LOCK_TIMEOUT = 120.0
# DuckDB's buffer memory during a commit; past it temporary tables spill to disk. Measured on
# the bench (1M records, 293 MB of staged JSON): no limit peaked at 1.2 GiB, see bench/README.md.
DEFAULT_MEMORY_LIMIT = "128MB"

LOAD_ID = "_ra_load_id"
ROW_ID = "_ra_id"
PARENT_ID = "_ra_parent_id"
ROOT_ID = "_ra_root_id"
LIST_IDX = "_ra_list_idx"
# the partition a root row was loaded for (partitioned assets only), see `commit`
PARTITION_COLUMN = "_ra_partition"
_RESERVED = {
    LOAD_ID.lower(),
    ROW_ID.lower(),
    PARENT_ID.lower(),
    ROOT_ID.lower(),
    LIST_IDX.lower(),
    PARTITION_COLUMN,
}

# columns of the temporary tables only
_POS = "__ra_pos"
_RID = "__ra_rid"
_PARENT = "__ra_parent"
_ROOT = "__ra_root"
_IDX = "__ra_idx"
_VALUE = "__ra_value"

_COMMENT_KEY = "rest_assets_child_of"

PathOrStr = str | PathLike[str]

quote = quote_ident  # short alias used by readers


class LoadError(RestAssetsError):
    """A load could not be committed; the transaction was rolled back."""


class DatabaseLockedError(LoadError):
    """Another process kept the DuckDB file locked for longer than the lock timeout."""


@dataclass(frozen=True)
class LoadResult:
    """Outcome of one commit.

    ``row_count`` is the table's row count after the commit, ``rows_written`` the rows this load
    inserted into it, ``columns`` the table's ``(name, DuckDB type)`` after the commit and
    ``child_tables`` maps each child table written by this load to the rows inserted into it.
    """

    row_count: int
    rows_written: int
    columns: list[tuple[str, str]]
    child_tables: dict[str, int]
    table_name: str
    schema: str = ""
    table: str = ""
    load_id: str = ""


# --------------------------------------------------------------------------- connections


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "could not set lock" in text or "conflicting lock" in text


def connect(
    database: PathOrStr,
    *,
    read_only: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file, retrying with exponential backoff while another process holds its lock.

    Raises :class:`DatabaseLockedError` after ``lock_timeout`` seconds. Parent directories are
    created for a writable connection.
    """
    path = Path(database)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    # One process opens a file in one configuration at a time (DuckDB refuses a read-write
    # connection while a read-only one is open, and the other way round), and the resources
    # of a step read and commit from several threads: reads use a read-write connection too
    # when the file can be written, so every connection of the process shares one database.
    if read_only and os.access(path, os.W_OK):
        read_only = False
    deadline = time.monotonic() + max(lock_timeout, 0.0)
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.ConnectionException as exc:
            # this process already has the file open read-write: share that instance instead
            if read_only and "different configuration" in str(exc):
                return duckdb.connect(str(path))
            raise
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DatabaseLockedError(
                    f"DuckDB file {path} stayed locked by another process for "
                    f"{lock_timeout:g} s; raise lock_timeout or serialise the writers "
                    f"(e.g. a Dagster concurrency pool)"
                ) from exc
            # jitter keeps several waiting processes from retrying in lockstep
            time.sleep(min(delay * (0.5 + random.random()), remaining))
            delay = min(delay * 2, 2.0)


def _qualified(catalog: str, schema: str, table: str) -> str:
    # the catalog prefix avoids "ambiguous reference" when the file is named like the schema
    return f"{quote_ident(catalog)}.{quote_ident(schema)}.{quote_ident(table)}"


def _table_columns(
    con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str
) -> list[tuple[str, str]]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND lower(schema_name) = lower(?) "
        "AND lower(table_name) = lower(?) ORDER BY column_index",
        [catalog, schema, table],
    ).fetchall()
    return [(str(name), str(dtype)) for name, dtype in rows]


def _table_name(
    con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str
) -> str | None:
    row = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
        "AND lower(schema_name) = lower(?) AND lower(table_name) = lower(?)",
        [catalog, schema, table],
    ).fetchone()
    return None if row is None else str(row[0])


def _child_tables_of(
    con: duckdb.DuckDBPyConnection, catalog: str, schema: str, root: str
) -> list[str]:
    rows = con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = ? "
        "AND lower(schema_name) = lower(?) AND comment IS NOT NULL",
        [catalog, schema],
    ).fetchall()
    children = []
    for name, comment in rows:
        try:
            marker = orjson.loads(comment)
        except orjson.JSONDecodeError:
            continue
        if isinstance(marker, dict) and str(marker.get(_COMMENT_KEY, "")).lower() == root.lower():
            children.append(str(name))
    return children


def _count(con: duckdb.DuckDBPyConnection, qualified: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {qualified}").fetchone()
    return int(row[0]) if row else 0


# --------------------------------------------------------------------------- planning


@dataclass
class _FlatCol:
    name: str
    expr: str
    is_json: bool = False  # produced by to_json: holds objects/arrays


@dataclass
class _ListCol:
    name: str
    expr: str
    element: duckdb.DuckDBPyType
    remaining: int | None


@dataclass
class _TablePlan:
    table: str
    flat: str  # temporary table holding the flattened rows
    is_root: bool
    cols: list[_FlatCol] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)  # column -> DuckDB type of the flat
    meta: list[tuple[str, str, str]] = field(default_factory=list)  # name, expr, type


def _dec(remaining: int | None) -> int | None:
    return None if remaining is None else remaining - 1


class _Commit:
    """One load inside an open transaction."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        schema: str,
        table: str,
        files: list[Path],
        *,
        has_fields: bool,
        write_disposition: str,
        primary_key: list[str],
        specs: dict[str, ColumnSpec],
        max_table_nesting: int | None,
        nested_as_json: bool,
        load_id: str,
        partition_key: str | None = None,
        replace_partitions: Sequence[str] | None = None,
        known_columns: list[tuple[str, str]] | None = None,
        file_rows: list[tuple[Path, int]] | None = None,
    ) -> None:
        self.con = con
        # with both, the records are read with these columns (no inference)
        self.known_columns = known_columns
        self.file_rows = file_rows
        self.first_rows: str | None = None  # SQL MAP literal: file -> first row position
        self.partition_key = partition_key
        self.replace_partitions = list(replace_partitions) if replace_partitions else None
        self.schema = schema
        self.table = table
        self.files = files
        self.has_fields = has_fields
        self.disposition = write_disposition
        self.primary_key = primary_key
        self.specs = specs
        self.specs_lower = {k.lower(): v for k, v in specs.items()}
        self.max_nesting = max_table_nesting
        self.nested_as_json = nested_as_json
        self.load_id = load_id
        row = con.execute("SELECT current_database()").fetchone()
        self.catalog = str(row[0]) if row else "memory"
        self._temp = 0
        self.plans: list[_TablePlan] = []

    def target(self, table: str) -> str:
        return _qualified(self.catalog, self.schema, table)

    def temp_name(self, kind: str) -> str:
        self._temp += 1
        return f"__ra_{kind}{self._temp}"

    # -- staging -> flattened temporary tables

    def stage(self) -> None:
        files = ", ".join(quote_literal(str(p)) for p in self.files)
        if self.known_columns and self.file_rows:
            source = self.record_source()
            if self.makes_child_tables():
                # The root table and each child table would each parse every staged file
                # again: parse them once into a temporary table (it spills to disk under the
                # memory cap). 200k records with one list: 1.0 -> 0.8 s; 1M: 4.5 -> 3.6 s.
                table = self.temp_name("src")
                self.con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {source}")
                source = table
        else:
            source = self.temp_name("src")
            # row_number() over the scan follows file order then record order: "last one wins"
            # records that are all {} have no columns to unpack: count them only
            columns = "*, " if self.has_fields else ""
            options = READ_JSON_INFER
            if not self.has_fields:
                options = options.replace("records = true", "records = false")
            self.con.execute(
                f"CREATE TEMP TABLE {source} AS SELECT *, "
                f"md5({quote_literal(self.load_id)} || '/' || {_POS}::VARCHAR) AS {_RID} FROM ("
                f"SELECT {columns}row_number() OVER () AS {_POS} FROM read_json([{files}], "
                f"{options}))"
            )
        rel = self.con.sql(f"SELECT * FROM {source} LIMIT 0")
        cols = [
            (name, quote_ident(name), dtype)
            for name, dtype in zip(rel.columns, rel.dtypes, strict=True)
            if name not in (_POS, _RID) and name.lower() not in _RESERVED
        ]
        self.build_level(self.table, source, cols, self.max_nesting, parent=None)

    def makes_child_tables(self) -> bool:
        """Whether some staged field is a list that may become a child table."""
        if self.nested_as_json or self.max_nesting == 0:
            return False
        return any("[]" in dtype for _, dtype in self.known_columns or [])

    def record_source(self) -> str:
        """A view of the staged records read with the columns the staging area inferred:
        nothing is materialized, each use streams the files.

        Row positions come from each file's first row number (known from staging) plus the
        record's index in the file's array, so they equal the scan order's row_number() and
        the files are still read in parallel.
        """
        if self.first_rows is None:
            # file -> its first row's position, looked up once per file (one row per file
            # before the unnest); a join here reordered the rows, a constant MAP does not
            entries, first = [], 0
            for path, count in self.file_rows or []:
                entries.append(f"{quote_literal(str(path))}: {first}::BIGINT")
                first += count
            self.first_rows = f"MAP {{{', '.join(entries)}}}"
        fields = self.known_columns or []
        struct = "STRUCT(" + ", ".join(f"{quote_ident(n)} {t}" for n, t in fields) + ")[]"
        files = ", ".join(quote_literal(str(p)) for p, _ in self.file_rows or [])
        view = self.temp_name("src")
        self.con.execute(
            f"CREATE TEMP VIEW {view} AS SELECT unnest(__ra_rec), {_POS}, "
            f"md5({quote_literal(self.load_id)} || '/' || {_POS}::VARCHAR) AS {_RID} FROM ("
            f"SELECT unnest(r.json) AS __ra_rec, map_extract_value({self.first_rows}, "
            f"r.filename) + generate_subscripts(r.json, 1) AS {_POS} FROM read_json([{files}], "
            f"format = 'unstructured', records = false, "
            f"columns = {{'json': {quote_literal(struct)}}}, filename = true) r)"
        )
        return view

    def build_level(
        self,
        table: str,
        source: str,
        cols: list[tuple[str, str, duckdb.DuckDBPyType]],
        remaining: int | None,
        parent: str | None,
    ) -> None:
        is_root = parent is None
        flat_cols: list[_FlatCol] = []
        lists: list[_ListCol] = []
        for name, expr, dtype in cols:
            self.walk(name, expr, dtype, remaining, is_root, flat_cols, lists)
        flat_cols = _dedupe_names(flat_cols)
        select = [f"{c.expr} AS {quote_ident(c.name)}" for c in flat_cols]
        flat = self.temp_name("flat")
        plan = _TablePlan(table=table, flat=flat, is_root=is_root, cols=flat_cols)
        qualify = ""
        if is_root:
            select.append(f"{_RID} AS {ROW_ID}")
            plan.meta = [(ROW_ID, ROW_ID, "VARCHAR")]
            if self.partition_key is not None:
                plan.meta.append((PARTITION_COLUMN, quote_literal(self.partition_key), "VARCHAR"))
            if self.disposition == "merge" and self.primary_key:
                by_name = {c.name.lower(): c for c in flat_cols}
                missing = [k for k in self.primary_key if k.lower() not in by_name]
                if missing:
                    raise LoadError(
                        f"primary key column(s) {', '.join(missing)} not found in the records "
                        f"of {self.schema}.{self.table}; columns: "
                        f"{', '.join(c.name for c in flat_cols)}"
                    )
                keys = ", ".join(by_name[k.lower()].expr for k in self.primary_key)
                # ORDER BY: the survivors keep staging order (a window's output order is
                # arbitrary, and streamed files arrive from several threads)
                qualify = (
                    f" QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {_POS} DESC) = 1"
                    f" ORDER BY {_POS}"
                )
        else:
            select += [
                f"{_PARENT} AS {PARENT_ID}",
                f"{_IDX} AS {LIST_IDX}",
                f"{_ROOT} AS {ROOT_ID}",
                f"{_RID} AS {ROW_ID}",
            ]
            plan.meta = [
                (PARENT_ID, PARENT_ID, "VARCHAR"),
                (LIST_IDX, LIST_IDX, "BIGINT"),
                (ROOT_ID, ROOT_ID, "VARCHAR"),
                (ROW_ID, ROW_ID, "VARCHAR"),
            ]
        # A view, not a copy: the projection is cheap and DuckDB evaluates it while inserting,
        # so the rows are not held twice. A merge's dedup (a window) is computed once instead.
        kind = "TABLE" if qualify else "VIEW"
        self.con.execute(
            f"CREATE TEMP {kind} {flat} AS SELECT {', '.join(select)} FROM {source}{qualify}"
        )
        rel = self.con.sql(f"SELECT * FROM {flat} LIMIT 0")
        plan.types = {n: str(t) for n, t in zip(rel.columns, rel.dtypes, strict=True)}
        self.plans.append(plan)

        deduped = is_root and bool(qualify)
        for lst in lists:
            self.build_child(table, source, flat if deduped else None, lst, is_root)

    def walk(
        self,
        name: str,
        expr: str,
        dtype: duckdb.DuckDBPyType,
        remaining: int | None,
        is_root: bool,
        flat: list[_FlatCol],
        lists: list[_ListCol],
    ) -> None:
        spec = self.specs_lower.get(name.lower()) if is_root else None
        hinted = spec is not None and spec.duckdb_type is not None  # a type stops flattening
        kind = dtype.id
        if kind == "struct" and dtype.children and not hinted and remaining != 0:
            for field_name, field_type in dtype.children:
                self.walk(
                    f"{name}__{field_name}",
                    f"struct_extract({expr}, {quote_literal(field_name)})",
                    field_type,
                    _dec(remaining),
                    is_root,
                    flat,
                    lists,
                )
        elif kind == "list" and not hinted and remaining != 0 and not self.nested_as_json:
            lists.append(_ListCol(name, expr, dtype.children[0][1], _dec(remaining)))
        elif kind in ("struct", "list", "map", "array", "union"):
            flat.append(_FlatCol(name, f"to_json({expr})", is_json=True))
        else:
            flat.append(_FlatCol(name, expr))

    def build_child(
        self,
        parent_table: str,
        parent_source: str,
        kept_rows: str | None,
        lst: _ListCol,
        parent_is_root: bool,
    ) -> None:
        child = self.temp_name("src")
        root = _RID if parent_is_root else _ROOT
        where = f" WHERE {_RID} IN (SELECT {ROW_ID} FROM {kept_rows})" if kept_rows else ""
        self.con.execute(
            f"CREATE TEMP VIEW {child} AS SELECT "
            f"md5({_PARENT} || '/' || {_IDX}::VARCHAR) AS {_RID}, {_PARENT}, {_ROOT}, {_IDX}, "
            f"{_VALUE} FROM (SELECT {_RID} AS {_PARENT}, {root} AS {_ROOT}, "
            f"unnest({lst.expr}) AS {_VALUE}, unnest(range(len({lst.expr}))) AS {_IDX} "
            f"FROM {parent_source}{where})"
        )
        element = lst.element
        if element.id == "struct" and element.children:
            cols = [
                (n, f"struct_extract({_VALUE}, {quote_literal(n)})", t)
                for n, t in element.children
                if n.lower() not in _RESERVED
            ]
        else:
            cols = [("value", _VALUE, element)]
        self.build_level(f"{parent_table}__{lst.name}", child, cols, lst.remaining, parent_table)

    # -- flattened temporary tables -> target tables

    def finalize(self, plan: _TablePlan) -> tuple[dict[str, str], dict[str, str]]:
        """Decide each column's staged type and expression; returns (exprs, types)."""
        flat_q = plan.flat
        json_cols = [c.name for c in plan.cols if plan.types[c.name] == "JSON" and not c.is_json]
        # No row count up front: a new child table is created, filled, and dropped again if
        # it stayed empty (`run`), which saves a full read of the staged files per list field.
        nested: dict[str, Any] = {}
        if json_cols:
            probes = [
                f"bool_or(json_type({quote_ident(n)}) IN ('OBJECT', 'ARRAY'))" for n in json_cols
            ]
            row = self.con.execute(f"SELECT {', '.join(probes)} FROM {flat_q}").fetchone()
            assert row is not None
            nested = dict(zip(json_cols, row, strict=True))
        exprs: dict[str, str] = {}
        types: dict[str, str] = {}
        for col in plan.cols:
            ident = quote_ident(col.name)
            staged = plan.types[col.name]
            if col.name in nested and not nested[col.name]:
                # a field whose type changed between pages: scalars as text, not JSON text
                exprs[col.name] = f"json_extract_string({ident}, '$')"
                staged = NULL_TYPE if nested[col.name] is None else "VARCHAR"
            else:
                exprs[col.name] = ident
            types[col.name] = staged
        if plan.is_root:
            present = {n.lower(): n for n in exprs}
            for spec in self.specs.values():
                name = present.get(spec.name.lower())
                if spec.duckdb_type is None:
                    continue
                if name is None:
                    exprs[spec.name] = f"CAST(NULL AS {spec.duckdb_type})"
                elif spec.duckdb_type == "JSON":
                    if types[name] != "JSON":
                        exprs[name] = f"to_json({exprs[name]})"
                else:
                    exprs[name] = f"CAST({exprs[name]} AS {spec.duckdb_type})"
                types[name if name is not None else spec.name] = spec.duckdb_type
            self.check_not_null(plan, exprs)
        return exprs, types

    def check_not_null(self, plan: _TablePlan, exprs: dict[str, str]) -> None:
        present = {n.lower(): n for n in exprs}
        required = [s for s in self.specs.values() if not s.nullable]
        if not required:
            return
        probes = [
            f"count(*) FILTER (WHERE {exprs[present[s.name.lower()]]} IS NULL)"
            if s.name.lower() in present
            else "count(*)"  # the column is absent from every record
            for s in required
        ]
        row = self.con.execute(f"SELECT {', '.join(probes)} FROM {plan.flat}").fetchone()
        assert row is not None
        bad = [f"{s.name} ({n} rows)" for s, n in zip(required, row, strict=True) if n]
        if bad:
            raise LoadError(
                f"NULL values in non-nullable column(s) of {self.schema}.{self.table}: "
                f"{', '.join(bad)}"
            )

    def evolve(
        self, plan: _TablePlan, types: dict[str, str]
    ) -> tuple[str, dict[str, tuple[str, str]], bool]:
        """Create or alter the target table.

        Returns its actual name, (name, type) by column, and whether this load created it.
        """
        existing_name = _table_name(self.con, self.catalog, self.schema, plan.table)
        wanted = [*types.items(), (LOAD_ID, "VARCHAR"), *((m, t) for m, _, t in plan.meta)]
        created = existing_name is None
        if existing_name is None:
            defs = ", ".join(
                f"{quote_ident(n)} {'VARCHAR' if t == NULL_TYPE else t}" for n, t in wanted
            )
            target = self.target(plan.table)
            self.con.execute(f"CREATE TABLE {target} ({defs})")
            if not plan.is_root:
                marker = orjson.dumps({_COMMENT_KEY: self.table}).decode()
                self.con.execute(f"COMMENT ON TABLE {target} IS {quote_literal(marker)}")
            existing_name = plan.table
        else:
            target = self.target(existing_name)
            current = {
                n.lower(): (n, t)
                for n, t in _table_columns(self.con, self.catalog, self.schema, existing_name)
            }
            for name, staged in wanted:
                found = current.get(name.lower())
                if found is None:
                    dtype = "VARCHAR" if staged == NULL_TYPE else staged
                    self.con.execute(f"ALTER TABLE {target} ADD COLUMN {quote_ident(name)} {dtype}")
                    continue
                actual, old = found
                if staged == NULL_TYPE or canonical_type(staged) == canonical_type(old):
                    continue
                new = widen(old, staged)
                if _count_non_null(self.con, target, actual) == 0:
                    new = staged  # a column that never held a value takes the new type as is
                if canonical_type(new) == canonical_type(old):
                    continue
                self.con.execute(
                    f"ALTER TABLE {target} ALTER COLUMN {quote_ident(actual)} SET DATA TYPE {new}"
                )
        final = {
            n.lower(): (n, t)
            for n, t in _table_columns(self.con, self.catalog, self.schema, existing_name)
        }
        return existing_name, final, created

    def run(self) -> LoadResult:
        self.con.execute(
            f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.catalog)}.{quote_ident(self.schema)}"
        )
        if not self.files:
            return self.run_empty()
        self.ensure_newest_load_id()
        self.stage()
        prepared = []
        for plan in self.plans:
            exprs, types = self.finalize(plan)
            actual, final, created = self.evolve(plan, types)
            select = []
            for name, expr in exprs.items():
                target_name, target_type = final[name.lower()]
                if canonical_type(target_type) != canonical_type(types[name]):
                    expr = f"CAST({expr} AS {target_type})"
                select.append((target_name, expr))
            select.append((final[LOAD_ID.lower()][0], quote_literal(self.load_id)))
            for meta_name, meta_expr, _ in plan.meta:
                select.append((final[meta_name.lower()][0], meta_expr))
            prepared.append((plan, actual, select, created))

        root_actual = prepared[0][1]
        root_target = self.target(root_actual)
        new_tables = {actual for _, actual, _, created in prepared if created}
        children = [
            name
            for name in _child_tables_of(self.con, self.catalog, self.schema, root_actual)
            if name not in new_tables  # nothing to delete from a table this load created
        ]
        if self.disposition == "replace" and self.replace_partitions is not None:
            self.delete_partitions(root_actual, children)
        elif self.disposition == "replace":
            for name in [root_actual, *children]:
                self.con.execute(f"DELETE FROM {self.target(name)}")
        elif self.disposition == "merge" and self.primary_key:
            self.delete_merged(prepared[0][0], prepared[0][2], root_target, children)

        written: dict[str, int] = {}
        for plan, actual, select, created in prepared:
            cols = ", ".join(quote_ident(n) for n, _ in select)
            values = ", ".join(e for _, e in select)
            row = self.con.execute(
                f"INSERT INTO {self.target(actual)} ({cols}) SELECT {values} FROM {plan.flat}"
            ).fetchone()
            count = int(row[0]) if row else 0
            if created and count == 0 and not plan.is_root:
                # an always-empty list: no child table for it (yet)
                self.con.execute(f"DROP TABLE {self.target(actual)}")
                continue
            written[actual] = count
        rows_written = written.pop(root_actual)
        return self.result(root_actual, rows_written, written)

    def delete_merged(
        self,
        plan: _TablePlan,
        select: list[tuple[str, str]],
        root_target: str,
        children: list[str],
    ) -> None:
        by_name = {n.lower(): (n, e) for n, e in select}
        keys = [by_name[k.lower()] for k in self.primary_key]
        staged_keys = ", ".join(
            f"{e} AS {quote_ident(f'__ra_k{i}')}" for i, (_, e) in enumerate(keys)
        )
        match = " AND ".join(
            f"t.{quote_ident(n)} IS NOT DISTINCT FROM s.{quote_ident(f'__ra_k{i}')}"
            for i, (n, _) in enumerate(keys)
        )
        staged = f"(SELECT DISTINCT {staged_keys} FROM {plan.flat})"
        if children:
            replaced = self.temp_name("replaced")
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

    def ensure_newest_load_id(self) -> None:
        """Make this load's id sort after every load already in the table.

        Dependent assets read "parent rows after the load id I handled last"; an extraction
        that started before another but commits after it must not land below that cursor.
        Commits are serialised by the file lock, so checking inside the transaction is enough.
        """
        actual = _table_name(self.con, self.catalog, self.schema, self.table)
        if actual is None:
            return
        names = {
            n.lower(): n for n, _ in _table_columns(self.con, self.catalog, self.schema, actual)
        }
        if LOAD_ID.lower() not in names:
            return
        row = self.con.execute(
            f"SELECT max({quote_ident(names[LOAD_ID.lower()])}) FROM {self.target(actual)}"
        ).fetchone()
        newest = None if row is None or row[0] is None else str(row[0])
        if newest is None or self.load_id > newest:
            return
        candidate = new_load_id()
        self.load_id = candidate if candidate > newest else f"{newest}.{secrets.token_hex(3)}"

    def delete_partitions(self, root: str, children: list[str]) -> None:
        """A partitioned replace: delete only the rows of the partitions being loaded."""
        columns = {n.lower() for n, _ in _table_columns(self.con, self.catalog, self.schema, root)}
        if PARTITION_COLUMN not in columns:
            return  # no row was ever loaded for a partition
        keys = ", ".join(quote_literal(k) for k in self.replace_partitions or [])
        root_target = self.target(root)
        scoped = f"{quote_ident(PARTITION_COLUMN)} IN ({keys})"
        for child in children:
            self.con.execute(
                f"DELETE FROM {self.target(child)} WHERE {ROOT_ID} IN "
                f"(SELECT {ROW_ID} FROM {root_target} WHERE {scoped})"
            )
        self.con.execute(f"DELETE FROM {root_target} WHERE {scoped}")

    def run_empty(self) -> LoadResult:
        actual = _table_name(self.con, self.catalog, self.schema, self.table)
        if actual is None:
            return self.result(None, 0, {})
        if self.disposition == "replace" and self.replace_partitions is not None:
            children = _child_tables_of(self.con, self.catalog, self.schema, actual)
            self.delete_partitions(actual, children)
        elif self.disposition == "replace":
            for name in [actual, *_child_tables_of(self.con, self.catalog, self.schema, actual)]:
                self.con.execute(f"DELETE FROM {self.target(name)}")
        return self.result(actual, 0, {})

    def result(self, actual: str | None, rows_written: int, children: dict[str, int]) -> LoadResult:
        name = actual or self.table
        if actual is None:
            row_count, columns = 0, []
        else:
            row_count = _count(self.con, self.target(actual))
            columns = _table_columns(self.con, self.catalog, self.schema, actual)
        return LoadResult(
            row_count=row_count,
            rows_written=rows_written,
            columns=columns,
            child_tables=children,
            table_name=format_table_name(self.schema, name),
            schema=self.schema,
            table=name,
            load_id=self.load_id,
        )


def _count_non_null(con: duckdb.DuckDBPyConnection, target: str, column: str) -> int:
    row = con.execute(f"SELECT count({quote_ident(column)}) FROM {target}").fetchone()
    return int(row[0]) if row else 0


def _dedupe_names(cols: list[_FlatCol]) -> list[_FlatCol]:
    # DuckDB names are case-insensitive: "Id" and "id", or "a__b" and {"a": {"b"}}, would clash
    seen: set[str] = set()
    for col in cols:
        name, n = col.name, 1
        while name.lower() in seen or name.lower() in _RESERVED:
            n += 1
            name = f"{col.name}_{n}"
        col.name = name
        seen.add(name.lower())
    return cols


# --------------------------------------------------------------------------- public API


def format_table_name(schema: str, table: str) -> str:
    """``schema.table`` for metadata; a part holding a dot or a double quote is double-quoted."""

    def part(name: str) -> str:
        return quote_ident(name) if ("." in name or '"' in name) else name

    return f"{part(schema)}.{part(table)}"


def parse_table_name(text: str) -> tuple[str, str]:
    """Inverse of :func:`format_table_name`: ``(schema, table)``."""
    parts: list[str] = []
    i, n = 0, len(text)
    while i <= n:
        if i < n and text[i] == '"':
            j, buf = i + 1, []
            while j < n:
                if text[j] == '"':
                    if j + 1 < n and text[j + 1] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            parts.append("".join(buf))
            i = j + 2  # skip closing quote and the dot
        else:
            j = text.find(".", i) if len(parts) == 0 else -1
            end = n if j < 0 else j
            parts.append(text[i:end])
            i = end + 1
        if i > n:
            break
    if len(parts) != 2:
        raise ValueError(f"not a schema.table name: {text!r}")
    return parts[0], parts[1]


def commit(
    database: PathOrStr,
    schema: str,
    table: str,
    staging: StagingArea | Iterable[PathOrStr],
    *,
    write_disposition: str,
    primary_key: str | Sequence[str] | None = None,
    columns: Mapping[str, Any] | None = None,
    max_table_nesting: int | None = None,
    nested_as_json: bool = False,
    load_id: str,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    partition_key: str | None = None,
    replace_partitions: Sequence[str] | None = None,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
    ledger: LedgerEntry | None = None,
) -> LoadResult:
    """Commit staged batches into ``schema.table`` of a DuckDB file in one transaction.

    ``staging`` is a :class:`StagingArea` (or staged JSON-array file paths, oldest first).
    ``write_disposition`` is ``replace``, ``append`` or ``merge`` (by ``primary_key``, single or
    composite; within one load the last record of a key wins; merge without a key appends).
    ``columns`` are explicit column specs (see :func:`rest_assets.load.schema.normalize_columns`).
    Nested objects and lists go to ``parent__child`` columns and ``<table>__<field>`` child
    tables up to ``max_table_nesting`` levels (``None``: no limit); deeper values, and all lists
    when ``nested_as_json``, are stored as JSON. Any failure rolls the whole load back.

    Partitioned loads: with ``partition_key`` every root row gets it in ``_ra_partition``; a
    ``replace`` with ``replace_partitions`` deletes only the rows (and their child rows) whose
    ``_ra_partition`` is one of those keys, instead of the whole table.

    ``ledger`` (stateful loads): checked and recorded in the same transaction, see
    :mod:`rest_assets.load.ledger`; a lost race raises ``ConcurrentLoadError``.

    ``memory_limit`` caps DuckDB's buffer memory during the commit (a DuckDB size such as
    ``"512MB"``; None: DuckDB's default, 80% of RAM): beyond it the temporary tables spill to
    disk next to the database, so memory stays flat as loads grow.
    """
    if write_disposition not in WRITE_DISPOSITIONS:
        raise ConfigError(
            f"write_disposition must be one of {', '.join(WRITE_DISPOSITIONS)}, "
            f"got {write_disposition!r}"
        )
    if max_table_nesting is not None and max_table_nesting < 0:
        raise ConfigError(f"max_table_nesting must be >= 0, got {max_table_nesting}")
    specs = normalize_columns(columns)  # fails before the database is touched
    keys = [primary_key] if isinstance(primary_key, str) else [str(k) for k in primary_key or []]
    files = staging.files if isinstance(staging, StagingArea) else [Path(p) for p in staging]

    known = file_rows = None
    if isinstance(staging, StagingArea) and staging.has_fields and files:
        known = staging.inferred_columns()
        file_rows = staging.file_rows

    con = connect(database, lock_timeout=lock_timeout)
    try:
        con.execute("SET SESSION TimeZone = 'UTC'")
        _tune(con, memory_limit)
        if file_rows and not known:
            # the background probe could not settle the schema: infer it over all files now,
            # then stream the records all the same (nothing materialized, memory stays flat)
            known = _infer_columns(con, files)
        con.execute("BEGIN TRANSACTION")
        try:

            def attempt(columns_known: list[tuple[str, str]] | None) -> LoadResult:
                return _Commit(
                    con,
                    schema,
                    table,
                    files,
                    has_fields=getattr(staging, "has_fields", True),
                    write_disposition=write_disposition,
                    primary_key=keys,
                    specs=specs,
                    max_table_nesting=max_table_nesting,
                    nested_as_json=nested_as_json,
                    load_id=load_id,
                    partition_key=partition_key,
                    replace_partitions=replace_partitions,
                    known_columns=columns_known,
                    file_rows=file_rows,
                ).run()

            def restart() -> None:
                # the failed statement aborted the transaction: start it again
                con.execute("ROLLBACK")
                con.execute("BEGIN TRANSACTION")

            limited = bool(memory_limit)
            while True:
                try:
                    try:
                        result = attempt(known)
                    except duckdb.OutOfMemoryException:
                        raise
                    except duckdb.Error:
                        if known is None:
                            raise
                        # e.g. a value the pre-inferred type cannot hold: let DuckDB infer
                        restart()
                        result = attempt(None)
                    break
                except duckdb.OutOfMemoryException:
                    if not limited:
                        raise
                    # some loads need more than the cap and cannot spill (very wide records:
                    # DuckDB buffers every column): this one runs with DuckDB's default
                    restart()
                    con.execute("RESET memory_limit")
                    limited = False
            if ledger is not None:
                # same transaction as the data: refused as a whole if another run won
                check_and_record(con, schema, table, result.load_id, ledger)
            _test_hook_before_commit()
            con.execute("COMMIT")
        except BaseException as exc:
            # the transaction may already be aborted; closing the connection discards it
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):
                raise LoadError(
                    f"loading {format_table_name(schema, table)} failed and was rolled back "
                    f"(the table is unchanged): {exc}"
                ) from exc
            raise
    finally:
        con.close()
    return result


def _infer_columns(
    con: duckdb.DuckDBPyConnection, files: list[Path]
) -> list[tuple[str, str]] | None:
    """The columns DuckDB infers over all staged files (None if it cannot: the load then
    takes the path that reports DuckDB's own error)."""
    listed = ", ".join(quote_literal(str(p)) for p in files)
    try:
        rows = con.execute(
            f"DESCRIBE SELECT * FROM read_json([{listed}], {READ_JSON_INFER})"
        ).fetchall()
    except duckdb.Error:
        return None
    return [(str(r[0]), str(r[1])) for r in rows] or None


def _tune(con: duckdb.DuckDBPyConnection, memory_limit: str | None) -> None:
    """Session settings for a commit (a connection serves one commit, then closes)."""
    if memory_limit:
        con.execute(f"SET memory_limit = {quote_literal(memory_limit)}")
    # Keeping the files' row order makes DuckDB buffer out-of-order chunks of its parallel
    # insert: under the memory cap that doubled the insert's time (200k records: 0.93 s ->
    # 0.57 s without it; 1M: 5.5 s -> 2.9 s, and a lower peak). Order within a load is kept
    # where it has meaning: "last one wins" for merge reads explicit row positions.
    con.execute("SET preserve_insertion_order = false")


def _test_hook_before_commit() -> None:
    """Off unless REST_ASSETS_TEST_COMMIT_MARKER is set: the fault-injection suite
    (tests/reliability) SIGKILLs a run here, with the load written but not committed. The hook
    touches that file, then sleeps REST_ASSETS_TEST_COMMIT_SLEEP seconds (default 0)."""
    marker = os.environ.get("REST_ASSETS_TEST_COMMIT_MARKER")
    if marker:
        Path(marker).touch()
        time.sleep(float(os.environ.get("REST_ASSETS_TEST_COMMIT_SLEEP") or 0))


def table_exists(
    database: PathOrStr, schema: str, table: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> bool:
    """Whether ``schema.table`` exists in the DuckDB file (False when the file does not)."""
    if not Path(database).exists():
        return False
    con = connect(database, read_only=True, lock_timeout=lock_timeout)
    try:
        row = con.execute("SELECT current_database()").fetchone()
        return _table_name(con, str(row[0]) if row else "", schema, table) is not None
    finally:
        con.close()


def read_table(
    database: PathOrStr,
    schema: str,
    table: str,
    columns: Sequence[str] | None = None,
    where: str | None = None,
    *,
    params: Sequence[Any] | None = None,
    load_id_after: str | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> pd.DataFrame:
    """Read a table (optionally some columns) into a pandas DataFrame, read-only.

    ``where`` is an SQL predicate written by the caller (not user data; pass values through
    ``params`` with ``?`` placeholders). ``load_id_after`` keeps rows whose ``_ra_load_id``
    sorts after it (load ids from :func:`rest_assets.load.staging.new_load_id` sort by time).
    Raises :class:`LoadError` when the table does not exist.
    """
    if not Path(database).exists():
        raise LoadError(f"table {schema}.{table} does not exist: no DuckDB file at {database}")
    con = connect(database, read_only=True, lock_timeout=lock_timeout)
    try:
        row = con.execute("SELECT current_database()").fetchone()
        catalog = str(row[0]) if row else ""
        actual = _table_name(con, catalog, schema, table)
        if actual is None:
            raise LoadError(f"table {schema}.{table} does not exist in {database}")
        cols = "*" if not columns else ", ".join(quote_ident(c) for c in columns)
        predicates, args = [], list(params or [])
        if where:
            predicates.append(f"({where})")
        if load_id_after is not None:
            predicates.append(f"{LOAD_ID} > ?")
            args.append(load_id_after)
        sql = f"SELECT {cols} FROM {_qualified(catalog, schema, actual)}"
        if predicates:
            sql += " WHERE " + " AND ".join(predicates)
        return con.execute(sql, args).df()
    finally:
        con.close()
