"""Flattening plans: the SQL that turns staged records into one relation per target table.

A plan is built from the staged records' DuckDB types alone (no rows are read): STRUCTs
flatten to ``parent__child`` columns, LISTs become child tables ``<table>__<field>`` built
with ``unnest``; beyond ``max_table_nesting`` (or with ``nested_as_json``) nested values are
kept as JSON, and a column with an explicit type is not flattened. Each :class:`TablePlan`
holds the statements creating its flattened relation; the commit runs them in plan order
(a child's statements read its parent's relations), reads each relation's types, and then
asks :func:`column_exprs` for each column's expression and staged type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from rest_assets.config.columns import ColumnSpec
from rest_assets.load.column_types import NULL_TYPE
from rest_assets.load.columns import (
    IDX,
    LIST_IDX,
    PARENT,
    PARENT_ID,
    PARTITION_COLUMN,
    POS,
    RESERVED,
    RID,
    ROOT,
    ROOT_ID,
    ROW_ID,
    VALUE,
)
from rest_assets.load.errors import LoadError
from rest_assets.load.spec import LoadSpec
from rest_assets.load.sql import quote_ident, quote_literal

if TYPE_CHECKING:
    from duckdb.sqltypes import DuckDBPyType

# a staged column: its name, the SQL expression reading it, and its DuckDB type
SourceColumn = tuple[str, str, "DuckDBPyType"]


@dataclass
class FlatColumn:
    name: str
    expr: str
    is_json: bool = False  # produced by to_json: holds objects/arrays


@dataclass(frozen=True)
class _ListColumn:
    name: str
    expr: str
    element: DuckDBPyType
    remaining: int | None


@dataclass
class TablePlan:
    """One target table: the temporary relation of its flattened rows and how to make it."""

    table: str
    flat: str  # temporary view (or table, for a merge's de-duplicated root) of the rows
    is_root: bool
    statements: list[str]  # create `flat` (a child: its source view first)
    cols: list[FlatColumn]
    meta: list[tuple[str, str, str]]  # rest-assets' own columns: name, expr, type
    types: dict[str, str] = field(default_factory=dict)  # column -> type, once `flat` exists


class TempNames:
    """Names of a commit's temporary relations: ``__ra_<kind><n>``."""

    def __init__(self) -> None:
        self._count = 0

    def __call__(self, kind: str) -> str:
        self._count += 1
        return f"__ra_{kind}{self._count}"


def plan_tables(
    spec: LoadSpec, source: str, columns: list[SourceColumn], names: TempNames
) -> list[TablePlan]:
    """The root table's plan, then its child tables' (depth first), for the staged records
    in relation ``source`` (which has the row position and row id columns too)."""
    planner = _Planner(spec, names)
    planner.level(_Level(spec.table, source, spec.max_table_nesting, True), columns)
    return planner.plans


def makes_child_tables(spec: LoadSpec, columns: list[tuple[str, str]]) -> bool:
    """Whether some staged field (``(name, DuckDB type)``) is a list that may become a child
    table."""
    if spec.nested_as_json or spec.max_table_nesting == 0:
        return False
    return any("[]" in dtype for _, dtype in columns)


def _dec(remaining: int | None) -> int | None:
    return None if remaining is None else remaining - 1


def _children(dtype: DuckDBPyType) -> list[tuple[str, DuckDBPyType]]:
    # a STRUCT's or LIST's children are types (a DECIMAL's or ENUM's are not: never asked)
    return cast("list[tuple[str, DuckDBPyType]]", dtype.children)


def _dedupe_names(cols: list[FlatColumn]) -> list[FlatColumn]:
    # DuckDB names are case-insensitive: "Id" and "id", or "a__b" and {"a": {"b"}}, would clash
    seen: set[str] = set()
    for col in cols:
        name, n = col.name, 1
        while name.lower() in seen or name.lower() in RESERVED:
            n += 1
            name = f"{col.name}_{n}"
        col.name = name
        seen.add(name.lower())
    return cols


