"""Credentials inside the URL itself: userinfo in the base URL (requests turns it into a
Basic header) and a `${VAR}` in the base URL's path (a bot token, webhook style). Neither
may show in exception text, DEBUG logs, the Dagster event log or the instance's files."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from rest_assets import build_definitions
from rest_assets.cli import main
from rest_assets.demo.server import LocalAPI, Request, Response
from tests.reliability.harness import error_text, record

PASSWORD = "canary-userinfo-6d1f0b"
BOT_TOKEN = "9911:canary-bot-token-a5c2"
PAIR = base64.b64encode(f"bob:{PASSWORD}".encode()).decode()


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAPI]:
    monkeypatch.setenv("CANARY_BOT_TOKEN", BOT_TOKEN)
    with LocalAPI() as server:
        yield server


def _echo(request: Request) -> Response:
    # a hostile server reflecting what it got (path and Authorization) into its error body
    return Response({"error": f"{request.path} {request.header('Authorization')}"}, 403)


def test_userinfo_and_path_tokens_in_the_base_url_are_masked(
    api: LocalAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    api.route("GET", f"/bot{BOT_TOKEN}/items", _echo)
    caplog.set_level(logging.DEBUG)
    host = api.url.removeprefix("http://")
    source = {
        "name": "urlsecrets",
        "client": {
            "base_url": f"http://bob:{PASSWORD}@{host}/bot${{CANARY_BOT_TOKEN}}/",
            "rate_limit": {"max_retries": 0},
            "show_error_body": True,
        },
        "resources": [{"name": "items", "endpoint": {"path": "items", "data_selector": "data"}}],
    }
    home = tmp_path / "home"
    home.mkdir()
    defs = build_definitions({"sources": [source]}, database=tmp_path / "w.duckdb")
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        result = dg.materialize(
            list(defs.assets or []),
            instance=instance,
            resources=defs.resources,
            raise_on_error=False,
        )
        events = "\n".join(str(e) for e in instance.all_logs(result.run_id))
    assert not result.success
    (sent,) = api.requests_to(f"/bot{BOT_TOKEN}/items")
    assert sent.header("Authorization") == f"Basic {PAIR}"  # really sent, as configured
    text = error_text(result)
    assert "status 403" in text and "resource 'items'" in text
    files = "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in home.rglob("*") if p.is_file()
    )
    places = {
        "exception": text,
        "DEBUG logs": caplog.text,
        "event log": events,
        "instance files": files,
    }
    leaks = {
        where: [name for name, v in [("password", PASSWORD), ("pair", PAIR), ("bot", BOT_TOKEN)]
                if v in found]
        for where, found in places.items()
    }  # fmt: skip
    assert {k: v for k, v in leaks.items() if v} == {}
    record(
        "userinfo `bob:pw@` and `/bot${TOKEN}/` in base_url, a 403 echoing both",
        0,
        0,
        None,
        None,
        "failed as it should (403); password, Basic pair and token masked in " + ", ".join(places),
    )


def test_inspect_and_add_never_write_credentials_from_a_pasted_url(
    api: LocalAPI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "canary-pasted-key-3e7b"
    api.route("GET", "/items", lambda r: Response({"data": [{"id": 1, "name": "a"}]}))
    host = api.url.removeprefix("http://")
    pasted = f"http://bob:{PASSWORD}@{host}/items?api_key={key}&page_size=5"

    assert main(["inspect", pasted]) == 0
    shown = capsys.readouterr().out
    (sent,) = api.requests_to("/items")
    assert sent.arg("api_key") == key  # the inspection itself used the key as given
    assert key not in shown and PASSWORD not in shown and PAIR not in shown
    assert "api_key: ${API_KEY}" in shown and "page_size=5" in shown
    assert main(["inspect", pasted, "--json"]) == 0
    as_json = capsys.readouterr().out
    assert key not in as_json and PASSWORD not in as_json

    config = tmp_path / "sources.yml"
    assert main(["init", str(config)]) == 0
    before = config.read_text()
    refusals = []
    for flags in (
        ["--base-url", f"http://bob:{PASSWORD}@{host}", "--endpoint", "items"],
        ["--base-url", api.url, "--endpoint", f"items?api_key={key}"],
    ):
        code = main(["add", str(config), "--name", "pasted", *flags, "--yes"])
        refusals.append(capsys.readouterr().err)
        assert code == 1
    assert config.read_text() == before  # nothing written
    assert all("refusing" in r and key not in r and PASSWORD not in r for r in refusals)
    assert "user:password@" in refusals[0] and "api_key=***" in refusals[1]
    record(
        "`inspect` / `add` of a pasted URL with `user:pw@` and `?api_key=<literal>`",
        0,
        0,
        None,
        None,
        "inspect prints ${API_KEY} and no userinfo; add refuses both, like --token; "
        "sources.yml unchanged",
    )
