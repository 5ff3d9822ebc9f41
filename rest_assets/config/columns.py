"""Explicit columns: dlt's column hints, checked and resolved to DuckDB types.

Explicit columns follow dlt's column hints: ``{name: {"data_type": ..., "nullable": ...}}``.
Only the spelling of a hint is checked here; the values themselves are cast by DuckDB when a
load is committed, so a value that cannot be cast fails that commit (and rolls it back).

Hints and what they do on DuckDB (as in dlt 1.31):

- ``data_type`` (``text``, ``bigint``, ``double``, ``bool``, ``timestamp``, ``date``,
  ``time``, ``decimal``, ``wei``, ``binary``, ``json``, and the aliases below) with
  ``precision`` / ``scale`` / ``timezone``: ``bigint`` precision 8/16/32/64/128 is
  TINYINT/SMALLINT/INTEGER/BIGINT/HUGEINT; ``decimal`` is ``DECIMAL(precision, scale)``
  (default 38, 9); ``timestamp`` is time-zone aware unless ``timezone: false``, which with
  precision 0/3/6/9 gives TIMESTAMP_S/_MS/TIMESTAMP/_NS;
- ``nullable: false``: a load with a NULL in the column fails;
- ``primary_key``, ``merge_key``: the column joins the resource's key;
- ``dedup_sort: asc|desc``: which record of a key a merge keeps (lowest / highest value);
- ``hard_delete``: a merge deletes the rows whose record carries this flag;
- ``unique``, ``description``: recorded, not enforced (DuckDB gets no constraint, as in dlt);
- ``name``: in the list form the column's name; in the mapping form the key names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rest_assets.errors import ConfigError

# dlt data type names (and a few common aliases) -> DuckDB types.
# "timestamp" is time-zone aware, as in dlt; values without an offset are read as UTC.
DATA_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "text": "VARCHAR",
    "integer": "BIGINT",
    "bigint": "BIGINT",
    "long": "BIGINT",
    "float": "DOUBLE",
    "double": "DOUBLE",
    "decimal": "DECIMAL(38, 9)",
    "wei": "DECIMAL(38, 0)",
    "boolean": "BOOLEAN",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "date": "DATE",
    "time": "TIME",
    "binary": "BLOB",
    "json": "JSON",
}

# every hint a column may carry; dlt's schema-only hints are accepted and recorded
HINTS = frozenset(
    {
        "name",
        "data_type",
        "nullable",
        "primary_key",
        "merge_key",
        "unique",
        "dedup_sort",
        "hard_delete",
        "precision",
        "scale",
        "timezone",
        "description",
        "partition",
        "cluster",
        "sort",
        "row_key",
        "parent_key",
        "root_key",
        "variant",
        "incremental",
        "references",
    }
)

_INT_BY_PRECISION = ((8, "TINYINT"), (16, "SMALLINT"), (32, "INTEGER"), (64, "BIGINT"))
_NAIVE_BY_PRECISION = ((0, "TIMESTAMP_S"), (3, "TIMESTAMP_MS"), (6, "TIMESTAMP"))


@dataclass(frozen=True)
class ColumnSpec:
    """One explicit column: its name, its DuckDB type (None: keep the inferred one) and its
    hints."""

    name: str
    data_type: str | None  # None: keep the type DuckDB infers
    duckdb_type: str | None
    nullable: bool = True
    primary_key: bool = False
    merge_key: bool = False
    unique: bool = False
    dedup_sort: str | None = None  # "asc" | "desc"
    hard_delete: bool = False


def normalize_columns(columns: Mapping[str, Any] | None) -> dict[str, ColumnSpec]:
    """Validate explicit column specs and resolve their DuckDB types.

    Accepts ``{name: {"data_type": "bigint", "nullable": False, ...}}`` and the shorthand
    ``{name: "bigint"}``; a missing or null ``data_type`` keeps the inferred type. An unknown
    type or hint, or a hint of the wrong kind, raises :class:`~rest_assets.errors.ConfigError`
    naming the column.
    """
    if not columns:
        return {}
    if not isinstance(columns, Mapping):
        raise ConfigError(
            f"columns must be a mapping of column name to spec, got {type(columns).__name__}"
        )
    specs: dict[str, ColumnSpec] = {}
    for name, raw in columns.items():
        specs[str(name)] = column_spec(str(name), raw)
    return specs


def column_spec(name: str, raw: Any) -> ColumnSpec:
    """One column's hints (``raw``: a mapping, or a data type name) as a ColumnSpec."""
    spec = {"data_type": raw} if isinstance(raw, str) else raw
    if not isinstance(spec, Mapping):
        raise ConfigError(f"columns.{name}: expected a mapping with data_type, got {raw!r}")
    unknown = sorted(str(k) for k in spec if k not in HINTS and not str(k).startswith("x-"))
    if unknown:
        raise ConfigError(
            f"columns.{name}: unknown hint(s) {', '.join(unknown)}; hints are "
            f"{', '.join(sorted(HINTS))}"
        )
    flags = {
        key: _flag(name, key, spec.get(key), default)
        for key, default in (
            ("nullable", True),
            ("primary_key", False),
            ("merge_key", False),
            ("unique", False),
            ("hard_delete", False),
            ("timezone", True),
        )
    }
    dedup_sort = spec.get("dedup_sort")
    if dedup_sort is not None and dedup_sort not in ("asc", "desc"):
        raise ConfigError(f"columns.{name}.dedup_sort: expected asc or desc, got {dedup_sort!r}")
    data_type = spec.get("data_type")
    duck, key = None, None
    if data_type is not None:
        key = str(data_type).strip().lower()
        if key not in DATA_TYPES:
            raise ConfigError(
                f"columns.{name}: unknown data_type {data_type!r}; "
                f"accepted types: {', '.join(DATA_TYPES)}"
            )
        duck = _duckdb_type(name, key, spec.get("precision"), spec.get("scale"), flags["timezone"])
    return ColumnSpec(
        name,
        key,
        duck,
        nullable=flags["nullable"],
        primary_key=flags["primary_key"],
        merge_key=flags["merge_key"],
        unique=flags["unique"],
        dedup_sort=dedup_sort,
        hard_delete=flags["hard_delete"],
    )


