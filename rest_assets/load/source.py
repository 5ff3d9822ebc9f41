"""The staged records as one relation inside a commit, each with its position and row id.

The records' columns are what DuckDB's ``read_json`` infers over every file (``union_by_name``,
all rows sampled; a field whose type differs between pages becomes JSON). A staging area
usually knows them already (:mod:`rest_assets.load.probe`); otherwise :func:`infer_columns`
infers them once. With known columns the records are streamed from the files in parallel (a
row's position is its file's first row number plus its index in the file): a load with only a
root table streams them straight into it, one with child tables parses them once into a
temporary table that the root and child inserts share. Without known columns (a plain list of
files, or the fallback when reading with them failed) everything is read into a temporary
table with inference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from os import PathLike
from pathlib import Path

import duckdb

from rest_assets.load.columns import POS, RESERVED, RID
from rest_assets.load.plan import SourceColumn, TempNames, makes_child_tables
from rest_assets.load.spec import LoadSpec
from rest_assets.load.sql import READ_JSON_INFER, quote_ident, quote_literal
from rest_assets.load.staging import StagingArea

Columns = list[tuple[str, str]]


@dataclass(frozen=True)
class StagedFiles:
    """The files of one load, oldest first, and what is known of them without reading them."""

    files: tuple[Path, ...]
    has_fields: bool = True  # False: every record is {} (nothing to unpack, only to count)
    known_columns: Columns | None = None  # (name, DuckDB type) over all files
    file_rows: tuple[tuple[Path, int], ...] | None = None  # records per file

    @classmethod
    def of(cls, staging: StagingArea | Sequence[str | PathLike[str]]) -> StagedFiles:
        """A staging area's files and its probe's answer, or a plain list of files."""
        if not isinstance(staging, StagingArea):
            return cls(tuple(Path(p) for p in staging))
        files = tuple(staging.files)
        if not (staging.has_fields and files):
            return cls(files, staging.has_fields)
        return cls(files, True, staging.inferred_columns(), tuple(staging.file_rows))

    def streamable(self) -> bool:
        """Whether the records can be read with known columns, without a copy."""
        return bool(self.known_columns and self.file_rows)

    def without_known_columns(self) -> StagedFiles:
        """The same files read the slow, sure way: DuckDB infers as it reads."""
        return replace(self, known_columns=None)


def infer_columns(con: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> Columns | None:
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


def open_records(
    con: duckdb.DuckDBPyConnection,
    staged: StagedFiles,
    spec: LoadSpec,
    load_id: str,
    names: TempNames,
) -> tuple[str, list[SourceColumn]]:
    """Create the relation of the staged records, row ids made from ``load_id``; returns its
    name and the record columns (without the position and row id columns, and without fields
    named like ours)."""
    if staged.streamable() and staged.known_columns is not None:
        source = _stream(con, staged, load_id, names)
        if makes_child_tables(spec, staged.known_columns):
            # The root table and each child table would each parse every staged file
            # again: parse them once into a temporary table (it spills to disk under the
            # memory cap). 200k records with one list: 1.0 -> 0.8 s; 1M: 4.5 -> 3.6 s.
            table = names("src")
            con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {source}")
            source = table
    else:
        source = _read_inferring(con, staged, load_id, names)
    rel = con.sql(f"SELECT * FROM {source} LIMIT 0")
    cols = [
        (name, quote_ident(name), dtype)
        for name, dtype in zip(rel.columns, rel.dtypes, strict=True)
        if name not in (POS, RID) and name.lower() not in RESERVED
    ]
    return source, cols


def _row_id(load_id: str) -> str:
    return f"md5({quote_literal(load_id)} || '/' || {POS}::VARCHAR) AS {RID}"


def _read_inferring(
    con: duckdb.DuckDBPyConnection, staged: StagedFiles, load_id: str, names: TempNames
) -> str:
    """All records in a temporary table, their types inferred as DuckDB reads them."""
    source = names("src")
    files = ", ".join(quote_literal(str(p)) for p in staged.files)
    # row_number() over the scan follows file order then record order: "last one wins"
    # records that are all {} have no columns to unpack: count them only
    columns = "*, " if staged.has_fields else ""
    options = READ_JSON_INFER
    if not staged.has_fields:
        options = options.replace("records = true", "records = false")
    con.execute(
        f"CREATE TEMP TABLE {source} AS SELECT *, {_row_id(load_id)} FROM ("
        f"SELECT {columns}row_number() OVER () AS {POS} FROM read_json([{files}], "
        f"{options}))"
    )
    return source


def _stream(
    con: duckdb.DuckDBPyConnection, staged: StagedFiles, load_id: str, names: TempNames
) -> str:
    """A view of the records read with the known columns: nothing is materialized, each use
    streams the files.

    Row positions come from each file's first row number (known from staging) plus the
    record's index in the file's array, so they equal the scan order's row_number() and
    the files are still read in parallel.
    """
    # file -> its first row's position, looked up once per file (one row per file before
    # the unnest); a join here reordered the rows, a constant MAP does not
    entries, first = [], 0
    for path, count in staged.file_rows or ():
        entries.append(f"{quote_literal(str(path))}: {first}::BIGINT")
        first += count
    first_rows = f"MAP {{{', '.join(entries)}}}"
    fields = staged.known_columns or []
    struct = "STRUCT(" + ", ".join(f"{quote_ident(n)} {t}" for n, t in fields) + ")[]"
    files = ", ".join(quote_literal(str(p)) for p, _ in staged.file_rows or ())
    view = names("src")
    con.execute(
        f"CREATE TEMP VIEW {view} AS SELECT unnest(__ra_rec), {POS}, {_row_id(load_id)} FROM ("
        f"SELECT unnest(r.json) AS __ra_rec, map_extract_value({first_rows}, "
        f"r.filename) + generate_subscripts(r.json, 1) AS {POS} FROM read_json([{files}], "
        f"format = 'unstructured', records = false, "
        f"columns = {{'json': {quote_literal(struct)}}}, filename = true) r)"
    )
    return view