@dataclass(frozen=True)
class _Level:
    """One table being planned: where its rows come from and how deep it may still nest."""

    table: str
    source: str  # relation holding the rows (the staged records, or a child's unnest view)
    remaining: int | None  # nesting levels left (None: no limit)
    is_root: bool
    statements: tuple[str, ...] = ()  # creating `source`, for a child


@dataclass
class _Walked:
    """What walking a level's columns found: flat columns, and list fields (child tables)."""

    flat: list[FlatColumn] = field(default_factory=list)
    lists: list[_ListColumn] = field(default_factory=list)


_ROOT_META = [(ROW_ID, ROW_ID, "VARCHAR")]
_CHILD_META = [
    (PARENT_ID, PARENT_ID, "VARCHAR"),
    (LIST_IDX, LIST_IDX, "BIGINT"),
    (ROOT_ID, ROOT_ID, "VARCHAR"),
    (ROW_ID, ROW_ID, "VARCHAR"),
]
_CHILD_SELECT = [
    f"{PARENT} AS {PARENT_ID}",
    f"{IDX} AS {LIST_IDX}",
    f"{ROOT} AS {ROOT_ID}",
    f"{RID} AS {ROW_ID}",
]


class _Planner:
    def __init__(self, spec: LoadSpec, names: TempNames) -> None:
        self.spec = spec
        self.names = names
        self.hints = {k.lower(): v for k, v in spec.column_specs.items()}
        self.plans: list[TablePlan] = []

    def level(self, level: _Level, cols: list[SourceColumn]) -> None:
        """Plan one table from the columns of its source, then its list fields' tables."""
        walked = _Walked()
        for col in cols:
            self.walk(col, level.remaining, level.is_root, walked)
        flat_cols = _dedupe_names(walked.flat)
        select = [f"{c.expr} AS {quote_ident(c.name)}" for c in flat_cols]
        if level.is_root:
            select.append(f"{RID} AS {ROW_ID}")
            meta = list(_ROOT_META)
            if self.spec.partition_key is not None:
                meta.append((PARTITION_COLUMN, quote_literal(self.spec.partition_key), "VARCHAR"))
            qualify = self.merge_dedup(flat_cols)
        else:
            select += _CHILD_SELECT
            meta = list(_CHILD_META)
            qualify = ""
        flat = self.names("flat")
        # A view, not a copy: the projection is cheap and DuckDB evaluates it while inserting,
        # so the rows are not held twice. A merge's dedup (a window) is computed once instead.
        kind = "TABLE" if qualify else "VIEW"
        create = (
            f"CREATE TEMP {kind} {flat} AS SELECT {', '.join(select)} FROM {level.source}{qualify}"
        )
        statements = [*level.statements, create]
        self.plans.append(TablePlan(level.table, flat, level.is_root, statements, flat_cols, meta))
        kept_rows = flat if level.is_root and qualify else None
        for lst in walked.lists:
            self.child(level, kept_rows, lst)

    def merge_dedup(self, flat_cols: list[FlatColumn]) -> str:
        """A merge keeps the last staged record of each key: the QUALIFY clause doing it."""
        keys = self.spec.primary_key
        if self.spec.write_disposition != "merge" or not keys:
            return ""
        by_name = {c.name.lower(): c for c in flat_cols}
        missing = [k for k in keys if k.lower() not in by_name]
        if missing:
            raise LoadError(
                f"primary key column(s) {', '.join(missing)} not found in the records "
                f"of {self.spec.schema}.{self.spec.table}; columns: "
                f"{', '.join(c.name for c in flat_cols)}"
            )
        partition = ", ".join(by_name[k.lower()].expr for k in keys)
        # ORDER BY: the survivors keep staging order (a window's output order is arbitrary,
        # and streamed files arrive from several threads)
        return (
            f" QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY {POS} DESC) = 1"
            f" ORDER BY {POS}"
        )

    def walk(self, col: SourceColumn, remaining: int | None, is_root: bool, out: _Walked) -> None:
        """One staged column: flattened into ``out.flat``, or a list field into ``out.lists``."""
        name, expr, dtype = col
        hint = self.hints.get(name.lower()) if is_root else None
        typed = hint is not None and hint.duckdb_type is not None  # a type stops flattening
        kind = dtype.id
        if kind == "struct" and dtype.children and not typed and remaining != 0:
            for field_name, field_type in _children(dtype):
                nested = (
                    f"{name}__{field_name}",
                    f"struct_extract({expr}, {quote_literal(field_name)})",
                    field_type,
                )
                self.walk(nested, _dec(remaining), is_root, out)
        elif kind == "list" and not typed and remaining != 0 and not self.spec.nested_as_json:
            out.lists.append(_ListColumn(name, expr, _children(dtype)[0][1], _dec(remaining)))
        elif kind in ("struct", "list", "map", "array", "union"):
            out.flat.append(FlatColumn(name, f"to_json({expr})", is_json=True))
        else:
            out.flat.append(FlatColumn(name, expr))

    def child(self, parent: _Level, kept_rows: str | None, lst: _ListColumn) -> None:
        """The child table of one list field: a view unnesting it, planned as a level.

        ``kept_rows`` (a merge) holds the parent rows that survive de-duplication: only
        their list items become child rows.
        """
        source = self.names("src")
        root = RID if parent.is_root else ROOT
        where = f" WHERE {RID} IN (SELECT {ROW_ID} FROM {kept_rows})" if kept_rows else ""
        view = (
            f"CREATE TEMP VIEW {source} AS SELECT "
            f"md5({PARENT} || '/' || {IDX}::VARCHAR) AS {RID}, {PARENT}, {ROOT}, {IDX}, "
            f"{VALUE} FROM (SELECT {RID} AS {PARENT}, {root} AS {ROOT}, "
            f"unnest({lst.expr}) AS {VALUE}, unnest(range(len({lst.expr}))) AS {IDX} "
            f"FROM {parent.source}{where})"
        )
        element = lst.element
        cols: list[SourceColumn]
        if element.id == "struct" and element.children:
            cols = [
                (n, f"struct_extract({VALUE}, {quote_literal(n)})", t)
                for n, t in _children(element)
                if n.lower() not in RESERVED
            ]
        else:
            cols = [("value", VALUE, element)]
        table = f"{parent.table}__{lst.name}"
        self.level(_Level(table, source, lst.remaining, False, (view,)), cols)


