"""Flattening plans: the SQL that turns staged records into one relation per target table.

A plan is built from the staged records' DuckDB types alone (no rows are read): STRUCTs
flatten to ``parent__child`` columns, LISTs become child tables ``<table>__<field>`` built
with ``unnest``; beyond ``max_table_nesting`` (or with ``nested_as_json``, or past the column
budget) nested values are kept as JSON (read as JSON already, see
:mod:`rest_assets.load.read_types`), and a column with an explicit type is not flattened.

Column and child table names follow the load's naming (:mod:`rest_assets.load.naming`).
When several fields of one table get the same name (``displayName`` and ``display_name``,
a literal ``a__b`` key and a nested ``a.b``), every value is kept: one field keeps the
name (:func:`rest_assets.load.naming.keeper_order`), the others get ``_2``, ``_3``...; a
field named like one of rest-assets' own columns gets the next free suffix too.

Each :class:`TablePlan` holds the statements creating its flattened relation; the commit
runs them in plan order (a child's statements read its parent's relations), reads each
relation's types, and then asks :func:`column_exprs` for each column's expression and
staged type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rest_assets.config.columns import ColumnSpec
from rest_assets.load.column_types import NULL_TYPE, canonical_type
from rest_assets.load.columns import (
    IDX,
    LIST_IDX,
    PARENT,
    PARENT_ID,
    PARTITION_COLUMN,
    POS,
    RESERVED,
    RESOURCE_COLUMN,
    RID,
    ROOT,
    ROOT_ID,
    ROW_ID,
    VALUE,
)
from rest_assets.load.naming import child_table_name, column_name, keeper_order
from rest_assets.load.read_types import Path, ReadPlan, children
from rest_assets.load.spec import LoadSpec
from rest_assets.load.sql import quote_ident, quote_literal

if TYPE_CHECKING:
    from duckdb.sqltypes import DuckDBPyType

# a staged column: its name, the SQL expression reading it, and its DuckDB type
SourceColumn = tuple[str, str, "DuckDBPyType"]


@dataclass
class FlatColumn:
    name: str  # the column's name in the table (set once the level's names are decided)
    expr: str
    path: Path  # the field's keys from the top of the table's rows
    is_json: bool = False  # holds objects/arrays as JSON (to_json, or read as JSON)
    number_text: bool = False  # a DOUBLE read as text: it may hold integers beyond 64 bits


@dataclass(frozen=True)
class _ListColumn:
    path: Path  # within its table
    expr: str
    element: DuckDBPyType
    remaining: int | None


@dataclass
class TablePlan:
    """One target table: the temporary relation of its flattened rows and how to make it."""

    table: str
    flat: str  # temporary view of the rows
    is_root: bool
    statements: list[str]  # create `flat` (a child: its source view first)
    cols: list[FlatColumn]
    meta: list[tuple[str, str, str]]  # rest-assets' own columns: name, expr, type
    types: dict[str, str] = field(default_factory=dict)  # column -> type, once `flat` exists
    parent: int | None = None  # index of the parent table's plan
    path: Path = ()  # the list field (from the root record) whose items this table holds


class TempNames:
    """Names of a commit's temporary relations: ``__ra_<kind><n>``."""

    def __init__(self) -> None:
        self._count = 0

    def __call__(self, kind: str) -> str:
        self._count += 1
        return f"__ra_{kind}{self._count}"


def plan_tables(
    spec: LoadSpec,
    source: str,
    columns: list[SourceColumn],
    names: TempNames,
    read: ReadPlan | None = None,
    reserved: Iterable[str] = (),
) -> list[TablePlan]:
    """The root table's plan, then its child tables' (depth first), for the staged records
    in relation ``source`` (which has the row position and row id columns too).

    ``read`` is how the records were read (None: DuckDB inferred as it read them);
    ``reserved`` are column names a record field may not take in the root table (a merge
    strategy's own columns), besides rest-assets' ``_ra_*`` columns.
    """
    planner = _Planner(spec, names, read, reserved)
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


