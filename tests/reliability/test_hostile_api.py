"""A hostile API, run through Dagster against real loopback servers: its data is never
configuration, and the credentials of the configured API never reach another host.

`main` is the configured API; `evil` is a second server on another port, the host a hostile
answer tries to send our credentials to. Every test checks what the servers really received.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from rest_assets import build_definitions
from rest_assets.demo.server import LocalAPI, Request, Response
from tests.reliability.harness import error_text, record

SECRET = "canary-secret-7c41e9d2b8"
TOKEN = "canary-token-2b9d4e71aa"
KEY = "canary-key-91f3a0c6de"
CLIENT_SECRET = "canary-client-secret-4e8a"


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LocalAPI, LocalAPI]]:
    monkeypatch.setenv("HOSTILE_SECRET", SECRET)
    monkeypatch.setenv("HOSTILE_TOKEN", TOKEN)
    monkeypatch.setenv("HOSTILE_KEY", KEY)
    monkeypatch.setenv("HOSTILE_PREFIX", "pre-")
    with LocalAPI() as main, LocalAPI() as evil:
        evil.route("GET", "/", lambda r: Response({"data": [{"id": 99}], "next": None}), True)
        evil.route("POST", "/", lambda r: Response({"access_token": "evil-token"}), True)
        yield main, evil


def _client(main: LocalAPI, **extra: Any) -> dict[str, Any]:
    return {
        "base_url": main.url,
        "auth": {"type": "bearer", "token": "${HOSTILE_TOKEN}"},
        "headers": {"X-Api-Key": "${HOSTILE_KEY}"},
        "rate_limit": {"max_retries": 0},
        **extra,
    }


def _run(
    sources: list[dict[str, Any]], instance: dg.DagsterInstance, db: Path
) -> dg.ExecuteInProcessResult:
    defs = build_definitions({"sources": sources}, database=db)
    return dg.materialize(
        list(defs.assets or []), instance=instance, resources=defs.resources, raise_on_error=False
    )


def _dump(db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        return "\n".join(
            str(con.execute(f'SELECT * FROM "{s}"."{t}"').fetchall()) for s, t in tables
        )


def _rows(db: Path, table: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(found[0]) if found else 0


def _credentials(requests: list[Request]) -> list[str]:
    """Every credential of `main` that reached a server in these requests."""
    text = str([(r.path, r.query, r.headers, r.body) for r in requests])
    return [name for name, v in [("token", TOKEN), ("key", KEY)] if v in text]


def _cause(text: str, marker: str = "") -> str:
    """The root cause's line (from `marker` on, when given)."""
    last = text.strip().splitlines()[-1]
    if marker and marker in last:
        return last[last.index(marker) :]
    return last.split(": ", 2)[-1] if last.lstrip().startswith("- ") else last


# -- data is never configuration -------------------------------------------------------------


