"""Inferring the DuckDB schema of staged files chunk by chunk, in the background.

Schema inference is half of DuckDB's cost in a commit: reading every staged row to infer
types (``sample_size = -1``, ``union_by_name``) takes about twice as long as reading the rows
with known columns (200k records: ~0.7-1.7 s vs ~0.4-0.7 s on a loaded 2-core machine). So a
:class:`SchemaProbe` infers each chunk of files in a background thread while extraction goes
on (DuckDB releases the GIL, the second core is otherwise idle). When every chunk agrees the
commit reads with those columns instead of inferring again: the union of equal schemas is
that schema. Chunks that disagree (a field appears later, changes type) make it give up, and
the commit infers over all files at once.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from rest_assets.load.connection import probe_cursor
from rest_assets.load.sql import READ_JSON_INFER, quote_literal

# A chunk of staged files is probed once it holds this many bytes (or the area is committed).
PROBE_CHUNK_BYTES = 4 << 20
# Inference of a chunk runs on one core and is slower than extraction (~40-75 MB/s vs
# ~60-70 MB/s of pages): one thread probes during extraction (two slowed extraction down by
# 0.7 s on 200k records), then this many finish the backlog when the commit asks.
PROBE_WORKERS = 2

Columns = list[tuple[str, str]]


class SchemaProbe:
    """Infers the DuckDB schema of staged files chunk by chunk, in one background thread.

    Each chunk is inferred with the commit's own options (:data:`READ_JSON_INFER`).
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()  # each worker thread's own DuckDB connection
        self._cons: list[duckdb.DuckDBPyConnection] = []
        self._cons_lock = threading.Lock()
        self._futures: list[tuple[Future[Columns | None], list[Path]]] = []
        self._pending: list[Path] = []
        self._pending_bytes = 0
        self._failed = False
        self._result: Columns | None = None

    def add(self, path: Path, size: int) -> None:
        """A file was staged (``size`` bytes); a full chunk is submitted for inference."""
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

    def _connection(self) -> duckdb.DuckDBPyConnection:
        con: duckdb.DuckDBPyConnection | None = getattr(self._local, "con", None)
        if con is None:
            # DuckDB infers one file list on one thread anyway: one shared database will do
            con = probe_cursor()
            self._local.con = con
            with self._cons_lock:
                self._cons.append(con)
        return con

    def _describe(self, chunk: list[Path]) -> Columns | None:
        if self._failed:
            return None
        try:
            files = ", ".join(quote_literal(str(p)) for p in chunk)
            # a record may hold a string of tens of MB (DuckDB's default limit is 16 MB)
            largest = max(p.stat().st_size for p in chunk)
            size = max(16 * 1024 * 1024, largest + 1024)
            rows = (
                self._connection()
                .execute(
                    f"DESCRIBE SELECT * FROM read_json([{files}], {READ_JSON_INFER}, "
                    f"maximum_object_size = {size})"
                )
                .fetchall()
            )
            return [(str(r[0]), str(r[1])) for r in rows]
        except Exception:
            # anything odd (a file DuckDB cannot infer): the commit infers on its own
            self._failed = True
            return None

    def _describe_now(self, chunk: list[Path]) -> Future[Columns | None]:
        future: Future[Columns | None] = Future()
        future.set_result(self._describe(chunk))
        return future

    def columns(self) -> Columns | None:
        """The schema every chunk agreed on, or None (no files, or chunks disagreed).

        Ends the probe: files staged afterwards are not probed.
        """
        if self._result is not None or self._failed:
            return self._result
        self._submit()
        finish = self._finish_backlog()
        result: Columns | None = None
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

    def _finish_backlog(self) -> ThreadPoolExecutor | None:
        """Extraction is over: the chunks not started yet get all the cores."""
        backlog = [chunk for future, chunk in self._futures if future.cancel()]
        if len(backlog) > 1:
            finish = ThreadPoolExecutor(
                max_workers=PROBE_WORKERS, thread_name_prefix="rest-assets-probe"
            )
            self._futures = [(f, c) for f, c in self._futures if not f.cancelled()]
            self._futures += [(finish.submit(self._describe, c), c) for c in backlog]
            return finish
        if backlog:
            self._futures = [
                (self._describe_now(c), c) if f.cancelled() else (f, c) for f, c in self._futures
            ]
        return None

    def close(self) -> None:
        """Stop probing and close the probe's connections."""
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
