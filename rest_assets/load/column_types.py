"""DuckDB column types: one spelling per type, and the type a column widens to.

A column keeps its table's type while a new page or load fits it; otherwise it widens
(integers to the larger integer, numbers to DOUBLE, dates to timestamps) or, as a last
resort, becomes VARCHAR, so a load never fails because an API changed a field's type.
"""

from __future__ import annotations

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
