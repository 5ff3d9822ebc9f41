"""DuckDB connections: the one place rest-assets opens a DuckDB database.

Only one process can write a DuckDB file, and a second one fails at once with "Could not set
lock". :func:`connection` retries with exponential backoff (and jitter) until the lock
timeout, so writers in other processes take turns, and closes the connection on exit.
:func:`tune_for_commit` holds the session settings of a commit, :func:`scratch_connection`
opens the in-memory connections the staging probe uses.
"""

from __future__ import annotations

import os
import random
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

import duckdb

from rest_assets.load.errors import DatabaseLockedError, DatabasePathError
from rest_assets.load.sql import quote_literal

PathOrStr = str | PathLike[str]

DEFAULT_LOCK_TIMEOUT = 120.0
# DuckDB's buffer memory during a commit; past it temporary tables spill to disk. Measured on
# the bench (1M records, 293 MB of staged JSON): no limit peaked at 1.2 GiB, see bench/README.md.
DEFAULT_MEMORY_LIMIT = "128MB"

_FIRST_DELAY = 0.05
_MAX_DELAY = 2.0


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "could not set lock" in text or "conflicting lock" in text


def _connect(
    database: PathOrStr,
    *,
    read_only: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file, retrying while another process holds its lock (see `connection`)."""
    path = Path(database)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    # One process opens a file in one configuration at a time (DuckDB refuses a read-write
    # connection while a read-only one is open, and the other way round), and the resources
    # of a step read and commit from several threads: reads use a read-write connection too
    # when the file can be written, so every connection of the process shares one database.
    if read_only and os.access(path, os.W_OK):
        read_only = False
    deadline = time.monotonic() + max(lock_timeout, 0.0)
    delay = _FIRST_DELAY
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.ConnectionException as exc:
            if read_only and "different configuration" in str(exc):
                return duckdb.connect(str(path))
            raise
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DatabaseLockedError(
                    f"DuckDB file {path} stayed locked by another process for "
                    f"{lock_timeout:g} s; raise lock_timeout or serialise the writers "
                    f"(e.g. a Dagster concurrency pool)"
                ) from exc
            # jitter keeps several waiting processes from retrying in lockstep
            time.sleep(min(delay * (0.5 + random.random()), remaining))
            delay = min(delay * 2, _MAX_DELAY)


@contextmanager
def connection(
    database: PathOrStr,
    *,
    read_only: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a DuckDB file, closed on exit (an open transaction is discarded).

    Opening retries with exponential backoff while another process holds the file's lock
    and raises :class:`DatabaseLockedError` after ``lock_timeout`` seconds. Parent
    directories are created for a writable connection. A read-only connection to a file
    this process already has open read-write shares that instance (DuckDB refuses a second
    configuration).
    """
    con = _connect(database, read_only=read_only, lock_timeout=lock_timeout)
    try:
        yield con
    finally:
        con.close()


class CommitTurns:
    """The commits of one process to one DuckDB file: one at a time, the database held open
    while commits queue up.

    DuckDB has one writer per file, and reads of a table just written (checks, a child's
    parents) must see it whole, so commits take turns. Opening the file and closing it (the
    close checkpoints it) cost more than committing a small load: 40 resources of 2,000
    records spent ~0.2 s of each ~0.45 s turn there. A connection held from the first
    waiting commit until none waits keeps the database open, so the commit's, the checks'
    and the reads' own connections share it; the file is released as soon as no commit
    waits, and other processes get it between bursts.
    """

    def __init__(self, database: PathOrStr, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.database = database
        self.lock_timeout = lock_timeout
        self._turn = threading.Lock()
        self._count = threading.Lock()
        self._waiting = 0
        self._held: duckdb.DuckDBPyConnection | None = None

    @property
    def held(self) -> bool:
        """Whether the database is held open (a commit's turn is on)."""
        return self._held is not None

    @property
    def waiting(self) -> int:
        """Commits in their turn or waiting for it."""
        return self._waiting

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this commit's turn; the database stays open until the last waiter ends."""
        with self._count:
            self._waiting += 1
        with self._turn:
            try:
                if self._held is None:
                    self._held = _connect(self.database, lock_timeout=self.lock_timeout)
                yield
            finally:
                with self._count:
                    self._waiting -= 1
                    last = self._waiting == 0
                # inside the turn: a commit that starts waiting now opens the file anew
                if last and self._held is not None:
                    held, self._held = self._held, None
                    held.close()


def tune_for_commit(con: duckdb.DuckDBPyConnection, memory_limit: str | None) -> None:
    """Session settings for a commit (a connection serves one commit, then closes)."""
    con.execute("SET SESSION TimeZone = 'UTC'")
    if memory_limit:
        con.execute(f"SET memory_limit = {quote_literal(memory_limit)}")
    # Keeping the files' row order makes DuckDB buffer out-of-order chunks of its parallel
    # insert: under the memory cap that doubled the insert's time (200k records: 0.93 s ->
    # 0.57 s without it; 1M: 5.5 s -> 2.9 s, and a lower peak). Order within a load is kept
    # where it has meaning: "last one wins" for merge reads explicit row positions.
    con.execute("SET preserve_insertion_order = false")


def lift_memory_limit(con: duckdb.DuckDBPyConnection) -> None:
    """Back to DuckDB's default buffer memory (80% of RAM) for the rest of the session."""
    con.execute("RESET memory_limit")


def scratch_connection(threads: int = 1) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection, for inferring staged files' schema off the database."""
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    return con


# One in-memory DuckDB for every schema probe of the process, a cursor per probe thread:
# creating a database costs ~15-35 ms, as much as inferring a small resource's files (40
# resources of 2,000 records: 1.4 s of CPU). Its one setting is the probes' (one thread).
_probe_lock = threading.Lock()
_probe_database: duckdb.DuckDBPyConnection | None = None


def probe_cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on the process's shared in-memory probe database (one thread a query)."""
    global _probe_database
    with _probe_lock:
        if _probe_database is None:
            _probe_database = scratch_connection(threads=1)
        return _probe_database.cursor()


def _writable(path: Path) -> bool:
    """Writable by this process, and marked writable at all (a file or folder without any
    write permission is read-only even for root, who could write it anyway)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    wanted = os.W_OK | (os.X_OK if path.is_dir() else os.R_OK)
    return bool(mode & 0o222) and os.access(path, wanted)


# DuckDB's storage files carry this magic at byte 8 (after the header's checksum)
_DUCKDB_MAGIC = b"DUCK"


def check_writable(database: PathOrStr) -> None:
    """Refuse, before any work, a database path a commit could not write: a read-only file,
    a directory, a file that is not a DuckDB database, or a folder that cannot be created
    or written. Opens nothing (another process may hold the file's lock meanwhile)."""
    path = Path(database)
    if str(database) == ":memory:":
        return
    if path.is_dir():
        raise DatabasePathError(
            f"DuckDB database {path} is a directory; give a file path, e.g. "
            f"{path / 'warehouse.duckdb'}"
        )
    if path.exists():
        if not _writable(path):
            raise DatabasePathError(
                f"DuckDB database {path} is read-only for this process; make it writable or "
                "choose another --database"
            )
        with path.open("rb") as handle:
            header = handle.read(12)
        if header[8:12] != _DUCKDB_MAGIC:
            what = "is empty" if not header else "holds something else"
            raise DatabasePathError(
                f"{path} is not a DuckDB database (it {what}); choose another file, or move "
                "that one away"
            )
        return
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise DatabasePathError(
            f"DuckDB database {path}: {folder} is a file, so the folder cannot be created"
        )
    if not _writable(folder):
        missing = "" if folder == path.parent else f" (to create {path.parent})"
        raise DatabasePathError(
            f"DuckDB database {path}: cannot write in {folder}{missing}; choose a writable location"
        )
