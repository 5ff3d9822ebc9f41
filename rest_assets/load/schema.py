"""Column types: explicit column specs, DuckDB type widening and SQL quoting.

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
            specs[str(name)] = ColumnSpec(str(name), None, None, nullable)
            continue
        key = str(data_type).strip().lower()
        if key not in DATA_TYPES:
            raise ConfigError(
                f"columns.{name}: unknown data_type {data_type!r}; "
                f"accepted types: {', '.join(DATA_TYPES)}"
            )
        duck = DATA_TYPES[key]
        if key == "decimal" and ("precision" in spec or "scale" in spec):
            duck = _decimal_type(name, spec.get("precision", 38), spec.get("scale", 9))
        specs[str(name)] = ColumnSpec(str(name), key, duck, nullable)
    return specs


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


def quote_ident(name: str) -> str:
    """Quote an SQL identifier for DuckDB: any text is safe, including quotes and dots."""
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote a string literal for DuckDB."""
    return "'" + str(value).replace("'", "''") + "'"


# Type families used when a column meets a new type (from a later page or a later load).
_INTEGERS = {
    "TINYINT": 1,
    "SMALLINT": 2,
    "INTEGER": 3,
    "BIGINT": 4,
    "HUGEINT": 5,
    "UTINYINT": 1,
    "USMALLINT": 2,
    "UINTEGER": 3,
    "UBIGINT": 4,
}
# the smallest signed type holding every value of an unsigned one
_SIGNED_SUPERSET = {
    "UTINYINT": "SMALLINT",
    "USMALLINT": "INTEGER",
    "UINTEGER": "BIGINT",
    "UBIGINT": "HUGEINT",
}
_FLOATS = {"FLOAT", "REAL", "DOUBLE"}
_TIMES = {"DATE": 1, "TIMESTAMP": 2, "TIMESTAMP WITH TIME ZONE": 3}
NULL_TYPE = '"NULL"'


def canonical_type(duckdb_type: str) -> str:
    """Normalize the spelling of a DuckDB type string (case, aliases) for comparisons."""
    text = " ".join(str(duckdb_type).split())
    upper = text.upper()
    aliases = {
        "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE",
        "INT": "INTEGER",
        "INT8": "BIGINT",
        "LONG": "BIGINT",
        "STRING": "VARCHAR",
        "TEXT": "VARCHAR",
        "FLOAT8": "DOUBLE",
        "BOOL": "BOOLEAN",
        "NULL": NULL_TYPE,
    }
    if upper in aliases:
        return aliases[upper]
    if upper.startswith("DECIMAL") or upper in _INTEGERS or upper in _FLOATS or upper in _TIMES:
        return upper.replace(" ", "").replace("WITHTIMEZONE", " WITH TIME ZONE")
    if upper in {"VARCHAR", "JSON", "BOOLEAN", "BLOB", "TIME", "UUID", "DATE"}:
        return upper
    return text


def widen(old: str, new: str) -> str:
    """The type a column of type ``old`` takes to also hold values of type ``new``.

    Integers widen to the larger integer, integers and floats to DOUBLE, DATE to TIMESTAMP to
    TIMESTAMPTZ; anything else that differs becomes VARCHAR, so a load never fails because an
    API changed the type of a field.
    """
    old, new = canonical_type(old), canonical_type(new)
    if old == new or new == NULL_TYPE:
        return old
    if old == NULL_TYPE:
        return new
    old_dec, new_dec = old.startswith("DECIMAL"), new.startswith("DECIMAL")
    if old in _INTEGERS and new in _INTEGERS:
        if (old in _SIGNED_SUPERSET) != (new in _SIGNED_SUPERSET):
            # mixing signed and unsigned: a signed type large enough for both
            old = _SIGNED_SUPERSET.get(old, old)
            new = _SIGNED_SUPERSET.get(new, new)
        return old if _INTEGERS[old] >= _INTEGERS[new] else new
    numeric_old = old in _INTEGERS or old in _FLOATS or old_dec
    numeric_new = new in _INTEGERS or new in _FLOATS or new_dec
    if numeric_old and numeric_new:
        if old_dec and new in _INTEGERS:
            return old
        if new_dec and old in _INTEGERS:
            return new
        return "DOUBLE"
    if old in _TIMES and new in _TIMES:
        return old if _TIMES[old] >= _TIMES[new] else new
    if old == "JSON" and (numeric_new or new == "BOOLEAN"):
        # numbers and booleans are valid JSON text already
        return old
    return "VARCHAR"
