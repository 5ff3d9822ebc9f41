"""Dango's REST source page, snippet by snippet: each auth type's `rest_api:` body and each
pagination type's `endpoints:` list as printed, in a source around it, run end to end."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from rest_assets import build_definitions
from rest_assets.demo.server import Request, Response
from tests.seeds.loopback import HostsProxy
from tests.seeds.support import (
    DANGO,
    assert_secret_absent,
    failure_text,
    materialize,
    rows,
    serve,
)

FRAGMENTS = DANGO / "fragments"
SECRETS = {
    "MY_API_TOKEN": "bearer-0f9e8d7c",
    "MY_API_KEY": "apikey-1a2b3c4d",
    "MY_API_USERNAME": "robot-user-7",
    "MY_API_PASSWORD": "pass-6e5d4c3b",
    "MY_API_CLIENT_ID": "client-9a8b7c",
    "MY_API_CLIENT_SECRET": "csecret-2f3e4d5c",
    "SHOPIFY_ACCESS_TOKEN": "shpat-4b5c6d7e",
    "GITHUB_TOKEN": "ghp-8c9d0e1f",
    "MY_WORKSPACE_ID": "ws-31415",
}
ACCESS_TOKEN = "oauth-access-27182818"


def _source(body: dict[str, Any]) -> dict[str, Any]:
    """A Dango source around a snippet's `rest_api:` body."""
    return {"sources": [{"name": "snippet", "type": "rest_api", "enabled": True, **body}]}


def _snippet(name: str) -> dict[str, Any]:
    return yaml.safe_load((FRAGMENTS / f"{name}.yml").read_text())


def _run(config: dict[str, Any], instance: dg.DagsterInstance, db: Path) -> Any:
    result = materialize(build_definitions(config, database=db), instance)
    assert result.success, failure_text(result)
    return result


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