def test_env_references_inside_api_data_are_never_resolved(
    servers: tuple[LocalAPI, LocalAPI], shared_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    main, _ = servers
    hostile = "hi ${HOSTILE_SECRET}"
    main.route(
        "GET",
        "/posts",
        lambda r: Response({"data": [{"id": 1, "title": hostile, "tag": "${HOSTILE_SECRET}"}]}),
    )
    main.route("GET", "/search", lambda r: Response({"data": [{"hit": r.arg("q")}]}))
    cursor = "z-${HOSTILE_SECRET}"
    main.route(
        "GET",
        "/events",
        lambda r: Response({"data": [{"id": 1, "at": cursor, "since": r.arg("since")}]}),
    )
    source = {
        "name": "datavars",
        "client": _client(main),
        "resources": [
            {"name": "posts", "endpoint": {"path": "posts", "data_selector": "data"}},
            {
                "name": "search",
                "endpoint": {
                    "path": "search",
                    "data_selector": "data",
                    "paginator": "single_page",
                    # a config reference and a value from data in one template
                    "params": {"q": "${HOSTILE_PREFIX}{resources.posts.title}"},
                    "headers": {"X-Tag": "{resources.posts.tag}"},
                    "json": {"tag": "{resources.posts.tag}"},
                    "method": "GET",
                },
            },
            {
                "name": "events",
                "write_disposition": "append",
                "primary_key": "id",
                "endpoint": {
                    "path": "events",
                    "data_selector": "data",
                    "paginator": "single_page",
                    "params": {"since": "{incremental.start_value}"},
                    "incremental": {"cursor_path": "at", "initial_value": "a"},
                },
            },
        ],
    }
    db = tmp_path / "w.duckdb"
    assert _run([source], shared_instance, db).success
    assert _run([source], shared_instance, db).success  # the cursor, `z-${...}`, is sent
    search = main.requests_to("/search")[-1]
    assert search.arg("q") == "pre-hi ${HOSTILE_SECRET}"  # the config's own ref resolved
    assert search.header("X-Tag") == "${HOSTILE_SECRET}"
    assert search.json() == {"tag": "${HOSTILE_SECRET}"}
    sent_cursors = [r.arg("since") for r in main.requests_to("/events")]
    assert sent_cursors == ["a", cursor]
    every_request = [*main.requests, *servers[1].requests]
    assert SECRET not in str([(r.query, r.headers, r.body) for r in every_request])
    assert SECRET not in _dump(db)
    record(
        "`${VAR}` in a parent field and in a cursor value (params, header, json body)",
        1,
        _rows(db, "raw_datavars.search"),
        "a",
        cursor,
        "run succeeded; sent as text, never resolved; secret in no request, no table",
    )


# -- credentials stay home -------------------------------------------------------------------


def _confusing(evil: LocalAPI, main: LocalAPI, path: str) -> str:
    """A URL that urlsplit reads as `main` and requests sends to `evil`."""
    return f"http://127.0.0.1:{evil.port}\\@127.0.0.1:{main.port}{path}"


@pytest.mark.parametrize("via", ["json next link", "Link header", "Location redirect"])
def test_a_url_read_two_ways_gets_no_credentials(
    via: str,
    servers: tuple[LocalAPI, LocalAPI],
    shared_instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    main, evil = servers
    target = _confusing(evil, main, "/p2")
    paginator: Any = {"type": "json_link", "next_url_path": "next"}
    if via == "json next link":
        main.route("GET", "/items", lambda r: Response({"data": [{"id": 1}], "next": target}))
    elif via == "Link header":
        paginator = "header_link"
        main.route(
            "GET",
            "/items",
            lambda r: Response({"data": [{"id": 1}]}, headers={"Link": f'<{target}>; rel="next"'}),
        )
    else:
        main.route("GET", "/items", lambda r: Response(b"", 307, {"Location": target}))
    name = "confused" + str(["json next link", "Link header", "Location redirect"].index(via))
    source = {
        "name": name,
        "client": _client(main, paginator=paginator),
        "resources": [{"name": "items", "endpoint": {"path": "items", "data_selector": "data"}}],
    }
    db = tmp_path / "w.duckdb"
    result = _run([source], shared_instance, db)
    assert result.success, error_text(result)
    reached = evil.requests
    assert reached, "the URL really goes to the other host"
    assert _credentials(reached) == []
    assert all(r.header("Authorization") is None for r in reached)
    assert _credentials(main.requests) == ["token", "key"]  # main got them, as it should
    found = _rows(db, f"raw_{name}.items")
    record(
        f"{via} `http://evil:P\\@trusted:P/p2` (urlsplit: trusted, sent: evil)",
        found,
        found,
        None,
        None,
        "run succeeded; followed to the host it really names, without bearer/api key",
    )


def test_a_url_from_parent_data_is_not_trusted(
    servers: tuple[LocalAPI, LocalAPI], shared_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    main, evil = servers
    main.route(
        "GET",
        "/parents",
        lambda r: Response(
            {
                "data": [
                    {"id": 1, "url": f"{main.url}/detail/1"},
                    {"id": 2, "url": f"{evil.url}/steal"},
                ]
            }
        ),
    )
    main.route("GET", "/detail/1", lambda r: Response({"id": 1, "ok": True}))
    source = {
        "name": "dataurl",
        "client": _client(main),
        "resources": [
            {"name": "parents", "endpoint": {"path": "parents", "data_selector": "data"}},
            {"name": "details", "endpoint": {"path": "{resources.parents.url}"}},
        ],
    }
    db = tmp_path / "w.duckdb"
    result = _run([source], shared_instance, db)
    assert result.success, error_text(result)
    (stolen,) = evil.requests_to("/steal")
    assert _credentials([stolen]) == []
    (home,) = main.requests_to("/detail/1")
    assert home.header("Authorization") == f"Bearer {TOKEN}"  # the base URL's origin: trusted
    record(
        "`path: '{resources.parents.url}'`, a parent url pointing to another host",
        2,
        _rows(db, "raw_dataurl.details"),
        None,
        None,
        "run succeeded; that host got no credentials, the base URL's host did",
    )


def test_path_values_from_data_cannot_leave_the_path(
    servers: tuple[LocalAPI, LocalAPI], shared_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    main, _ = servers
    parents = [{"id": "a?x=1#f"}]
    main.route("GET", "/parents", lambda r: Response({"data": parents}))
    main.route("GET", "/items/", lambda r: Response({"data": [{"path": r.path}]}), True)
    main.route("POST", "/oauth/token", lambda r: Response({"access_token": "x"}))
    main.route("GET", "/oauth/token", lambda r: Response({"data": [{"leak": True}]}))
    source = {
        "name": "pathvals",
        "client": _client(main),
        "resources": [
            {"name": "parents", "endpoint": {"path": "parents", "data_selector": "data"}},
            {
                "name": "children",
                "endpoint": {
                    "path": "items/{resources.parents.id}/detail",
                    "data_selector": "data",
                    "paginator": "single_page",
                },
            },
        ],
    }
    db = tmp_path / "w.duckdb"
    assert _run([source], shared_instance, db).success
    (encoded,) = main.requests_to("/items/")
    assert encoded.path == "/items/a%3Fx=1%23f/detail" and encoded.query == {}
    record(
        "parent id `a?x=1#f` in `items/{resources.parents.id}/detail`",
        1,
        _rows(db, "raw_pathvals.children"),
        None,
        None,
        "run succeeded; sent percent-encoded as one path segment, no query injected",
    )

    parents[:] = [{"id": "../../oauth/token?x="}]
    result = _run([source], shared_instance, db)
    assert not result.success
    text = error_text(result)
    assert "resource 'children': endpoint.path" in text and "{resources.parents.id}" in text
    assert "'../../oauth/token?x='" in text and "relative step" in text
    assert main.requests_to("/oauth/token") == []
    record(
        "parent id `../../oauth/token?x=` in a child path",
        1,
        _rows(db, "raw_pathvals.children"),
        None,
        None,
        "failed: " + _cause(text).split(": ", 1)[-1],
    )


def _oauth_source(main: LocalAPI, name: str, **client: Any) -> dict[str, Any]:
    return {
        "name": name,
        "client": {
            "base_url": main.url,
            "auth": {
                "type": "oauth2_client_credentials",
                "access_token_url": f"{main.url}/oauth/token",
                "client_id": "me",
                "client_secret": CLIENT_SECRET,
            },
            "rate_limit": {"max_retries": 0},
            **client,
        },
        "resources": [{"name": "items", "endpoint": {"path": "items", "data_selector": "data"}}],
    }


@pytest.mark.parametrize("status", [307, 308])
def test_oauth_token_endpoint_redirect_is_never_followed(
    status: int,
    servers: tuple[LocalAPI, LocalAPI],
    shared_instance: dg.DagsterInstance,
    tmp_path: Path,
) -> None:
    main, evil = servers
    main.route(
        "POST", "/oauth/token", lambda r: Response(b"", status, {"Location": f"{evil.url}/t"})
    )
    main.route("GET", "/items", lambda r: Response({"data": [{"id": 1}]}))
    result = _run([_oauth_source(main, f"tokenredir{status}")], shared_instance, tmp_path / "w.db")
    assert not result.success
    text = error_text(result)
    assert f"answered with a redirect ({status})" in text and "never redirected" in text
    assert evil.requests == []  # the client secret went nowhere else
    assert main.requests_to("/items") == []  # and no token from elsewhere was used
    assert CLIENT_SECRET not in text
    record(
        f"OAuth2 token endpoint answers {status} to another host",
        0,
        0,
        None,
        None,
        "failed: " + _cause(text, "OAuth2 "),
    )


def test_oauth_token_gzip_bomb_is_refused_at_the_client_limit(
    servers: tuple[LocalAPI, LocalAPI], shared_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    main, _ = servers
    bomb = gzip.compress(b'{"access_token": "' + b"a" * (64 * 1024 * 1024) + b'"}')
    assert len(bomb) < 1024 * 1024
    main.route(
        "POST", "/oauth/token", lambda r: Response(bomb, headers={"Content-Encoding": "gzip"})
    )
    main.route("GET", "/items", lambda r: Response({"data": [{"id": 1}]}))
    source = _oauth_source(main, "tokenbomb", max_response_bytes=4 * 1024 * 1024)
    result = _run([source], shared_instance, tmp_path / "w.db")
    assert not result.success
    text = error_text(result)
    assert "OAuth2 token request" in text and "max_response_bytes=4194304" in text
    assert main.requests_to("/items") == []
    record(
        "OAuth2 token endpoint: 0.1 MB gzip expanding to 64 MB",
        0,
        0,
        None,
        None,
        "failed: refused at client.max_response_bytes (4 MiB), like a page",
    )


def test_oauth_token_endpoint_that_never_answers_hits_client_timeout(
    servers: tuple[LocalAPI, LocalAPI],
    shared_instance: dg.DagsterInstance,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    main, _ = servers
    main.route("POST", "/oauth/token", lambda r: Response({"access_token": "t"}, delay=5))
    main.route("GET", "/items", lambda r: Response({"data": [{"id": 1}]}))
    caplog.set_level(logging.WARNING)
    result = _run([_oauth_source(main, "tokenslow", timeout=1)], shared_instance, tmp_path / "w")
    assert not result.success
    text = error_text(result)
    assert "OAuth2 token request" in text and "ReadTimeout" in text
    record(
        "OAuth2 token endpoint answers after 5 s, client.timeout: 1",
        0,
        0,
        None,
        None,
        "failed: " + _cause(text, "OAuth2 "),
    )
