"""A step's commits take turns on the DuckDB file, which stays open while commits queue
and is released for other processes as soon as none waits."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import duckdb

from rest_assets.load import CommitTurns
from rest_assets.load.connection import connection

OTHER_PROCESS_OPENS = (
    "import duckdb, sys\n"
    "try:\n"
    "    duckdb.connect(sys.argv[1], read_only=True).close()\n"
    "except duckdb.Error:\n"
    "    sys.exit(3)\n"
)


def _other_process_can_open(path: Path) -> bool:
    done = subprocess.run([sys.executable, "-c", OTHER_PROCESS_OPENS, str(path)], timeout=60)
    return done.returncode == 0


def _write(path: Path, value: int) -> None:
    with connection(path) as con:
        con.execute("INSERT INTO t VALUES (?)", [value])


def test_queued_commits_keep_the_file_open_then_release_it(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with connection(path) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
    turns = CommitTurns(path)
    first_inside, release = threading.Event(), threading.Event()
    seen: list[tuple[bool, int]] = []

    def first() -> None:
        with turns.turn():
            first_inside.set()
            release.wait(10)
            _write(path, 1)
            seen.append((turns.held, turns.waiting))

    def second() -> None:
        with turns.turn():
            seen.append((turns.held, turns.waiting))
            _write(path, 2)

    a = threading.Thread(target=first)
    a.start()
    assert first_inside.wait(10)
    assert not _other_process_can_open(path)  # the turn holds the file lock
    b = threading.Thread(target=second)
    b.start()
    while turns.waiting < 2:
        threading.Event().wait(0.01)
    release.set()
    a.join(10)
    b.join(10)
    # the second commit queued behind the first, which left the database open for it
    assert seen == [(True, 2), (True, 1)]
    assert not turns.held
    assert _other_process_can_open(path)  # released once no commit waited
    con = duckdb.connect(str(path), read_only=True)
    assert sorted(v for (v,) in con.execute("SELECT a FROM t").fetchall()) == [1, 2]
    con.close()


def test_a_failed_commit_ends_its_turn_and_releases_the_file(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    turns = CommitTurns(path)
    try:
        with turns.turn():
            raise RuntimeError("the commit failed")
    except RuntimeError:
        pass
    assert not turns.held and turns.waiting == 0
    assert _other_process_can_open(path)
