"""The connector spec's auth, pagination, response and schema snippets, each placed in the
Minimal example's input as printed, and run end to end against loopback."""

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
    CONNECTOR,
    assert_secret_absent,
    failure_text,
    materialize,
    rows,
    serve,
)

FRAGMENTS = CONNECTOR / "fragments"
SECRETS = {
    "API_TOKEN": "tok-77aa02b9c4",
    "API_KEY": "key-5e0d13f8a2",
    "API_USER": "svc-reader-41",
    "API_PASS": "pw-c9b8a7f6e5",
}


def _config(*fragments: str) -> dict[str, Any]:
    """The Minimal example with the snippets added to its input."""
    config = yaml.safe_load((CONNECTOR / "minimal.yml").read_text())
    entry = config["CONFIG"]["inputs"]["customers"]
    for name in fragments:
        entry.update(yaml.safe_load((FRAGMENTS / f"{name}.yml").read_text()))
    return config


def _records(count: int) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"n{i}"} for i in range(count)]


@pytest.mark.parametrize(
    ("fragment", "accepted"),
    [
        ("auth_bearer", lambda r: r.header("Authorization") == f"Bearer {SECRETS['API_TOKEN']}"),
        ("auth_api_key_header", lambda r: r.header("X-Api-Key") == SECRETS["API_KEY"]),
        ("auth_api_key_param", lambda r: r.arg("api_key") == SECRETS["API_KEY"]),
        (
            "auth_basic",
            lambda r: (
                r.header("Authorization")
                == "Basic " + base64.b64encode(b"svc-reader-41:pw-c9b8a7f6e5").decode()
            ),
        ),
    ],
)
def test_auth_snippets(
    fragment: str,
    accepted: Any,
    hosts: HostsProxy,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    api = serve(hosts, "api.example.com")
    api.route(
        "GET",
        "/v1/customers",
        lambda r: Response(_records(2)) if accepted(r) else Response({"error": "no"}, 401),
    )
    db = tmp_path / "db" / "auth.duckdb"
    db.parent.mkdir()
    result = materialize(build_definitions(_config(fragment), database=db), instance)
    assert result.success, failure_text(result)
    assert rows(db, "SELECT count(*) FROM raw_connector.customers") == [(2,)]
    assert len(api.requests_to("/v1/customers")) == 1
    assert_secret_absent(
        SECRETS.values(), texts=[caplog.text], folders=[db.parent, Path(instance.root_directory)]
    )


def test_offset_snippet_stops_at_the_first_short_page(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    data = _records(450)
    api = serve(hosts, "api.example.com")

    def page(request: Request) -> Response:
        offset, limit = int(request.arg("offset") or 0), int(request.arg("limit") or 0)
        # a total that would say "more": the spec stops on the short page regardless
        return Response(data[offset : offset + limit], headers={"X-Total": "9999"})

    api.route("GET", "/v1/customers", page)
    db = tmp_path / "offset.duckdb"
    result = materialize(build_definitions(_config("pagination_offset"), database=db), instance)
    assert result.success, failure_text(result)
    sent = api.requests_to("/v1/customers")
    assert [(r.arg("offset"), r.arg("limit")) for r in sent] == [
        ("0", "200"),
        ("200", "200"),
        ("400", "200"),
    ]
    assert rows(db, "SELECT count(*) FROM raw_connector.customers") == [(450,)]


def test_offset_snippet_ignores_a_total_in_the_body(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    """Only a page shorter than page_size ends it, as the spec says, even when the body
    carries a `total` that disagrees."""
    data = _records(250)
    api = serve(hosts, "api.example.com")

    def page(request: Request) -> Response:
        offset, limit = int(request.arg("offset") or 0), int(request.arg("limit") or 0)
        return Response({"data": data[offset : offset + limit], "total": 100})

    api.route("GET", "/v1/customers", page)
    db = tmp_path / "total.duckdb"
    config = _config("pagination_offset", "response_root_key")
    result = materialize(build_definitions(config, database=db), instance)
    assert result.success, failure_text(result)
    assert [r.arg("offset") for r in api.requests_to("/v1/customers")] == ["0", "200"]
    assert rows(db, "SELECT count(*) FROM raw_connector.customers") == [(250,)]


def test_cursor_snippet_sends_the_cursor_back_until_it_is_null(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    data = _records(1_200)
    api = serve(hosts, "api.example.com")

    def page(request: Request) -> Response:
        start = int(request.arg("cursor") or 0)
        size = int(request.arg("limit") or 0)
        end = start + size
        return Response(
            {"data": data[start:end], "next_cursor": str(end) if end < len(data) else None}
        )

    api.route("GET", "/v1/customers", page)
    db = tmp_path / "cursor.duckdb"
    config = _config("pagination_cursor", "response_root_key")
    result = materialize(build_definitions(config, database=db), instance)
    assert result.success, failure_text(result)
    sent = api.requests_to("/v1/customers")
    assert [(r.arg("cursor"), r.arg("limit")) for r in sent] == [
        (None, "500"),
        ("500", "500"),
        ("1000", "500"),
    ]
    assert rows(db, "SELECT count(*) FROM raw_connector.customers") == [(1_200,)]


def test_next_link_snippet_follows_until_the_field_is_absent(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    api = serve(hosts, "api.example.com")

    def page(request: Request) -> Response:
        number = int(request.arg("p") or 1)
        body: dict[str, Any] = {"data": _records(3)[number - 1 : number]}
        if number < 3:
            body["next"] = f"https://api.example.com/v1/customers?p={number + 1}"
        return Response(body)

    api.route("GET", "/v1/customers", page)
    db = tmp_path / "link.duckdb"
    config = _config("pagination_next_link", "response_root_key")
    result = materialize(build_definitions(config, database=db), instance)
    assert result.success, failure_text(result)
    assert [r.arg("p") for r in api.requests_to("/v1/customers")] == [None, "2", "3"]
    assert rows(db, "SELECT id FROM raw_connector.customers ORDER BY id") == [(0,), (1,), (2,)]


def test_root_key_snippet_and_schema_snippet(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    api = serve(hosts, "api.example.com")
    body = {
        "data": [{"id": "7", "name": "x", "score": "1.5", "created_at": "2025-03-01T10:00:00Z"}],
        "meta": {"total": 500},
    }
    api.route("GET", "/v1/customers", lambda r: Response(body))
    db = tmp_path / "schema.duckdb"
    config = _config("response_root_key", "schema")
    result = materialize(build_definitions(config, database=db), instance)
    assert result.success, failure_text(result)
    types = dict(
        rows(
            db,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw_connector' AND table_name = 'customers'",
        )
    )
    assert (types["id"], types["name"], types["score"]) == ("BIGINT", "VARCHAR", "DOUBLE")
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert "meta" not in types  # only response["data"] holds records
    assert rows(db, "SELECT id, score FROM raw_connector.customers") == [(7, 1.5)]
