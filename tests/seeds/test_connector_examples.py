"""The read/write REST connector spec's examples, loaded as the spec prints them and run end
to end against loopback servers answering like the examples' APIs.

The files under data/connector/ are the spec's CONFIG blocks copied verbatim (comments too);
their hosts are served on loopback through tests/seeds/loopback.py (HTTPS_PROXY and a test
CA), so not even the URLs are changed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from rest_assets import ConfigError, build_definitions, load_project
from rest_assets.cli import main
from rest_assets.demo.server import Request, Response
from tests.seeds.loopback import HostsProxy
from tests.seeds.support import (
    CONNECTOR,
    assert_secret_absent,
    failure_text,
    latest_metadata,
    materialize,
    rows,
    serve,
)

API_TOKEN = "tok-3c1f9a7e5b2d"
CRM_TOKEN = "crm-88d2e6f04a91"


def _customers(count: int) -> list[dict[str, Any]]:
    return [
        {
            "customer_id": f"c-{i:05d}",
            "created_at": f"2025-01-{1 + i % 28:02d}T08:30:00Z",
            "email": f"user{i}@example.com",
            "plan": "pro" if i % 3 else "free",
        }
        for i in range(count)
    ]


def _today() -> str:
    return datetime.now(timezone.utc).date().isoformat()


# --- Minimal example ------------------------------------------------------------------------


def test_minimal_example_one_request_whole_body_is_the_records(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path, capsys: Any
) -> None:
    api = serve(hosts, "api.example.com")
    api.route("GET", "/v1/customers", lambda r: Response(_customers(3)))
    config = CONNECTOR / "minimal.yml"

    assert main(["validate", str(config)]) == 0
    out = capsys.readouterr().out
    assert "source minimal (read/write REST connector, named after the file name 'minimal')" in out
    assert (
        "CONFIG.inputs.customers -> minimal/customers: GET https://api.example.com/v1/customers"
        in out
    )
    assert "pages single_page" in out and "records at the whole body" in out

    db = tmp_path / "minimal.duckdb"
    result = materialize(build_definitions(config, database=db), instance)
    assert result.success, failure_text(result)
    # absent pagination: exactly one request, with no parameters of ours
    (request,) = api.requests_to("/v1/customers")
    assert request.query == {} and request.header("Authorization") is None
    assert rows(db, "SELECT customer_id, plan FROM raw_minimal.customers ORDER BY 1") == [
        ("c-00000", "free"),
        ("c-00001", "pro"),
        ("c-00002", "pro"),
    ]
    assert latest_metadata(instance, ["minimal", "customers"])["dagster/row_count"] == 3


def test_a_single_object_body_is_one_record(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    api = serve(hosts, "api.example.com")
    api.route("GET", "/v1/customers", lambda r: Response({"customer_id": "c-1", "n": 1}))
    db = tmp_path / "one.duckdb"
    result = materialize(build_definitions(CONNECTOR / "minimal.yml", database=db), instance)
    assert result.success, failure_text(result)
    assert rows(db, "SELECT customer_id, n FROM raw_minimal.customers") == [("c-1", 1)]


# --- Full example ---------------------------------------------------------------------------


class CustomersAPI:
    """`GET /v1/customers?offset&limit` answering `{"data": [...], "meta": {"total": n}}`,
    bearer-protected, failing chosen requests with 503 once."""

    def __init__(self, hosts: HostsProxy, count: int) -> None:
        self.records = _customers(count)
        self.fail_once: set[int] = set()  # offsets answered 503 the first time
        self.api = serve(hosts, "api.example.com")
        self.api.route("GET", "/v1/customers", self._page)

    def _page(self, request: Request) -> Response:
        if request.header("Authorization") != f"Bearer {API_TOKEN}":
            return Response({"error": "unauthorized"}, 401)
        offset, limit = int(request.arg("offset") or 0), int(request.arg("limit") or 10)
        if offset in self.fail_once:
            self.fail_once.discard(offset)
            return Response({"error": "busy"}, 503, {"Retry-After": "0"})
        page = self.records[offset : offset + limit]
        return Response({"data": page, "meta": {"total": len(self.records)}})

    def requests(self) -> list[Request]:
        return self.api.requests_to("/v1/customers")


def test_full_example_offset_pages_auth_params_retries_and_schema(
    hosts: HostsProxy,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("API_TOKEN", API_TOKEN)
    api = CustomersAPI(hosts, count=250)
    api.fail_once = {100}  # retry_on: [429, 503]
    project = load_project(CONNECTOR / "full.yml")
    # `{{ env.API_TOKEN }}` is kept as a reference, never resolved at load
    auth = project.sources[0].client.auth
    assert auth is not None and auth.model_dump()["token"] == "${API_TOKEN}"

    db = tmp_path / "db" / "full.duckdb"
    db.parent.mkdir()
    before = _today()
    result = materialize(build_definitions(CONNECTOR / "full.yml", database=db), instance)
    after = _today()
    assert result.success, failure_text(result)

    sent = api.requests()
    # 0, 100 (503), 100 again, 200 (50 records: fewer than page_size, so the last page)
    assert [r.arg("offset") for r in sent] == ["0", "100", "100", "200"]
    assert {r.arg("limit") for r in sent} == {"100"}
    assert {r.arg("status") for r in sent} == {"active"}
    assert {r.arg("since") for r in sent} <= {before, after}  # {{ dt }}: today in UTC
    assert {r.header("Accept") for r in sent} == {"application/json"}
    assert {r.header("Authorization") for r in sent} == {f"Bearer {API_TOKEN}"}

    assert rows(db, "SELECT count(*), count(DISTINCT customer_id) FROM raw_full.customer_data") == [
        (250, 250)
    ]
    types = dict(
        rows(
            db,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw_full' AND table_name = 'customer_data'",
        )
    )
    assert types["customer_id"] == "VARCHAR"
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE"  # declared `timestamp`
    assert types["email"] == "VARCHAR"
    assert "plan" in types  # undeclared fields still land, typed from the data
    metadata = latest_metadata(instance, ["full", "customer_data"])
    assert metadata["dagster/row_count"] == 250

    assert "GET https://api.example.com/v1/customers" in caplog.text  # request logs were kept
    scanned = assert_secret_absent(
        [API_TOKEN],
        texts=[caplog.text, *capfd.readouterr()],
        folders=[db.parent, Path(instance.root_directory)],
    )
    assert scanned > 2


def test_full_example_stops_at_max_pages(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_TOKEN", API_TOKEN)
    api = CustomersAPI(hosts, count=5_050)  # 51 pages of 100; max_pages: 50
    db = tmp_path / "capped.duckdb"
    result = materialize(build_definitions(CONNECTOR / "full.yml", database=db), instance)
    assert result.success, failure_text(result)
    assert len(api.requests()) == 50
    assert rows(db, "SELECT count(*) FROM raw_full.customer_data") == [(5_000,)]


def test_full_example_without_the_token_fails_the_run_naming_the_variable(
    hosts: HostsProxy, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    api = CustomersAPI(hosts, count=3)
    defs = build_definitions(CONNECTOR / "full.yml", database=tmp_path / "x.duckdb")
    result = materialize(defs, instance)
    assert not result.success
    assert "API_TOKEN is not set" in failure_text(result)
    assert api.requests() == []


# --- Write example --------------------------------------------------------------------------


def test_write_example_alone_has_no_rows_to_send_and_says_how_to_name_them() -> None:
    with pytest.raises(ConfigError) as info:
        load_project(CONNECTOR / "write.yml")
    message = str(info.value)
    assert "CONFIG.outputs.predictions_api" in message
    assert "add from:" in message


def test_write_example_sends_the_read_rows_in_batches_with_its_auth(
    hosts: HostsProxy,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The spec's Write block next to its Minimal read, in one CONFIG (each block as printed)."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("API_TOKEN", API_TOKEN)
    read = yaml.safe_load((CONNECTOR / "minimal.yml").read_text())
    write = yaml.safe_load((CONNECTOR / "write.yml").read_text())
    config = {"CONFIG": {**read["CONFIG"], **write["CONFIG"]}}
    api = serve(hosts, "api.example.com")
    api.route("GET", "/v1/customers", lambda r: Response(_customers(250)))
    received: list[list[dict[str, Any]]] = []

    def predictions(request: Request) -> Response:
        if request.header("Authorization") != f"Bearer {API_TOKEN}":
            return Response({"error": "unauthorized"}, 401)
        received.append(request.json())
        return Response({"accepted": len(received[-1])}, 201)

    api.route("POST", "/v1/predictions", predictions)
    db = tmp_path / "db" / "write.duckdb"
    db.parent.mkdir()
    defs = build_definitions(config, database=db)
    graph = defs.resolve_asset_graph()
    output = dg.AssetKey(["connector", "predictions_api"])
    assert graph.get(output).parent_keys == {dg.AssetKey(["connector", "customers"])}

    result = materialize(defs, instance)
    assert result.success, failure_text(result)
    assert [len(batch) for batch in received] == [100, 100, 50]  # batch_size: 100
    assert sorted(r["customer_id"] for b in received for r in b) == [
        c["customer_id"] for c in _customers(250)
    ]
    posts = api.requests_to("/v1/predictions", "POST")
    assert {p.header("Content-Type") for p in posts} == {"application/json"}
    # the read has no auth in its block: the output's token is not sent with it
    (get,) = api.requests_to("/v1/customers")
    assert get.header("Authorization") is None
    metadata = latest_metadata(instance, ["connector", "predictions_api"])
    assert metadata["rows_sent"] == 250 and metadata["batches"] == 3
    assert_secret_absent(
        [API_TOKEN], texts=[caplog.text], folders=[db.parent, Path(instance.root_directory)]
    )


# --- Customer sync pipeline -----------------------------------------------------------------


def test_customer_sync_example_follows_next_links_and_skips_the_delta_output(
    hosts: HostsProxy,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: Any,
) -> None:
    monkeypatch.setenv("CRM_TOKEN", CRM_TOKEN)
    api = serve(hosts, "crm.example.com")
    people = _customers(7)

    def page(request: Request) -> Response:
        if request.header("Authorization") != f"Bearer {CRM_TOKEN}":
            return Response({"error": "unauthorized"}, 401)
        number = int(request.arg("page") or 1)
        chunk = people[(number - 1) * 3 : number * 3]
        following = f"https://crm.example.com/api/v2/customers?page={number + 1}"
        return Response({"results": chunk, "next": following if number < 3 else None})

    api.route("GET", "/api/v2/customers", page)
    # a copy: the warning is logged once per file and process, and other tests load the seed
    config = tmp_path / "customer_sync.yml"
    config.write_text((CONNECTOR / "customer_sync.yml").read_text())
    caplog.set_level(logging.WARNING, logger="rest_assets.config")
    db = tmp_path / "sync.duckdb"
    defs = build_definitions(config, database=db)
    warnings = [r.getMessage() for r in caplog.records if r.name == "rest_assets.config"]
    assert len(warnings) == 1
    assert (
        "CONFIG.outputs.customers_delta: format 'delta' is not something rest-assets does"
        in (warnings[0])
    )
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {"customer_sync/crm_customers"}

    result = materialize(defs, instance)
    assert result.success, failure_text(result)
    assert [r.arg("page") for r in api.requests_to("/api/v2/customers")] == [None, "2", "3"]
    assert rows(db, "SELECT count(*) FROM raw_customer_sync.crm_customers") == [(7,)]

    assert main(["validate", str(config)]) == 0
    out = capsys.readouterr().out
    assert "skipped CONFIG.outputs.customers_delta: format 'delta'" in out
    assert "transform: noop" in out


def test_a_file_named_sources_takes_its_name_from_model(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sources.yml").write_text((CONNECTOR / "customer_sync.yml").read_text())
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 0  # found as sources.yml in the working directory
    out = capsys.readouterr().out
    assert "source etl (read/write REST connector, named after MODEL 'etl')" in out
    assert "etl/crm_customers" in out
