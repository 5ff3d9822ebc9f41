"""Stage record batches on local disk, one JSON file per batch, for one DuckDB commit later.

Format choice, measured on this machine (200k records of 12 fields incl. a nested object, a
nested list and a nullable field; 4 batches of 50k; DuckDB 2.0.1, orjson, 2 cores):

=================  ========================================  ===============================
format             write (Python)                            DuckDB ``read_json`` (all rows
                                                             sampled, ``union_by_name``)
=================  ========================================  ===============================
JSON array         0.30 s  (one ``orjson.dumps(batch)``)     0.74-0.91 s
NDJSON             1.30 s  (``b"\\n".join(map(dumps, ...)))``  0.56 s
=================  ========================================  ===============================

DuckDB reads NDJSON about 0.2-0.3 s faster, but orjson can only emit NDJSON one record at a
time, which costs a Python loop and ~1 s more: the JSON array is faster end to end
(~1.1 s vs ~1.9 s), so each batch is one JSON array written by a single ``orjson.dumps`` call.

Schema inference is the other half of DuckDB's cost: reading every staged row to infer types
(``sample_size = -1``, ``union_by_name``) takes about twice as long as reading the rows with
known columns (200k records: ~0.7-1.7 s vs ~0.4-0.7 s on a loaded 2-core machine). So a
:class:`StagingArea` infers the schema of each chunk of files in a background thread while
extraction goes on (DuckDB releases the GIL, the second core is otherwise idle), and when every
chunk agrees the commit reads with those columns instead of inferring again. Chunks that
disagree (a field appears later, changes type) make it give up: the commit then infers over
all files at once, exactly as before.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import orjson

from rest_assets.errors import ConfigError
from rest_assets.load.ledger import LedgerEntry

WriteDisposition = Literal["replace", "append", "merge"]
WRITE_DISPOSITIONS: tuple[str, ...] = ("replace", "append", "merge")

# How DuckDB infers staged records (the writer reads with the same options): every row sampled,
# files unioned by name, and no MAP inference (sparse or very wide records were read as MAPs
# and failed the load with "expected records"; nested objects flatten as dlt's do).
READ_JSON_INFER = (
    "format = 'array', records = true, union_by_name = true, sample_size = -1, "
    "map_inference_threshold = -1"
)
# A chunk of staged files is probed once it holds this many bytes (or the area is committed).
PROBE_CHUNK_BYTES = 4 << 20
# Inference of a chunk runs on one core and is slower than extraction (~40-75 MB/s vs
# ~60-70 MB/s of pages): one thread probes during extraction (two slowed extraction down by
# 0.7 s on 200k records), then this many finish the backlog when the commit asks.
PROBE_WORKERS = 2

# One in-memory DuckDB for every probe of the process, a cursor per probe thread: creating a
# database costs ~15-35 ms, as much as inferring a small resource's files (40 resources of
# 2,000 records: 1.4 s of CPU). Its only setting is the probes' own (one thread a query).
_scratch_lock = threading.Lock()
_scratch: Any = None


def _scratch_cursor() -> Any:
    global _scratch
    with _scratch_lock:
        if _scratch is None:
            import duckdb  # the writer's dependency; only the probe threads need it here

            _scratch = duckdb.connect()
            # DuckDB infers one file list on one thread anyway
            _scratch.execute("SET threads = 1")
        return _scratch.cursor()


_last_ns = 0
_ns_lock = threading.Lock()


def new_load_id() -> str:
    """A unique load id that sorts by creation time: epoch nanoseconds + a random suffix.

    Within one process ids strictly increase even if the clock stands still or steps back.
    """
    global _last_ns
    with _ns_lock:
        _last_ns = max(time.time_ns(), _last_ns + 1)
        stamp = _last_ns
    return f"{stamp:020d}.{secrets.token_hex(3)}"


def _default(value: Any) -> Any:
    # orjson handles datetime, UUID, dataclasses natively; Decimal, sets, bytes etc. land here.
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _SchemaProbe:
    """Infers the DuckDB schema of staged files chunk by chunk, in one background thread.

    Each chunk is inferred with the writer's own options (:data:`READ_JSON_INFER`). If all
    chunks yield the same columns, inferring all files at once would yield them too (the
    union of equal schemas is that schema), so the commit can read with explicit columns.
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()  # each worker thread's own DuckDB connection
        self._cons: list[Any] = []
        self._cons_lock = threading.Lock()
        self._futures: list[tuple[Future[list[tuple[str, str]] | None], list[Path]]] = []
        self._pending: list[Path] = []
        self._pending_bytes = 0
        self._failed = False
        self._result: list[tuple[str, str]] | None = None

    def add(self, path: Path, size: int) -> None:
        if self._failed:
            return
        self._pending.append(path)
        self._pending_bytes += size
        if self._pending_bytes >= PROBE_CHUNK_BYTES:
            self._submit()

    def _submit(self) -> None:
        chunk, self._pending, self._pending_bytes = self._pending, [], 0
        if not chunk:
            return
        if self._pool is None:
            # one worker while extraction runs: it has the other core to itself
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rest-assets-probe")
        self._futures.append((self._pool.submit(self._describe, chunk), chunk))

    def _describe(self, chunk: list[Path]) -> list[tuple[str, str]] | None:
        if self._failed:
            return None
        try:
            con = getattr(self._local, "con", None)
            if con is None:
                con = _scratch_cursor()
                self._local.con = con
                with self._cons_lock:
                    self._cons.append(con)
            files = ", ".join(_sql_literal(str(p)) for p in chunk)
            rows = con.execute(
                f"DESCRIBE SELECT * FROM read_json([{files}], {READ_JSON_INFER})"
            ).fetchall()
            return [(str(r[0]), str(r[1])) for r in rows]
        except Exception:
            # anything odd (a file DuckDB cannot infer): the commit infers on its own
            self._failed = True
            return None

    def _describe_now(self, chunk: list[Path]) -> Future[list[tuple[str, str]] | None]:
        future: Future[list[tuple[str, str]] | None] = Future()
        future.set_result(self._describe(chunk))
        return future

    def columns(self) -> list[tuple[str, str]] | None:
        """The schema every chunk agreed on, or None (no files, or chunks disagreed).

        Ends the probe: files staged afterwards are not probed.
        """
        if self._result is not None or self._failed:
            return self._result
        self._submit()
        # extraction is over: the chunks not started yet get all the cores
        backlog = [chunk for future, chunk in self._futures if future.cancel()]
        finish: ThreadPoolExecutor | None = None
        if len(backlog) > 1:
            finish = ThreadPoolExecutor(
                max_workers=PROBE_WORKERS, thread_name_prefix="rest-assets-probe"
            )
            self._futures = [(f, c) for f, c in self._futures if not f.cancelled()]
            self._futures += [(finish.submit(self._describe, c), c) for c in backlog]
        elif backlog:
            self._futures = [
                (self._describe_now(c), c) if f.cancelled() else (f, c) for f, c in self._futures
            ]
        result: list[tuple[str, str]] | None = None
        for future, _ in self._futures:
            found = future.result()
            if found is None or (result is not None and found != result):
                result = None
                break
            result = found
        # the answer is final (nothing more is staged before a commit): free the probe's
        # DuckDB memory before the commit needs its own
        if finish is not None:
            finish.shutdown(wait=True, cancel_futures=True)
        self.close()
        self._result = result
        return result

    def close(self) -> None:
        self._failed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        with self._cons_lock:
            cons, self._cons = self._cons, []
        for con in cons:
            with contextlib.suppress(Exception):
                con.close()
        self._futures.clear()
        self._pending.clear()


