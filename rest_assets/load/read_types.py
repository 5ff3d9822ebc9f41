"""The types staged records are read with, decided from the types DuckDB inferred for them.

DuckDB infers every field's type over all staged records (:mod:`rest_assets.load.probe`).
Before the records are read, those types are adjusted:

- fields that will be stored as JSON (nested deeper than ``max_table_nesting``, lists under
  ``nested_as_json``, objects past the column budget) are read as ``JSON``: DuckDB keeps
  their text as the API sent it and never builds a STRUCT of their fields;
- with ``type_inference: dlt``, DATE, TIME and UUID fields are read as text (dlt detects
  only ISO timestamps; ``"2024-01-06"`` and ``"00:30"`` stay text), naive TIMESTAMPs stay
  TIMESTAMP and are read as UTC by the flattening (:mod:`rest_assets.load.plan`);
- a DOUBLE field of a load whose records held integers beyond 64 bits is read as text, so
  the flattening can tell integers (HUGEINT) from fractions.

The walk follows the flattening's rules exactly (same nesting levels, same column budget),
so both agree on which field becomes what.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import duckdb

from rest_assets.config.columns import ColumnSpec
from rest_assets.load.naming import column_name
from rest_assets.load.sql import quote_ident

if TYPE_CHECKING:
    from duckdb.sqltypes import DuckDBPyType

    from rest_assets.load.spec import LoadSpec

Path = tuple[str, ...]

_NESTED = ("struct", "list", "map", "array", "union")
_DLT_TEXT = ("date", "time", "time with time zone", "uuid")


@dataclass
class ReadPlan:
    """How to read the staged records, and what that means for the flattening."""

    columns: list[tuple[str, str]]  # (field, DuckDB type to read it with)
    json_paths: set[Path] = field(default_factory=set)  # stored as JSON columns, read as JSON
    text_json: set[Path] = field(default_factory=set)  # staged as JSON text: read as text
    number_text: set[Path] = field(default_factory=set)  # DOUBLE read as text (big integers)
    leaves: int = 0  # columns the root table gets from its records
    notes: list[str] = field(default_factory=list)


def children(dtype: DuckDBPyType) -> list[tuple[str, DuckDBPyType]]:
    """A STRUCT's fields, or a LIST's element as ``[("child", type)]``."""
    return cast("list[tuple[str, DuckDBPyType]]", dtype.children)


def parse_type(text: str) -> DuckDBPyType:
    """A DuckDB type from its text, as DESCRIBE prints it."""
    return duckdb.sqltype(text)


def read_plan(
    columns: Iterable[tuple[str, str]],
    spec: LoadSpec,
    *,
    text_json: Iterable[Path] = (),
    big_integers: bool = False,
) -> ReadPlan:
    """The read types of the staged ``(field, inferred type)`` columns under ``spec``;
    ``text_json`` are fields the staged records hold as JSON text (values nested too deep
    for DuckDB, see :mod:`rest_assets.load.repair`), ``big_integers`` says some record held
    an integer beyond 64 bits."""
    walker = _Walker(spec, set(text_json), big_integers)
    fields = [(name, parse_type(text)) for name, text in columns]
    read = walker.level((), fields, spec.max_table_nesting, True, spec.table)
    return ReadPlan(
        read,
        walker.json_paths,
        walker.text_json,
        walker.number_text,
        walker.root_leaves,
        walker.notes,
    )


def type_text(dtype: DuckDBPyType) -> str:
    """A type as DuckDB parses it back (field names always quoted)."""
    kind = dtype.id
    if kind == "struct":
        inner = ", ".join(f"{quote_ident(n)} {type_text(t)}" for n, t in children(dtype))
        return f"STRUCT({inner})"
    if kind == "list":
        return f"{type_text(children(dtype)[0][1])}[]"
    if kind == "map":
        key, value = children(dtype)
        return f"MAP({type_text(key[1])}, {type_text(value[1])})"
    return str(dtype)


def explicit_type(specs: Mapping[str, ColumnSpec], path: Path, spec: LoadSpec) -> str | None:
    """A root column's explicit DuckDB type (which stops its flattening), if any."""
    hint = specs.get(column_name(path, spec.naming).lower())
    return None if hint is None else hint.duckdb_type


