"""Bounded work against unbounded APIs: an endless paginator stops at max_pages, a 200 MB
response is refused at max_response_bytes without ever being held in memory."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from tests.reliability.faulty_api import FaultyAPI, stamp
from tests.reliability.harness import Harness, record
from tests.reliability.processes import result_of, spawn, write_config

MIB = 1024 * 1024


def test_endless_paginator_stops_at_max_pages(harness: Harness, api: FaultyAPI) -> None:
    source = harness.source_config()
    source["resources"][0]["endpoint"]["max_pages"] = 5
    harness.build(source)
    api.fault("endless", page=None, times=None)  # every page links to one more
    assert harness.run().success
    state = harness.state()
    assert (state.rows, state.distinct, state.cursor) == (50, 50, stamp(50))
    assert api.pages_served() == [1, 2, 3, 4, 5]
    record(
        "endless next links, max_pages: 5",
        50,
        state.rows,
        None,
        state.cursor,
        "run succeeded after exactly 5 requests",
    )


def test_200_mb_response_is_refused_without_buffering_it(api: FaultyAPI, tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    api.add(30)
    source = {
        "name": "big",
        "client": {
            "base_url": api.url,
            "paginator": {"type": "json_link", "next_url_path": "next"},
            "rate_limit": {"max_retries": 1},
        },
        "resources": [{"name": "items", "endpoint": {"path": "items", "data_selector": "data"}}],
    }
    config = write_config(tmp_path / "big.yml", source)
    db = tmp_path / "big.duckdb"
    with dg.instance_for_test(temp_dir=str(home)):
        child = spawn(config, db, home, serve=True)
        try:
            assert result_of(child) == {"ready": True}
            runs = {}
            for name, options in [
                ("healthy", None),
                ("declared", {"megabytes": 200}),
                ("chunked", {"megabytes": 200, "chunked": True}),
            ]:
                if options is not None:
                    api.fault("huge", page=1, times=1, **options)
                assert child.stdin is not None
                child.stdin.write("run\n")
                child.stdin.flush()
                runs[name] = result_of(child)
            child.stdin.write("exit\n")
            child.stdin.flush()
        finally:
            child.kill()
            child.wait(10)

    assert runs["healthy"]["success"]
    base = runs["healthy"]["maxrss_kb"] * 1024
    declared, chunked = runs["declared"], runs["chunked"]
    assert not declared["success"] and not chunked["success"]
    assert "resource 'items'" in declared["error"] and f"{api.url}/items" in declared["error"]
    assert "200.0 MiB body (Content-Length)" in declared["error"]
    assert "max_response_bytes=134217728" in declared["error"]
    assert "stopped reading at 128.0 MiB" in chunked["error"], chunked["error"]
    # peak RSS: nothing read for the declared body, at most the limit for the chunked one
    declared_growth = declared["maxrss_kb"] * 1024 - base
    chunked_growth = chunked["maxrss_kb"] * 1024 - base
    assert declared_growth < 32 * MIB, declared_growth / MIB
    assert chunked_growth < 170 * MIB, chunked_growth / MIB
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_big.items").fetchone() == (30,)
    for name, run in [("Content-Length", declared), ("chunked", chunked)]:
        record(
            f"200 MB response ({name})",
            30,
            30,
            None,
            None,
            "failed: refused at max_response_bytes (128 MiB); child peak RSS "
            f"{run['maxrss_kb'] // 1024} MiB (after a healthy run: {base // MIB} MiB); "
            "table unchanged",
        )
