"""Explicit column types: dlt's column hints, checked and resolved to DuckDB type names.

Explicit columns follow dlt's column hints: ``{name: {"data_type": ..., "nullable": ...}}``.
Only the spelling of a type is checked here; the values themselves are cast by DuckDB when a
load is committed, so a value that cannot be cast fails that commit (and rolls it back).
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
    "boolean": "BOOLEAN",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "date": "DATE",
    "time": "TIME",
    "binary": "BLOB",
    "json": "JSON",
}


@dataclass(frozen=True)
class ColumnSpec:
    """One explicit column: its name, the DuckDB type it is cast to and whether NULL is allowed."""

    name: str
    data_type: str | None  # None: keep the type DuckDB infers
    duckdb_type: str | None
    nullable: bool = True


def normalize_columns(columns: Mapping[str, Any] | None) -> dict[str, ColumnSpec]:
    """Validate explicit column specs and resolve their DuckDB types.

    Accepts ``{name: {"data_type": "bigint", "nullable": False}}``, the shorthand
    ``{name: "bigint"}``, and ``precision`` / ``scale`` for decimals; other keys (dlt hints such
    as ``description``) are ignored and a missing or null ``data_type`` keeps the inferred
    type. An unknown type raises :class:`~rest_assets.errors.ConfigError` naming the column
    and the accepted types.
    """
    if not columns:
        return {}
    if not isinstance(columns, Mapping):
        raise ConfigError(
            f"columns must be a mapping of column name to spec, got {type(columns).__name__}"
        )
    specs: dict[str, ColumnSpec] = {}
    for name, raw in columns.items():
        specs[str(name)] = _column_spec(str(name), raw)
    return specs


def _column_spec(name: str, raw: Any) -> ColumnSpec:
    spec = {"data_type": raw} if isinstance(raw, str) else raw
    if not isinstance(spec, Mapping):
        raise ConfigError(f"columns.{name}: expected a mapping with data_type, got {raw!r}")
    data_type = spec.get("data_type")
    nullable = spec.get("nullable")
    nullable = True if nullable is None else nullable
    if not isinstance(nullable, bool):
        raise ConfigError(f"columns.{name}.nullable: expected true or false, got {nullable!r}")
    if data_type is None:
        # a hint without a type (only nullable, a description...): the inferred type stays
        return ColumnSpec(name, None, None, nullable)
    key = str(data_type).strip().lower()
    if key not in DATA_TYPES:
        raise ConfigError(
            f"columns.{name}: unknown data_type {data_type!r}; "
            f"accepted types: {', '.join(DATA_TYPES)}"
        )
    duck = DATA_TYPES[key]
    if key == "decimal" and ("precision" in spec or "scale" in spec):
        duck = _decimal_type(name, spec.get("precision", 38), spec.get("scale", 9))
    return ColumnSpec(name, key, duck, nullable)


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
