"""The commit turns of a step: one at a time, the file kept open only while commits queue."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from rest_assets.dagster.resource_run import CommitTurns


def _database(tmp_path: Path) -> str:
    path = str(tmp_path / "w.duckdb")
    con = duckdb.connect(path)
    con.execute("CREATE TABLE t (a INTEGER)")
    con.close()
    return path


def _write(path: str, value: int) -> None:
    con = duckdb.connect(path)
    con.execute("INSERT INTO t VALUES (?)", [value])
    con.close()


def test_queued_commits_share_one_open_database_then_release_the_file(tmp_path: Path) -> None:
    path = _database(tmp_path)
    turns = CommitTurns(path)
    first_inside, release = threading.Event(), threading.Event()
    held: list[object] = []

    def first() -> None:
        with turns.turn():
            held.append(turns._held)
            first_inside.set()
            release.wait(10)
            _write(path, 1)

    def second() -> None:
        with turns.turn():
            held.append(turns._held)
            _write(path, 2)

    a = threading.Thread(target=first)
    a.start()
    assert first_inside.wait(10)
    b = threading.Thread(target=second)
    b.start()
    # the second commit is queued behind the first: the first's turn must not close the file
    while turns._waiting < 2:
        threading.Event().wait(0.01)
    release.set()
    a.join(10)
    b.join(10)
    assert len(held) == 2 and held[0] is held[1] is not None
    assert turns._held is None
    # released: a read-only connection (another process would take the file lock) opens
    con = duckdb.connect(path, read_only=True)
    assert sorted(v for (v,) in con.execute("SELECT a FROM t").fetchall()) == [1, 2]
    con.close()


def test_a_commit_waits_for_a_read_only_reader_of_this_process(tmp_path: Path) -> None:
    path = _database(tmp_path)
    reader = duckdb.connect(path, read_only=True)  # e.g. a child reading its parent's rows
    closed = threading.Timer(0.3, reader.close)
    closed.start()
    turns = CommitTurns(path)
    with turns.turn():
        _write(path, 7)
    closed.join()
    con = duckdb.connect(path, read_only=True)
    assert con.execute("SELECT a FROM t").fetchall() == [(7,)]
    con.close()