def _flag(name: str, key: str, value: Any, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ConfigError(f"columns.{name}.{key}: expected true or false, got {value!r}")
    return value


def _duckdb_type(name: str, key: str, precision: Any, scale: Any, timezone: bool) -> str:
    """The DuckDB type of a dlt data type with its precision, scale and timezone hints."""
    if precision is not None and (not isinstance(precision, int) or isinstance(precision, bool)):
        raise ConfigError(f"columns.{name}.precision: expected an integer, got {precision!r}")
    if key in ("decimal", "wei"):
        default_scale = 9 if key == "decimal" else 0
        return _decimal_type(
            name, 38 if precision is None else precision, default_scale if scale is None else scale
        )
    if key in ("bigint", "integer", "long") and precision is not None:
        for bits, duck in _INT_BY_PRECISION:
            if precision <= bits:
                return duck
        if precision <= 128:
            return "HUGEINT"
        raise ConfigError(f"columns.{name}.precision: a bigint holds at most 128 bits")
    if key == "timestamp" and not timezone:
        if precision is None:
            return "TIMESTAMP"
        for digits, duck in _NAIVE_BY_PRECISION:
            if precision <= digits:
                return duck
        if precision <= 9:
            return "TIMESTAMP_NS"
        raise ConfigError(f"columns.{name}.precision: a timestamp has at most 9 digits")
    # DuckDB's TIMESTAMPTZ has microseconds only; text and time ignore precision (as in dlt)
    return DATA_TYPES[key]


def _decimal_type(name: str, precision: Any, scale: Any) -> str:
    ok = (
        isinstance(precision, int)
        and isinstance(scale, int)
        and 1 <= precision <= 38
        and 0 <= scale <= precision
    )
    if not ok:
        raise ConfigError(
            f"columns.{name}: decimal needs integer precision 1..38 and scale 0..precision, "
            f"got precision={precision!r} scale={scale!r}"
        )
    return f"DECIMAL({precision}, {scale})"
