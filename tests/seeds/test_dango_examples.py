"""Dango's documented projects as they are on disk, run with the CLI from the project folder.

Each folder under data/dango/ holds an example's `.dango/sources.yml` (and the `.env` or
`.dlt/secrets.toml` the page shows) copied verbatim. The test copies the folder, changes into
it and runs `rest-assets validate` and `rest-assets materialize` with no config argument,
as a Dango user would run `dango sync`; the examples' hosts answer on loopback
(tests/seeds/loopback.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rest_assets.cli import main
from rest_assets.demo.server import LocalAPI, Request, Response
from tests.seeds.loopback import HostsProxy
from tests.seeds.support import assert_secret_absent, copy_project, rows, serve


@dataclass
class Run:
    """One CLI run in a copied project folder."""

    folder: Path
    database: Path
    dagster_home: Path
    code: int
    out: str
    err: str
    logs: str

    def count(self, table: str) -> int:
        return int(rows(self.database, f"SELECT count(*) FROM {table}")[0][0])


def _run(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    caplog: pytest.LogCaptureFixture,
) -> tuple[Run, str]:
    """`validate` then `materialize` in a copy of the project; returns the run and the
    validate output."""
    folder = copy_project(name, tmp_path)
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.chdir(folder)
    caplog.set_level(logging.DEBUG)
    assert main(["validate"]) == 0, capsys.readouterr().err
    validated = capsys.readouterr().out
    code = main(["--log-level", "DEBUG", "materialize"])
    captured = capsys.readouterr()
    run = Run(
        folder,
        folder / ".dango" / "warehouse.duckdb",
        home,
        code,
        captured.out,
        captured.err,
        caplog.text,
    )
    return run, validated


def _bearer(token: str, answer: Any) -> Any:
    def handler(request: Request) -> Response:
        if request.header("Authorization") != f"Bearer {token}":
            return Response({"error": "unauthorized"}, 401)
        return answer(request) if callable(answer) else Response(answer)

    return handler


def _no_secret(run: Run, *secrets: str) -> None:
    scanned = assert_secret_absent(
        secrets,
        texts=[run.out, run.err, run.logs],
        folders=[run.dagster_home, run.database.parent],
    )
    assert scanned > 2 and run.database.exists()


def test_acme_source_bearer_token_from_the_projects_env_file(
    hosts: HostsProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, caplog: Any
) -> None:
    api = serve(hosts, "api.example.com")
    token = "your_token_here"  # as the page's .env has it
    orders = [{"id": i, "total": 10.5 * i} for i in range(1, 6)]
    customers = [{"id": i, "name": f"c{i}"} for i in range(1, 4)]
    api.route("GET", "/v2/orders", _bearer(token, {"data": {"orders": orders}}))
    api.route("GET", "/v2/customers", _bearer(token, {"data": {"customers": customers}}))
    run, validated = _run("acme", tmp_path, monkeypatch, capsys, caplog)
    assert "source acme (Dango type: rest_api)" in validated
    assert "sources[0].rest_api.endpoints[0] -> acme/orders: GET orders" in validated
    assert run.code == 0, run.err
    assert (run.count("raw_acme.orders"), run.count("raw_acme.customers")) == (5, 3)
    assert len(api.requests_to("/v2/orders")) == 1
    _no_secret(run, token)


def test_configuration_reference_example(
    hosts: HostsProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, caplog: Any
) -> None:
    token, custom = "ref-token-5a0c8e", "workspace-42"
    monkeypatch.setenv("MY_API_TOKEN", token)
    monkeypatch.setenv("MY_ENV_VAR", custom)
    api = serve(hosts, "api.example.com")

    def orders(request: Request) -> Response:
        page = int(request.arg("page") or 0)
        chunk = [{"order_id": page * 10 + i, "status": "active"} for i in range(3)]
        return Response({"data": {"orders": chunk if page < 2 else []}})

    def customers(request: Request) -> Response:
        page = int(request.arg("page") or 1)
        link = {"Link": '<https://api.example.com/v2/customers?page=2>; rel="next"'}
        return Response({"data": [{"id": page}]}, headers=link if page == 1 else {})

    api.route("GET", "/v2/orders", _bearer(token, orders))
    api.route("GET", "/v2/customers", _bearer(token, customers))
    api.route("GET", "/v2/config", _bearer(token, {"currency": "EUR", "timezone": "UTC"}))
    run, _ = _run("reference", tmp_path, monkeypatch, capsys, caplog)
    assert run.code == 0, run.err
    sent = api.requests_to("/v2/orders")
    assert [r.arg("page") for r in sent] == ["0", "1", "2"]
    assert {r.arg("status") for r in sent} == {"active"}
    every = [*sent, *api.requests_to("/v2/customers"), *api.requests_to("/v2/config")]
    assert {r.header("Accept") for r in every} == {"application/json"}
    assert {r.header("X-Custom") for r in every} == {custom}
    assert run.count("raw_my_api.orders") == 6
    assert rows(run.database, "SELECT id FROM raw_my_api.customers ORDER BY 1") == [(1,), (2,)]
    assert rows(run.database, "SELECT currency FROM raw_my_api.config") == [("EUR",)]
    _no_secret(run, token)


def test_jsonplaceholder_example_without_auth(
    hosts: HostsProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, caplog: Any
) -> None:
    api = serve(hosts, "jsonplaceholder.typicode.com")
    api.route("GET", "/posts", lambda r: Response([{"id": i, "userId": 1} for i in range(1, 101)]))
    api.route("GET", "/users", lambda r: Response([{"id": i} for i in range(1, 11)]))
    api.route("GET", "/comments", lambda r: Response([{"id": i} for i in range(1, 501)]))
    run, _ = _run("jsonplaceholder", tmp_path, monkeypatch, capsys, caplog)
    assert run.code == 0, run.err
    counts = [run.count(f"raw_jsonplaceholder.{t}") for t in ("posts", "users", "comments")]
    assert counts == [100, 10, 500]
    assert all(r.header("Authorization") is None for r in api.requests)


def _link_pages(token: str, pages: list[list[dict[str, Any]]], path: str) -> Any:
    """GitHub-style: absolute `Link: <...&page=2>; rel="next"` until the last page."""

    def handler(request: Request) -> Response:
        page = int(request.arg("page") or 1)
        headers = {}
        if page < len(pages):
            query = "&".join(f"{k}={v[0]}" for k, v in request.query.items() if k != "page")
            headers["Link"] = (
                f'<https://api.github.com{path}?{query}&page={page + 1}>; rel="next", '
                f'<https://api.github.com{path}?{query}&page={len(pages)}>; rel="last"'
            )
        return Response(pages[page - 1], headers=headers)

    return _bearer(token, handler)


def test_github_example_header_links_params_and_accept(
    hosts: HostsProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, caplog: Any
) -> None:
    token = "ghp_your_personal_access_token"
    api = serve(hosts, "api.github.com")
    repos = [
        [{"id": i, "full_name": f"me/r{i}"} for i in range(p * 100, p * 100 + 100)] for p in (0, 1)
    ]
    repos.append([{"id": 999, "full_name": "me/last"}])
    api.route("GET", "/user/repos", _link_pages(token, repos, "/user/repos"))
    api.route("GET", "/user/starred", _link_pages(token, [[{"id": 1}, {"id": 2}]], "/user/starred"))
    run, _ = _run("github", tmp_path, monkeypatch, capsys, caplog)
    assert run.code == 0, run.err
    sent = api.requests_to("/user/repos")
    assert [(r.arg("page"), r.arg("per_page"), r.arg("sort")) for r in sent] == [
        (None, "100", "updated"),
        ("2", "100", "updated"),
        ("3", "100", "updated"),
    ]
    assert {r.header("Accept") for r in api.requests} == {"application/vnd.github.v3+json"}
    assert (run.count("raw_github.repos"), run.count("raw_github.starred_repos")) == (201, 2)
    _no_secret(run, token)


def test_shopify_example_custom_header_and_page_info_links(
    hosts: HostsProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, caplog: Any
) -> None:
    token = "shpat_your_access_token"
    api = serve(hosts, "mystore.myshopify.com")
    base = "https://mystore.myshopify.com/admin/api/2024-01"

    def listing(key: str, count: int) -> Any:
        def handler(request: Request) -> Response:
            if request.header("X-Shopify-Access-Token") != token:
                return Response({"errors": "unauthorized"}, 401)
            cursor = request.arg("page_info")
            start = int(cursor or 0)
            chunk = [{"id": i} for i in range(start, min(start + 2, count))]
            headers = {}
            if start + 2 < count:
                headers["Link"] = f'<{base}/{key}.json?limit=250&page_info={start + 2}>; rel="next"'
            return Response({key: chunk}, headers=headers)

        return handler

    for key, count in (("orders", 5), ("products", 2), ("customers", 3)):
        api.route("GET", f"/admin/api/2024-01/{key}.json", listing(key, count))
    run, _ = _run("shopify", tmp_path, monkeypatch, capsys, caplog)
    assert run.code == 0, run.err
    sent = api.requests_to("/admin/api/2024-01/orders.json")
    # Shopify rejects status next to page_info: a next link's query replaces the params
    assert [dict(r.query) for r in sent] == [
        {"status": ["any"], "limit": ["250"]},
        {"limit": ["250"], "page_info": ["2"]},
        {"limit": ["250"], "page_info": ["4"]},
    ]
    counts = [run.count(f"raw_shopify.{t}") for t in ("orders", "products", "customers")]
    assert counts == [5, 2, 3]
    _no_secret(run, token)


def test_tutorial_rest_source_reads_its_token_from_dlt_secrets(
    hosts: HostsProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, caplog: Any
) -> None:
    token = "your-api-token-here"  # in .dlt/secrets.toml under [sources.rest_api]
    monkeypatch.delenv("MY_API_TOKEN", raising=False)
    api = serve(hosts, "api.example.com")
    api.route("GET", "/users", _bearer(token, [{"id": 1}, {"id": 2}]))
    api.route("GET", "/orders", _bearer(token, [{"id": 10, "status": "completed"}]))
    run, validated = _run("tutorial_rest", tmp_path, monkeypatch, capsys, caplog)
    assert ".dlt/secrets.toml" in validated and "MY_API_TOKEN" in validated
    assert token not in validated
    assert run.code == 0, run.err
    assert [r.arg("status") for r in api.requests_to("/orders")] == ["completed"]
    assert (run.count("raw_my_api.users"), run.count("raw_my_api.orders")) == (2, 1)
    _no_secret(run, token)


def test_no_config_anywhere_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 1
    err = capsys.readouterr().err
    assert "neither sources.yml nor .dango/sources.yml" in err
    assert "rest-assets validate path/to/sources.yml" in err


def test_sources_yml_is_preferred_to_the_dango_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    folder = copy_project("jsonplaceholder", tmp_path)
    (folder / "sources.yml").write_text(
        "sources:\n  - name: mine\n    client: {base_url: 'https://x.example'}\n"
        "    resources: [things]\n"
    )
    monkeypatch.chdir(folder)
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sources.yml: valid") and "mine/things" in out


def test_the_proxy_refuses_hosts_no_test_serves(hosts: HostsProxy) -> None:
    """The proxy refuses hosts no test serves (nothing leaves the machine)."""
    import requests

    serve(hosts, "api.example.com")
    with pytest.raises(requests.exceptions.ProxyError):
        requests.get("https://example.org/", timeout=5)
    assert hosts.refused == ["CONNECT example.org:443 HTTP/1.0"]
    hosts.refused.clear()
    assert isinstance(hosts.hosts["api.example.com"], LocalAPI)