# ----------------------------------------------------------------- columns of a flat relation


def json_probe(plan: TablePlan) -> tuple[list[str], str | None]:
    """Columns DuckDB typed JSON (a field whose type changed between pages) and the query
    telling, for each, whether any value is an object or array (None: no such column)."""
    json_cols = [c.name for c in plan.cols if plan.types[c.name] == "JSON" and not c.is_json]
    if not json_cols:
        return [], None
    probes = [f"bool_or(json_type({quote_ident(n)}) IN ('OBJECT', 'ARRAY'))" for n in json_cols]
    return json_cols, f"SELECT {', '.join(probes)} FROM {plan.flat}"


def column_exprs(
    plan: TablePlan, nested: Mapping[str, bool | None], specs: Mapping[str, ColumnSpec]
) -> tuple[dict[str, str], dict[str, str]]:
    """Each column's expression and staged type, given :func:`json_probe`'s answers
    (``nested``) and, for the root table, the explicit column types."""
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
        _apply_explicit_types(exprs, types, specs)
    return exprs, types


def _apply_explicit_types(
    exprs: dict[str, str], types: dict[str, str], specs: Mapping[str, ColumnSpec]
) -> None:
    present = {n.lower(): n for n in exprs}
    for spec in specs.values():
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


def not_null_probe(
    plan: TablePlan, exprs: Mapping[str, str], specs: Mapping[str, ColumnSpec]
) -> tuple[list[ColumnSpec], str] | None:
    """The non-nullable columns and the query counting each one's NULLs (None: none)."""
    required = [s for s in specs.values() if not s.nullable]
    if not required:
        return None
    present = {n.lower(): n for n in exprs}
    probes = [
        f"count(*) FILTER (WHERE {exprs[present[s.name.lower()]]} IS NULL)"
        if s.name.lower() in present
        else "count(*)"  # the column is absent from every record
        for s in required
    ]
    return required, f"SELECT {', '.join(probes)} FROM {plan.flat}"