def assign_names(
    cols: list[FlatColumn], spec: LoadSpec, reserved: Iterable[str] = ()
) -> list[FlatColumn]:
    """Give each column of one table its name: the field's name under the load's naming;
    fields that get the same name (DuckDB compares names case-insensitively) keep every
    value, ordered by :func:`keeper_order`, the others taking the next free ``_<n>``."""
    blocked = set(RESERVED) | {r.lower() for r in reserved}
    bases = [column_name(c.path, spec.naming) for c in cols]
    groups: dict[str, list[int]] = {}
    for i, base in enumerate(bases):
        groups.setdefault(base.lower(), []).append(i)
    taken: set[str] = set()
    later: list[tuple[int, str]] = []
    for key, members in groups.items():
        base = bases[members[0]]
        order = keeper_order([cols[i].path for i in members], base)
        first, rest = members[order[0]], [members[k] for k in order[1:]]
        if key in blocked:
            later.append((first, base))
        else:
            cols[first].name = base
            taken.add(key)
        later += [(i, base) for i in rest]
    for i, base in later:
        n = 2
        while f"{base}_{n}".lower() in taken or f"{base}_{n}".lower() in blocked:
            n += 1
        cols[i].name = f"{base}_{n}"
        taken.add(cols[i].name.lower())
    return cols