class StagingArea:
    """A directory of staged batches: ``write(records)`` adds one JSON-array file per batch.

    Nothing is kept in memory after a write but the file path and the counters ``rows``,
    ``files`` and ``batches``. Without a directory a private temporary one is created (and
    removed by :meth:`cleanup`); with one, only the files this area wrote are removed.
    Used as a context manager, it cleans up on exit. With ``infer_schema`` (the default) the
    files' DuckDB schema is inferred in the background while batches arrive; see
    :meth:`inferred_columns`.
    """

    def __init__(
        self,
        directory: Path | str | None = None,
        *,
        prefix: str = "batch",
        infer_schema: bool = True,
    ) -> None:
        if directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="rest_assets_stage_"))
            self._owns_directory = True
        else:
            self.directory = Path(directory)
            self._owns_directory = not self.directory.exists()
            self.directory.mkdir(parents=True, exist_ok=True)
        # a random part keeps areas sharing one directory (parallel runs) apart
        self._stem = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self._files: list[Path] = []
        self._file_rows: list[int] = []
        self.rows = 0
        self.batches = 0
        self.has_fields = False
        self._probe = _SchemaProbe() if infer_schema else None
        self._probed_files: int | None = None

    @property
    def files(self) -> list[Path]:
        """The staged files, in the order they were written (later rows win a merge)."""
        return list(self._files)

    def write(self, records: Sequence[Mapping[str, Any]]) -> int:
        """Stage one batch as one file; returns the number of records written (0: no file)."""
        if not records:
            return 0
        try:
            data = orjson.dumps(records, default=_default)
        except TypeError:
            # dicts with non-string keys are rare: only then pay for the slower option
            data = orjson.dumps(records, default=_default, option=orjson.OPT_NON_STR_KEYS)
        path = self.directory / f"{self._stem}-{len(self._files):06d}.json"
        path.write_bytes(data)
        self._files.append(path)
        self._file_rows.append(len(records))
        self.rows += len(records)
        self.batches += 1
        # stops at the first non-empty record: records made only of {} need another read path
        self.has_fields = self.has_fields or any(records)
        if self._probe is not None:
            self._probe.add(path, len(data))
        return len(records)

    @property
    def file_rows(self) -> list[tuple[Path, int]]:
        """Each staged file with the number of records it holds, in write order."""
        return list(zip(self._files, self._file_rows, strict=True))

    def inferred_columns(self) -> list[tuple[str, str]] | None:
        """``(name, DuckDB type)`` of all staged records as DuckDB's ``read_json`` infers them
        over every file, when that is known without reading all files again; else None.

        Waits for the background inference of the chunks still running.
        """
        if self._probe is None or not self.has_fields or not self._files:
            return None
        if self._probed_files is None:
            self._probed_files = len(self._files)
        elif self._probed_files != len(self._files):
            return None  # written after the probe ended: those files were never inferred
        return self._probe.columns()

    def cleanup(self) -> None:
        """Remove the staged files (and the directory when this area created it)."""
        if self._probe is not None:
            self._probe.close()
        for path in self._files:
            path.unlink(missing_ok=True)
        self._files.clear()
        self._file_rows.clear()
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)
        else:
            # only if now empty: a directory shared with other areas stays
            with contextlib.suppress(OSError):
                self.directory.rmdir()

    def __enter__(self) -> StagingArea:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        return (
            f"StagingArea({str(self.directory)!r}, rows={self.rows}, "
            f"files={len(self._files)}, batches={self.batches})"
        )


