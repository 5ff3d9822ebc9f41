"""Every HTTP feature reachable from YAML, proven through build_definitions and Dagster."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from rest_assets import asset_key, build_definitions
from rest_assets.demo.server import LocalAPI, Request, Response

ITEMS = [{"id": i, "name": f"item {i}"} for i in range(1, 26)]


@pytest.fixture
def api() -> Iterator[LocalAPI]:
    with LocalAPI() as server:
        yield server


def _run(tmp_path: Path, instance: dg.DagsterInstance, source: dict) -> dg.ExecuteInProcessResult:
    config = tmp_path / "sources.yml"
    config.write_text(yaml.safe_dump({"sources": [source]}))
    defs = build_definitions(config, database=tmp_path / "w.duckdb")
    return dg.materialize(
        list(defs.assets or []), instance=instance, resources=defs.resources, raise_on_error=False
    )


def _rows(tmp_path: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        return con.execute(f"SELECT id FROM {table} ORDER BY id").fetchall()


def test_api_key_in_query_offset_paginator_and_rate_limit(
    api: LocalAPI, instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ITEMS_KEY", "k-123456")

    def items(request: Request) -> Response:
        if request.arg("apikey") != "k-123456":
            return Response({"error": "bad key"}, 403)
        offset, limit = int(request.arg("offset") or 0), int(request.arg("limit") or 0)
        return Response({"items": ITEMS[offset : offset + limit], "total": len(ITEMS)})

    api.route("GET", "/items", items)
    source = {
        "name": "shop",
        "client": {
            "base_url": api.url,
            "auth": {
                "type": "api_key",
                "name": "apikey",
                "api_key": "${ITEMS_KEY}",
                "location": "query",
            },
            "rate_limit": {"requests_per_second": 50},
        },
        "resources": [
            {
                "name": "items",
                "endpoint": {
                    "path": "items",
                    "data_selector": "items",
                    "paginator": {"type": "offset", "limit": 10},
                },
            }
        ],
    }
    assert _run(tmp_path, instance, source).success
    assert len(_rows(tmp_path, "raw_shop.items")) == 25
    assert [r.arg("offset") for r in api.requests_to("/items")] == ["0", "10", "20"]


def test_oauth2_client_credentials_and_header_link(
    api: LocalAPI, instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CID", "client-one")
    monkeypatch.setenv("CSECRET", "secret-two")

    def token(request: Request) -> Response:
        expected = base64.b64encode(b"client-one:secret-two").decode()
        if request.header("Authorization") != f"Basic {expected}":
            return Response({"error": "invalid_client"}, 401)
        return Response({"access_token": "tok-abc", "expires_in": 3600})

    def pages(request: Request) -> Response:
        if request.header("Authorization") != "Bearer tok-abc":
            return Response({"error": "unauthorized"}, 401)
        page = int(request.arg("page") or 1)
        headers = {}
        if page < 3:
            headers["Link"] = f'<{api.url}/things?page={page + 1}>; rel="next"'
        return Response(ITEMS[(page - 1) * 10 : page * 10], headers=headers)

    api.route("POST", "/oauth/token", token)
    api.route("GET", "/things", pages)
    source = {
        "name": "crm",
        "client": {
            "base_url": api.url,
            "auth": {
                "type": "oauth2_client_credentials",
                "access_token_url": f"{api.url}/oauth/token",
                "client_id": "${CID}",
                "client_secret": "${CSECRET}",
                "client_auth": "client_secret_basic",
            },
            "paginator": "header_link",
        },
        "resources": ["things"],
    }
    result = _run(tmp_path, instance, source)
    assert result.success
    assert len(_rows(tmp_path, "raw_crm.things")) == 25
    assert len(api.requests_to("/oauth/token")) == 1
    meta = instance.get_latest_materialization_event(asset_key("crm", "things"))
    assert meta is not None and meta.asset_materialization is not None
    assert meta.asset_materialization.metadata["pages"].value == 3


def test_post_cursor_body_response_actions_and_max_pages(
    api: LocalAPI, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    def search(request: Request) -> Response:
        body = request.json() or {}
        assert body["query"] == {"kind": "all"}
        cursor = int(body.get("page", {}).get("after") or 0)
        rows = ITEMS[cursor : cursor + 5]
        nxt = cursor + 5 if cursor + 5 < len(ITEMS) else None
        return Response({"results": rows, "next": None if nxt is None else str(nxt)})

    def gone(request: Request) -> Response:
        return Response({"error": "gone"}, 410)

    def missing(request: Request) -> Response:
        return Response({"error": "missing"}, 404)

    api.route("POST", "/search", search)
    api.route("GET", "/old", gone)
    api.route("GET", "/maybe", missing)
    source = {
        "name": "find",
        "client": {"base_url": api.url},
        "resources": [
            {
                "name": "hits",
                "endpoint": {
                    "path": "search",
                    "method": "POST",
                    "json": {"query": {"kind": "all"}},
                    "data_selector": "results",
                    "max_pages": 3,
                    "paginator": {
                        "type": "cursor",
                        "cursor_path": "next",
                        "cursor_body_path": "page.after",
                    },
                },
            },
            {
                "name": "old",
                "endpoint": {
                    "path": "old",
                    "response_actions": [{"status_code": 410, "action": "support.steps:mark_gone"}],
                },
            },
            {
                "name": "maybe",
                "endpoint": {
                    "path": "maybe",
                    "response_actions": [{"status_code": 404, "action": "ignore"}],
                },
            },
        ],
    }
    result = _run(tmp_path, instance, source)
    assert result.success, result.get_step_failure_events()
    assert len(_rows(tmp_path, "raw_find.hits")) == 15  # max_pages: 3 pages of 5
    assert len(api.requests_to("/search")) == 3
    meta = instance.get_latest_materialization_event(asset_key("find", "maybe"))
    assert meta is not None and meta.asset_materialization is not None
    assert meta.asset_materialization.metadata["records_extracted"].value == 0


def test_response_action_typo_fails_at_definitions_load(tmp_path: Path) -> None:
    from rest_assets.errors import ConfigError

    config = tmp_path / "sources.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "name": "x",
                        "client": {"base_url": "https://x.example"},
                        "resources": [
                            {
                                "name": "a",
                                "endpoint": {
                                    "path": "a",
                                    "response_actions": [
                                        {
                                            "status_code": 404,
                                            "action": "support.steps:no_such_function",
                                        }
                                    ],
                                },
                            }
                        ],
                    }
                ]
            }
        )
    )
    with pytest.raises(ConfigError, match=r"response_actions\[0\].action"):
        build_definitions(config, database=tmp_path / "w.duckdb")