AUTH_CASES = {
    "auth_bearer": ("api.example.com", "/data", lambda r: r.header("Authorization")
                    == f"Bearer {SECRETS['MY_API_TOKEN']}"),
    "auth_api_key_header": ("api.example.com", "/data", lambda r: r.header("X-API-Key")
                            == SECRETS["MY_API_KEY"]),
    "auth_api_key_query": ("api.example.com", "/data", lambda r: r.arg("api_key")
                           == SECRETS["MY_API_KEY"]),
    "auth_basic": ("api.example.com", "/data", lambda r: r.header("Authorization")
                   == _basic(SECRETS["MY_API_USERNAME"], SECRETS["MY_API_PASSWORD"])),
    "auth_oauth2_client_credentials": ("api.example.com", "/data", lambda r: r.header(
        "Authorization") == f"Bearer {ACCESS_TOKEN}"),
    "auth_custom_header": ("mystore.myshopify.com", "/admin/api/2024-01/orders.json",
                           lambda r: r.header("X-Shopify-Access-Token")
                           == SECRETS["SHOPIFY_ACCESS_TOKEN"]),
    "auth_none": ("jsonplaceholder.typicode.com", "/posts",
                  lambda r: r.header("Authorization") is None),
    "custom_headers": ("api.github.com", "/user/repos", lambda r: r.header("Authorization")
                       == f"Bearer {SECRETS['GITHUB_TOKEN']}"
                       and r.header("Accept") == "application/vnd.github.v3+json"
                       and r.header("X-Custom-Header") == "my-value"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(AUTH_CASES))
def test_auth_type_snippets(
    name: str,
    hosts: HostsProxy,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for variable, value in SECRETS.items():
        monkeypatch.setenv(variable, value)
    host, path, accepted = AUTH_CASES[name]
    api = serve(hosts, host)
    records = [{"id": 1}, {"id": 2}]
    body = {"orders": records} if name == "auth_custom_header" else records
    api.route("GET", path, lambda r: Response(body) if accepted(r) else Response({"e": "no"}, 401))
    token_calls: list[Request] = []
    if name == "auth_oauth2_client_credentials":
        auth = serve(hosts, "auth.example.com")

        def token(request: Request) -> Response:
            token_calls.append(request)
            return Response({"access_token": ACCESS_TOKEN, "expires_in": 3600})

        auth.route("POST", "/oauth/token", token)
    db = tmp_path / "db" / "snippet.duckdb"
    db.parent.mkdir()
    _run(_source(_snippet(name)), instance, db)
    table = {"auth_custom_header": "orders", "auth_none": "posts", "custom_headers": "repos"}
    assert rows(db, f"SELECT count(*) FROM raw_snippet.{table.get(name, 'data')}") == [(2,)]
    assert len(api.requests_to(path)) == 1
    if token_calls:
        form = token_calls[0].body.decode()
        assert "grant_type=client_credentials" in form
    assert_secret_absent(
        [*SECRETS.values(), ACCESS_TOKEN],
        texts=[caplog.text],
        folders=[db.parent, Path(instance.root_directory)],
    )


def test_header_values_reference_environment_variables(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_WORKSPACE_ID", SECRETS["MY_WORKSPACE_ID"])
    api = serve(hosts, "jsonplaceholder.typicode.com")
    api.route("GET", "/posts", lambda r: Response([{"id": 1}]))
    body = _snippet("auth_none")
    body["rest_api"].update(_snippet("header_env_reference"))
    _run(_source(body), instance, tmp_path / "h.duckdb")
    (request,) = api.requests_to("/posts")
    assert request.header("X-Workspace-ID") == SECRETS["MY_WORKSPACE_ID"]


def _endpoints_source(name: str) -> dict[str, Any]:
    body = {"rest_api": {"base_url": "https://api.example.com", **_snippet(name)}}
    return _source(body)


def test_pagination_auto_detect(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    api = serve(hosts, "api.example.com")

    def orders(request: Request) -> Response:
        page = int(request.arg("page") or 1)
        following = "https://api.example.com/orders?page=2" if page == 1 else None
        return Response({"data": [{"id": page}], "next": following})

    api.route("GET", "/orders", orders)
    db = tmp_path / "auto.duckdb"
    _run(_endpoints_source("pagination_auto"), instance, db)
    assert rows(db, "SELECT id FROM raw_snippet.orders ORDER BY 1") == [(1,), (2,)]


def test_pagination_header_link(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    api = serve(hosts, "api.example.com")

    def repos(request: Request) -> Response:
        page = int(request.arg("page") or 1)
        link = {"Link": '<https://api.example.com/repos?page=2>; rel="next"'}
        return Response([{"id": page}], headers=link if page == 1 else {})

    api.route("GET", "/repos", repos)
    db = tmp_path / "link.duckdb"
    _run(_endpoints_source("pagination_header_link"), instance, db)
    assert rows(db, "SELECT count(*) FROM raw_snippet.repos") == [(2,)]


def test_pagination_page_number(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    api = serve(hosts, "api.example.com")
    api.route(
        "GET",
        "/items",
        lambda r: Response(
            [{"id": int(r.arg("page") or 0)}] if int(r.arg("page") or 0) < 3 else []
        ),
    )
    db = tmp_path / "pages.duckdb"
    _run(_endpoints_source("pagination_page_number"), instance, db)
    assert [r.arg("page") for r in api.requests_to("/items")] == ["0", "1", "2", "3"]
    assert rows(db, "SELECT count(*) FROM raw_snippet.items") == [(3,)]


def test_pagination_cursor(hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path) -> None:
    api = serve(hosts, "api.example.com")

    def events(request: Request) -> Response:
        cursor = request.arg("cursor")
        if cursor is None:
            return Response({"events": [{"id": 1}], "next_cursor": "c2"})
        return Response({"events": [{"id": 2}], "next_cursor": None})

    api.route("GET", "/events", events)
    db = tmp_path / "cursor.duckdb"
    _run(_endpoints_source("pagination_cursor"), instance, db)
    assert [r.arg("cursor") for r in api.requests_to("/events")] == [None, "c2"]
    assert rows(db, "SELECT count(*) FROM raw_snippet.events") == [(2,)]


def test_pagination_offset(hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path) -> None:
    data = [{"id": i} for i in range(230)]
    api = serve(hosts, "api.example.com")
    api.route(
        "GET",
        "/records",
        lambda r: Response(data[int(r.arg("offset") or 0) : int(r.arg("offset") or 0) + 100]),
    )
    db = tmp_path / "offset.duckdb"
    _run(_endpoints_source("pagination_offset"), instance, db)
    sent = api.requests_to("/records")
    assert [(r.arg("offset"), r.arg("limit")) for r in sent] == [
        ("0", "100"),
        ("100", "100"),
        ("200", "100"),
    ]
    assert rows(db, "SELECT count(*) FROM raw_snippet.records") == [(230,)]


def test_pagination_single_page_and_query_parameters(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    api = serve(hosts, "api.example.com")
    api.route("GET", "/config", lambda r: Response({"currency": "EUR", "next": "ignored"}))
    api.route("GET", "/orders", lambda r: Response([{"id": 1}]))
    source = _endpoints_source("pagination_single_page")
    more = _snippet("query_parameters")["endpoints"]
    source["sources"][0]["rest_api"]["endpoints"].extend(more)
    db = tmp_path / "single.duckdb"
    _run(source, instance, db)
    assert len(api.requests_to("/config")) == 1
    (orders,) = api.requests_to("/orders")
    assert orders.query == {"status": ["active"], "sort": ["created_at"], "per_page": ["100"]}
    assert rows(db, "SELECT currency FROM raw_snippet.config") == [("EUR",)]


def test_tutorial_pagination_snippet(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    api = serve(hosts, "api.example.com")
    api.route(
        "GET",
        "/users",
        lambda r: Response(
            [{"id": int(r.arg("page") or 0)}] if int(r.arg("page") or 0) <= 2 else []
        ),
    )
    db = tmp_path / "tutorial.duckdb"
    _run(_source(_snippet("tutorial_pagination")), instance, db)
    assert [r.arg("page") for r in api.requests_to("/users")] == ["1", "2", "3"]  # start: 1
    assert rows(db, "SELECT id FROM raw_snippet.users ORDER BY 1") == [(1,), (2,)]