@dataclass(frozen=True)
class _Level:
    """One table being planned: where its rows come from and how deep it may still nest."""

    table: str
    source: str  # relation holding the rows (the staged records, or a child's unnest view)
    remaining: int | None  # nesting levels left (None: no limit)
    is_root: bool
    statements: tuple[str, ...] = ()  # creating `source`, for a child
    prefix: Path = ()  # the list field (from the root record) whose items these rows are
    parent: int | None = None


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
    def __init__(
        self, spec: LoadSpec, names: TempNames, read: ReadPlan | None, reserved: Iterable[str]
    ) -> None:
        self.spec = spec
        self.names = names
        self.hints = {k.lower(): v for k, v in spec.column_specs.items()}
        self.json_paths = read.json_paths if read is not None else set()
        self.text_json = read.text_json if read is not None else set()
        self.number_text = read.number_text if read is not None else set()
        self.reserved = tuple(reserved)
        self.plans: list[TablePlan] = []

    def level(self, level: _Level, cols: list[SourceColumn]) -> None:
        """Plan one table from the columns of its source, then its list fields' tables."""
        walked = _Walked()
        # dlt's order: a level's own fields first, then its objects' fields, the last object
        # first (dlt flattens with a stack), so columns come in the order dlt gives them
        stack: list[tuple[list[SourceColumn], Path, int | None]] = [(cols, (), level.remaining)]
        while stack:
            fields, path, remaining = stack.pop()
            for name, expr, dtype in fields:
                nested = self.walk(level, (*path, name), expr, dtype, remaining, walked)
                if nested is not None:
                    stack.append((nested, (*path, name), _dec(remaining)))
        reserved = self.reserved if level.is_root else ()
        flat_cols = assign_names(walked.flat, self.spec, reserved)
        select = [f"{c.expr} AS {quote_ident(c.name)}" for c in flat_cols]
        if level.is_root:
            select.append(f"{RID} AS {ROW_ID}")
            select.append(f"{POS} AS {POS}")  # staging order: which record of a key wins
            meta = list(_ROOT_META)
            if self.spec.partition_key is not None:
                meta.append((PARTITION_COLUMN, quote_literal(self.spec.partition_key), "VARCHAR"))
            if self.spec.resource is not None:
                meta.append((RESOURCE_COLUMN, quote_literal(self.spec.resource), "VARCHAR"))
        else:
            select += _CHILD_SELECT
            meta = list(_CHILD_META)
        flat = self.names("flat")
        # A view, not a copy: the projection is cheap and DuckDB evaluates it while inserting,
        # so the rows are not held twice.
        create = f"CREATE TEMP VIEW {flat} AS SELECT {', '.join(select)} FROM {level.source}"
        statements = [*level.statements, create]
        index = len(self.plans)
        self.plans.append(
            TablePlan(
                level.table,
                flat,
                level.is_root,
                statements,
                flat_cols,
                meta,
                parent=level.parent,
                path=level.prefix,
            )
        )
        tables = self.child_names(level, walked.lists)
        for lst, table in zip(walked.lists, tables, strict=True):
            self.child(level, index, lst, table)

    def child_names(self, level: _Level, lists: list[_ListColumn]) -> list[str]:
        """The child tables of a level's list fields, kept apart when two get one name."""
        cols = [FlatColumn("", "", lst.path) for lst in lists]
        named = assign_names(cols, self.spec)
        return [child_table_name(level.table, (c.name,), "direct") for c in named]

    def walk(
        self,
        level: _Level,
        path: Path,
        expr: str,
        dtype: DuckDBPyType,
        remaining: int | None,
        out: _Walked,
    ) -> list[SourceColumn] | None:
        """One staged field: a column in ``out.flat``, a list field (a child table) in
        ``out.lists``, or an object to flatten: its fields are returned."""
        full = (*level.prefix, *path)
        hint = None
        if level.is_root:
            hint = self.hints.get(column_name(path, self.spec.naming).lower())
        typed = hint is not None and hint.duckdb_type is not None  # a type stops flattening
        kind = dtype.id
        if full in self.text_json:
            out.flat.append(FlatColumn("", f"CAST({expr} AS JSON)", path, is_json=True))
        elif full in self.json_paths:
            out.flat.append(FlatColumn("", expr, path, is_json=True))
        elif kind == "struct" and children(dtype) and not typed and remaining != 0:
            return [
                (field_name, f"struct_extract({expr}, {quote_literal(field_name)})", field_type)
                for field_name, field_type in children(dtype)
            ]
        elif kind == "list" and not typed and remaining != 0 and not self.spec.nested_as_json:
            out.lists.append(_ListColumn(path, expr, children(dtype)[0][1], _dec(remaining)))
        elif kind in ("struct", "list", "map", "array", "union"):
            out.flat.append(FlatColumn("", f"to_json({expr})", path, is_json=True))
        else:
            out.flat.append(FlatColumn("", expr, path, number_text=full in self.number_text))
        return None

    def child(self, parent: _Level, index: int, lst: _ListColumn, table: str) -> None:
        """The child table of one list field: a view unnesting it, planned as a level."""
        source = self.names("src")
        root = RID if parent.is_root else ROOT
        view = (
            f"CREATE TEMP VIEW {source} AS SELECT "
            f"md5({PARENT} || '/' || {IDX}::VARCHAR) AS {RID}, {PARENT}, {ROOT}, {IDX}, "
            f"{VALUE} FROM (SELECT {RID} AS {PARENT}, {root} AS {ROOT}, "
            f"unnest({lst.expr}) AS {VALUE}, unnest(range(len({lst.expr}))) AS {IDX} "
            f"FROM {parent.source})"
        )
        element = lst.element
        cols: list[SourceColumn]
        if element.id == "struct" and children(element):
            cols = [
                (n, f"struct_extract({VALUE}, {quote_literal(n)})", t) for n, t in children(element)
            ]
        else:
            cols = [("value", VALUE, element)]
        prefix = (*parent.prefix, *lst.path)
        self.level(
            _Level(table, source, lst.remaining, False, (view,), prefix, index),
            cols,
        )


# ----------------------------------------------------------------- columns of a flat relation


def json_probe(plan: TablePlan) -> tuple[list[str], str | None]:
    """Columns DuckDB typed JSON (a field whose type changed between pages) and the query
    telling, for each, whether any value is an object or array (None: no such column)."""
    json_cols = [c.name for c in plan.cols if plan.types[c.name] == "JSON" and not c.is_json]
    if not json_cols:
        return [], None
    probes = [f"bool_or(json_type({quote_ident(n)}) IN ('OBJECT', 'ARRAY'))" for n in json_cols]
    return json_cols, f"SELECT {', '.join(probes)} FROM {plan.flat}"


