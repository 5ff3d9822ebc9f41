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

from rest_assets.load.columns import POS, RID
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
    exact_files: tuple[Path, ...] = ()  # written exactly (integers beyond 64 bits)
    text_json: frozenset[tuple[str, ...]] = frozenset()  # fields held as JSON text (repair)
    notes: tuple[str, ...] = ()  # what a repair changed
    use_known_columns: bool = True  # False: DuckDB infers as it reads (the last fallback)

    @classmethod
    def of(cls, staging: StagingArea | Sequence[str | PathLike[str]]) -> StagedFiles:
        """A staging area's files and its probe's answer, or a plain list of files."""
        if not isinstance(staging, StagingArea):
            return cls(tuple(Path(p) for p in staging))
        files = tuple(staging.files)
        if not (staging.has_fields and files):
            return cls(files, staging.has_fields)
        return cls(
            files,
            True,
            staging.inferred_columns(),
            tuple(staging.file_rows),
            tuple(staging.exact_files),
        )

    @property
    def big_integers(self) -> bool:
        return bool(self.exact_files)

    def streamable(self) -> bool:
        """Whether the records can be read with known columns, without a copy."""
        return bool(self.known_columns and self.file_rows and self.use_known_columns)

    def without_known_columns(self) -> StagedFiles:
        """The same files read the slow, sure way: DuckDB infers as it reads."""
        return replace(self, use_known_columns=False)


def infer_columns(
    con: duckdb.DuckDBPyConnection, files: Sequence[Path]
) -> tuple[Columns | None, str | None]:
    """The columns DuckDB infers over all staged files, or None and DuckDB's reason (the
    load then repairs the files, or takes the path that reports DuckDB's own error)."""
    listed = ", ".join(quote_literal(str(p)) for p in files)
    try:
        rows = con.execute(
            f"DESCRIBE SELECT * FROM read_json([{listed}], {READ_JSON_INFER}, "
            f"maximum_object_size = {max_object_size(files)})"
        ).fetchall()
    except duckdb.Error as exc:
        return None, str(exc)
    return [(str(r[0]), str(r[1])) for r in rows] or None, None


def open_records(
    con: duckdb.DuckDBPyConnection,
    staged: StagedFiles,
    spec: LoadSpec,
    load_id: str,
    names: TempNames,
    read_columns: Columns | None = None,
) -> tuple[str, list[SourceColumn]]:
    """Create the relation of the staged records, row ids made from ``load_id``; returns its
    name and the record columns (without the position and row id columns).

    ``read_columns`` are the types to read with (:mod:`rest_assets.load.read_types`; None:
    DuckDB infers as it reads). Records with very many fields are read into a temporary
    table (DuckDB unnests a STRUCT of thousands of fields slowly: 2,000 fields, 2 records:
    6 s streamed, 0.5 s read as records).
    """
    if read_columns is not None and (not staged.file_rows or _wide(read_columns)):
        source = _read_columns(con, staged, load_id, names, read_columns)
    elif staged.streamable() and read_columns is not None:
        source = _stream(con, staged, load_id, names, read_columns)
        if makes_child_tables(spec, read_columns):
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
        if name not in (POS, RID)
    ]
    return source, cols


# Above this many fields (counting a STRUCT's fields) records are read as records into a
# temporary table instead of being streamed as one STRUCT per record.
WIDE_FIELDS = 500


def _wide(columns: Columns) -> bool:
    return len(columns) + sum(t.count(",") for _, t in columns) > WIDE_FIELDS


def _read_columns(
    con: duckdb.DuckDBPyConnection,
    staged: StagedFiles,
    load_id: str,
    names: TempNames,
    columns: Columns,
) -> str:
    """All records in a temporary table, read with the given column types."""
    source = names("src")
    files = ", ".join(quote_literal(str(p)) for p in staged.files)
    spec = ", ".join(f"{quote_literal(n)}: {quote_literal(t)}" for n, t in columns)
    con.execute(
        f"CREATE TEMP TABLE {source} AS SELECT *, {_row_id(load_id)} FROM ("
        f"SELECT *, row_number() OVER () AS {POS} FROM read_json([{files}], "
        f"format = 'array', records = true, columns = {{{spec}}}, "
        f"maximum_object_size = {max_object_size(staged.files)}))"
    )
    return source


def max_object_size(files: Sequence[Path]) -> int:
    """DuckDB's ``maximum_object_size`` for reading these files: above the largest file (a
    record holds a string of tens of MB at times; DuckDB's default is 16 MB)."""
    largest = max((p.stat().st_size for p in files if p.exists()), default=0)
    return max(16 * 1024 * 1024, largest + 1024)


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
        f"{options}, maximum_object_size = {max_object_size(staged.files)}))"
    )
    return source


def _stream(
    con: duckdb.DuckDBPyConnection,
    staged: StagedFiles,
    load_id: str,
    names: TempNames,
    fields: Columns,
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
    struct = "STRUCT(" + ", ".join(f"{quote_ident(n)} {t}" for n, t in fields) + ")[]"
    files = ", ".join(quote_literal(str(p)) for p, _ in staged.file_rows or ())
    view = names("src")
    con.execute(
        f"CREATE TEMP VIEW {view} AS SELECT unnest(__ra_rec), {POS}, {_row_id(load_id)} FROM ("
        f"SELECT unnest(r.json) AS __ra_rec, map_extract_value({first_rows}, "
        f"r.filename) + generate_subscripts(r.json, 1) AS {POS} FROM read_json([{files}], "
        f"format = 'unstructured', records = false, "
        f"columns = {{'json': {quote_literal(struct)}}}, filename = true, "
        f"maximum_object_size = {max_object_size(staged.files)}) r)"
    )
    return view
