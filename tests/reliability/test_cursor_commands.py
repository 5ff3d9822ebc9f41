"""`rest-assets cursor set|reset` against a careless hand: a value of the wrong kind, and a
reset that would append everything again."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from rest_assets import asset_key
from rest_assets.cli import main
from rest_assets.dagster.state import read_cursor
from tests.reliability.faulty_api import FaultyAPI, stamp
from tests.reliability.harness import incremental_source, record
from tests.reliability.processes import write_config


def _rows(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute("SELECT count(*) FROM raw_curcmd.items").fetchone()
    return int(found[0]) if found else 0


def test_cursor_set_and_reset_refuse_what_would_break_the_next_runs(
    api: FaultyAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    config = write_config(tmp_path / "sources.yml", incremental_source(api.url, "curcmd"))
    db = tmp_path / "w.duckdb"
    api.add(10)
    assert main(["materialize", str(config), "--database", str(db)]) == 0
    key = asset_key("curcmd", "items")

    def cursor() -> str | None:
        with dg.DagsterInstance.get() as instance:
            state = read_cursor(instance, key).state
        return None if state is None else str(state.last_value)

    assert cursor() == stamp(10)
    capsys.readouterr()
    for wrong in ("42", "yesterday"):
        assert main(["cursor", "set", str(config), "items", wrong]) == 1
        err = capsys.readouterr().err
        assert "cannot be compared with the cursor's values" in err and stamp(10) in err
    assert main(["cursor", "reset", str(config), "items"]) == 1
    err = capsys.readouterr().err
    assert "appends" in err and "--yes" in err and "duplicates" in err
    assert cursor() == stamp(10)  # nothing moved
    assert main(["materialize", str(config), "--database", str(db)]) == 0
    assert _rows(db) == 10
    record(
        "`cursor set` 42 / 'yesterday' on a timestamp cursor; `cursor reset` of an append "
        "resource without --yes",
        10,
        _rows(db),
        stamp(10),
        cursor(),
        "all refused (exit 1) saying why; cursor and table unchanged, next run loads nothing twice",
    )

    assert main(["cursor", "set", str(config), "items", stamp(5)]) == 0  # the right kind
    assert cursor() == stamp(5)
    assert main(["cursor", "reset", str(config), "items", "--yes"]) == 0
    assert cursor() is None