_INTEGER_TEXT = "'-?[0-9]+'"


def number_probe(plan: TablePlan) -> tuple[list[str], str | None]:
    """Columns read as text that hold JSON numbers (a load with integers beyond 64 bits), and
    the query counting, for each, non-integers, integers beyond BIGINT and beyond HUGEINT."""
    cols = [c.name for c in plan.cols if c.number_text]
    if not cols:
        return [], None
    probes = []
    for name in cols:
        ident = quote_ident(name)
        integer = f"regexp_full_match({ident}, {_INTEGER_TEXT})"
        probes += [
            f"count(*) FILTER (WHERE {ident} IS NOT NULL AND NOT {integer})",
            f"count(*) FILTER (WHERE {integer} AND TRY_CAST({ident} AS BIGINT) IS NULL)",
            f"count(*) FILTER (WHERE {integer} AND TRY_CAST({ident} AS HUGEINT) IS NULL)",
        ]
    return cols, f"SELECT {', '.join(probes)} FROM {plan.flat}"


@dataclass(frozen=True)
class NumberCounts:
    """What :func:`number_probe` found in one column."""

    fractions: int
    beyond_bigint: int
    beyond_hugeint: int


def column_exprs(
    plan: TablePlan,
    nested: Mapping[str, bool | None],
    specs: Mapping[str, ColumnSpec],
    spec: LoadSpec,
    numbers: Mapping[str, NumberCounts] | None = None,
    notes: list[str] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Each column's expression and staged type, given :func:`json_probe`'s answers
    (``nested``), :func:`number_probe`'s (``numbers``) and, for the root table, the explicit
    column types; ``notes`` collects what the load should say about its choices."""
    exprs: dict[str, str] = {}
    types: dict[str, str] = {}
    for col in plan.cols:
        ident = quote_ident(col.name)
        staged = plan.types[col.name]
        expr = ident
        if col.name in nested and not nested[col.name]:
            # a field whose type changed between pages: scalars as text, not JSON text
            expr = f"json_extract_string({ident}, '$')"
            staged = NULL_TYPE if nested[col.name] is None else "VARCHAR"
        elif numbers is not None and col.name in numbers:
            expr, staged = _number_column(plan, col.name, numbers[col.name], notes)
        elif spec.type_inference == "dlt":
            expr, staged = _dlt_type(expr, staged)
        exprs[col.name] = expr
        types[col.name] = staged
    if plan.is_root:
        _apply_explicit_types(exprs, types, specs)
    return exprs, types


def _dlt_type(expr: str, staged: str) -> tuple[str, str]:
    """dlt's detections on a staged column: a naive timestamp is UTC; dates, times and UUIDs
    (typed so only when DuckDB inferred while reading) are text."""
    kind = canonical_type(staged)
    if kind == "TIMESTAMP":
        return f"timezone('UTC', {expr})", "TIMESTAMP WITH TIME ZONE"
    if kind in ("DATE", "TIME", "UUID", "TIME WITH TIME ZONE"):
        return f"CAST({expr} AS VARCHAR)", "VARCHAR"
    return expr, staged


def _number_column(
    plan: TablePlan, name: str, counts: NumberCounts, notes: list[str] | None
) -> tuple[str, str]:
    ident = quote_ident(name)
    if counts.beyond_bigint == 0:
        return f"CAST({ident} AS DOUBLE)", "DOUBLE"
    if counts.fractions == 0 and counts.beyond_hugeint == 0:
        return f"CAST({ident} AS HUGEINT)", "HUGEINT"
    if notes is not None:
        notes.append(
            f"{plan.table}.{name}: integers beyond 128 bits (or mixed with fractions) are kept "
            "as text, every digit exact"
        )
    return ident, "VARCHAR"


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
