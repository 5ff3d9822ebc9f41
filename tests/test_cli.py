"""The `rest-assets` CLI: validate, materialize with a persistent instance, and the demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from rest_assets.cli import main
from rest_assets.demo.api import DemoAPI

DEMO_YAML = Path(__file__).resolve().parents[1] / "rest_assets" / "demo" / "sources.yml"


def test_validate_lists_assets_and_lineage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(DEMO_YAML)]) == 0
    out = capsys.readouterr().out
    assert "valid, 3 asset(s)" in out
    assert "blog/comments  <- blog/posts" in out


def test_validate_reports_config_errors_with_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "sources.yml"
    bad.write_text(
        "sources:\n  - name: api\n    client: {base_url: 'https://x.example'}\n"
        "    resources:\n      - name: a\n        endpoint: {path: a, data_selectr: x}\n"
    )
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "resources[0](a).endpoint.data_selectr" in err
    assert "did you mean 'data_selector'" in err


def test_materialize_select_with_persistent_instance(
    demo_api: DemoAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    db = tmp_path / "cli.duckdb"
    code = main(["materialize", str(DEMO_YAML), "--select", "users", "--database", str(db)])
    assert code == 0
    out = capsys.readouterr().out
    assert "directory/users" in out and "40 rows" in out
    assert "blog/posts" not in out
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_latest_materialization_event(dg.AssetKey(["directory", "users"]))
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_directory.users").fetchone()[0] == 40


def test_materialize_failure_exits_non_zero(
    demo_api: DemoAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DEMO_API_TOKEN", "wrong-token")
    code = main(
        [
            "materialize",
            str(DEMO_YAML),
            "--select",
            "users",
            "--database",
            str(tmp_path / "x.duckdb"),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "401" in err and "users" in err
    assert "wrong-token" not in err


def test_unknown_selection_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    assert main(["materialize", str(DEMO_YAML), "--select", "nope"]) == 1
    assert "matches no asset" in capsys.readouterr().err


def test_demo_command_end_to_end(tmp_path: Path) -> None:
    """The console script a new user runs first, as a real subprocess."""
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home")}
    script = Path(sys.executable).parent / "rest-assets"
    done = subprocess.run(
        [str(script), "demo", "--database", str(tmp_path / "demo.duckdb")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "blog/posts" in done.stdout and "250 rows" in done.stdout
    assert "directory/users" in done.stdout and "40 rows" in done.stdout
    assert "sample query" in done.stdout
    # Dagster's console shows the INFO lines of the run, not its DEBUG event stream
    assert "raw_blog.posts: 250 rows written" in done.stderr
    assert "STEP_START" not in done.stderr and "HANDLED_OUTPUT" not in done.stderr


def test_materialize_partitioned_assets_need_a_partition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rest_assets.demo.server import LocalAPI, Request, Response

    def events(request: Request) -> Response:
        day = (request.arg("from") or "")[:10]
        return Response([{"id": f"{day}-{i}", "day": day} for i in range(3)])

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    with LocalAPI() as api:
        api.route("GET", "/events", events)
        config = tmp_path / "sources.yml"
        config.write_text(
            "sources:\n  - name: ev\n"
            f"    client: {{base_url: '{api.url}'}}\n"
            "    resources:\n"
            "      - name: events\n"
            "        partitions: {type: daily, start: '2024-01-01'}\n"
            "        endpoint: {path: events, params: {from: '{partition.start}'}}\n"
            "      - name: plain\n"
            "        endpoint: events\n"
        )
        db = str(tmp_path / "p.duckdb")
        assert main(["materialize", str(config), "--database", db]) == 0
        captured = capsys.readouterr()
        assert "ev/plain" in captured.out
        assert "skipped (partitioned, pass --partition KEY): ev/events" in captured.err
        assert len(api.requests_to("/events")) == 1

        code = main(
            [
                "materialize",
                str(config),
                "--select",
                "events",
                "--database",
                db,
                "--partition",
                "2024-01-02",
            ]
        )
        assert code == 0
        assert "ev/events" in capsys.readouterr().out
        assert api.requests_to("/events")[-1].arg("from", "").startswith("2024-01-02")
    with duckdb.connect(db, read_only=True) as con:
        days = con.execute("SELECT DISTINCT CAST(day AS VARCHAR) FROM raw_ev.events").fetchall()
    assert days == [("2024-01-02",)]
