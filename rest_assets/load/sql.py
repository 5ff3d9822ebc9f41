"""SQL text shared by the load modules: quoting, ``schema.table`` names, read options.

One quoter for identifiers and one for string literals: every name and every path or value
that ends up in a statement goes through one of them.
"""

from __future__ import annotations

# How DuckDB infers staged records (the commit reads with the same options as the staging
# area's probe): every row sampled, files unioned by name, and no MAP inference (sparse or
# very wide records were read as MAPs and failed the load with "expected records"; nested
# objects flatten as dlt's do).
READ_JSON_INFER = (
    "format = 'array', records = true, union_by_name = true, sample_size = -1, "
    "map_inference_threshold = -1"
)


def quote_ident(name: str) -> str:
    """Quote an SQL identifier for DuckDB: any text is safe, including quotes and dots."""
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote a string literal for DuckDB."""
    return "'" + str(value).replace("'", "''") + "'"


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
            part, i = _quoted_part(text, i)
        else:
            j = text.find(".", i) if not parts else -1
            end = n if j < 0 else j
            part, i = text[i:end], end + 1
        parts.append(part)
        if i > n:
            break
    if len(parts) != 2:
        raise ValueError(f"not a schema.table name: {text!r}")
    return parts[0], parts[1]


def _quoted_part(text: str, start: int) -> tuple[str, int]:
    """The double-quoted name starting at ``start`` and the index past its closing quote and
    the dot after it."""
    j, buf, n = start + 1, [], len(text)
    while j < n:
        if text[j] == '"':
            if j + 1 < n and text[j + 1] == '"':
                buf.append('"')
                j += 2
                continue
            break
        buf.append(text[j])
        j += 1
    return "".join(buf), j + 2