@dataclass
class StagedTable:
    """What an extraction asset returns: staged records and where/how to commit them.

    The DuckDB IO manager commits it in one transaction, adds ``metadata`` (pages, requests,
    cursor, ...) to the materialization and removes the staged files.
    """

    staging: StagingArea
    schema: str
    table: str
    write_disposition: WriteDisposition = "append"
    primary_key: list[str] = field(default_factory=list)
    columns: Mapping[str, Any] | None = None
    max_table_nesting: int | None = None
    nested_as_json: bool = False
    load_id: str = field(default_factory=new_load_id)
    metadata: dict[str, Any] = field(default_factory=dict)
    # Partitioned assets: the key stored in `_ra_partition`, the keys a `replace` replaces
    # (instead of the whole table), and a hook run after the commit whose returned mapping is
    # added to the metadata (e.g. adding dynamic partitions for the rows that just landed).
    partition_key: str | None = None
    replace_partitions: list[str] | None = None
    on_commit: Callable[[Any], Mapping[str, Any] | None] | None = None
    # stateful loads: checked and recorded with the data (rest_assets.load.ledger)
    ledger: LedgerEntry | None = None

    def __post_init__(self) -> None:
        if isinstance(self.primary_key, str):
            self.primary_key = [self.primary_key]
        else:
            self.primary_key = list(self.primary_key or [])
        if self.write_disposition not in WRITE_DISPOSITIONS:
            raise ConfigError(
                f"write_disposition must be one of {', '.join(WRITE_DISPOSITIONS)}, "
                f"got {self.write_disposition!r}"
            )
        if self.max_table_nesting is not None and (
            not isinstance(self.max_table_nesting, int) or self.max_table_nesting < 0
        ):
            raise ConfigError(
                f"max_table_nesting must be a non-negative integer, got {self.max_table_nesting!r}"
            )

    @property
    def rows(self) -> int:
        """Records staged so far."""
        return self.staging.rows