class _Walker:
    def __init__(self, spec: LoadSpec, text_json: set[Path], big_integers: bool) -> None:
        self.spec = spec
        self.hints = {k.lower(): v for k, v in spec.column_specs.items()}
        self.json_paths: set[Path] = set()
        self.text_json = text_json
        self.number_text: set[Path] = set()
        self.big_integers = big_integers
        self.root_leaves = 0
        self.notes: list[str] = []

    def level(
        self,
        prefix: Path,
        fields: list[tuple[str, DuckDBPyType]],
        remaining: int | None,
        is_root: bool,
        table: str,
    ) -> list[tuple[str, str]]:
        """One table's fields (the records', or a list's items') with their read types."""
        self.budget(prefix, fields, remaining, is_root, table)
        out = [
            (name, self.field((*prefix, name), dtype, remaining, is_root)) for name, dtype in fields
        ]
        if is_root:
            self.root_leaves = sum(
                self.width((*prefix, n), t, remaining, is_root) for n, t in fields
            )
        return out

    def flattens(
        self, path: Path, dtype: DuckDBPyType, remaining: int | None, is_root: bool
    ) -> str:
        """What the flattening makes of a field: ``struct`` (columns), ``list`` (a child
        table), ``json``, ``text_json`` (JSON text) or ``scalar``; mirrors
        :class:`rest_assets.load.plan._Planner`."""
        if path in self.text_json:
            return "text_json"
        if path in self.json_paths:
            return "json"
        typed = is_root and explicit_type(self.hints, path, self.spec) is not None
        kind = dtype.id
        if kind == "struct" and children(dtype) and not typed and remaining != 0:
            return "struct"
        if kind == "list" and not typed and remaining != 0 and not self.spec.nested_as_json:
            return "list"
        if kind in _NESTED and not typed:
            return "json"
        return "scalar"

    def width(self, path: Path, dtype: DuckDBPyType, remaining: int | None, is_root: bool) -> int:
        """Columns a field takes in its table (a list's items go to a child table: none)."""
        what = self.flattens(path, dtype, remaining, is_root)
        if what == "struct":
            return sum(
                self.width((*path, n), t, _dec(remaining), is_root) for n, t in children(dtype)
            )
        return 0 if what == "list" else 1

    def budget(
        self,
        prefix: Path,
        fields: list[tuple[str, DuckDBPyType]],
        remaining: int | None,
        is_root: bool,
        table: str,
    ) -> None:
        """Past the column budget, keep the widest objects of this table as JSON."""
        widths = {n: self.width((*prefix, n), t, remaining, is_root) for n, t in fields}
        total = sum(widths.values())
        limit = self.spec.max_columns
        if total <= limit:
            return
        objects = sorted(
            (
                n
                for n, t in fields
                if widths[n] > 1 and self.flattens((*prefix, n), t, remaining, is_root) == "struct"
            ),
            key=lambda n: (-widths[n], n),
        )
        kept: list[str] = []
        for name in objects:
            if total <= limit:
                break
            self.json_paths.add((*prefix, name))
            total -= widths[name] - 1
            kept.append(f"{'.'.join((*prefix, name))} ({widths[name]:,} fields)")
        if kept:
            self.notes.append(
                f"{table}: kept as JSON columns to stay within {limit:,} columns "
                f"(max_columns): {', '.join(kept)}"
            )

    def field(self, path: Path, dtype: DuckDBPyType, remaining: int | None, is_root: bool) -> str:
        what = self.flattens(path, dtype, remaining, is_root)
        if what == "text_json":
            return "VARCHAR"
        if what == "json":
            self.json_paths.add(path)
            return "JSON"
        if what == "struct":
            inner = ", ".join(
                f"{quote_ident(n)} {self.field((*path, n), t, _dec(remaining), is_root)}"
                for n, t in children(dtype)
            )
            return f"STRUCT({inner})"
        if what == "list":
            element = children(dtype)[0][1]
            items = _dec(remaining)
            if element.id == "struct" and children(element):
                # the items' fields are the child table's columns
                fields = self.level(path, children(element), items, False, column_name(path))
                return "STRUCT(" + ", ".join(f"{quote_ident(n)} {t}" for n, t in fields) + ")[]"
            return f"{self.scalar((*path, 'value'), element, items)}[]"
        hinted = explicit_type(self.hints, path, self.spec) if is_root else None
        if hinted in ("VARCHAR", "JSON"):
            return hinted  # text or JSON as the API sent it (not a value DuckDB re-rendered)
        if dtype.id in _NESTED:
            return type_text(dtype)  # an explicit type is applied to it as it is
        return self.scalar(path, dtype, remaining)

    def scalar(self, path: Path, dtype: DuckDBPyType, remaining: int | None) -> str:
        kind = dtype.id
        if kind in _NESTED:
            # a list of lists: its items are lists again, planned as the child's value
            return self.field(path, dtype, remaining, False)
        if self.spec.type_inference == "dlt" and kind in _DLT_TEXT:
            return "VARCHAR"
        if kind == "double" and self.big_integers:
            self.number_text.add(path)
            return "VARCHAR"
        return type_text(dtype)


def _dec(remaining: int | None) -> int | None:
    return None if remaining is None else remaining - 1
